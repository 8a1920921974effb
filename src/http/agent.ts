import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { HttpError } from '../lib/errors.js'

export function registerAgentRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/agent/self', { GET: () => ctx.agentSelf() })
  router.exact('/v1/agent/reload', {
    PUT: async () => {
      try {
        await ctx.reload()
      } catch (err) {
        throw new HttpError(500, `Failed reloading: ${(err as Error).message}`)
      }
      return undefined
    },
  })
}
