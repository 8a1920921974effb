import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { HttpError } from '../lib/errors.js'

export function registerAgentRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/agent/self', { GET: () => ctx.agentSelf() })
  router.exact('/v1/agent/reload', {
    PUT: async () => {
      // Consul answers with an empty body; ours says what changed (Go and npm clients ignore it).
      try {
        const report = await ctx.reload()
        return { Applied: report.applied, RestartRequired: report.restartRequired }
      } catch (err) {
        throw new HttpError(500, `Failed reloading: ${(err as Error).message}`)
      }
    },
  })
}
