import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { checkDatacenter } from './blocking.js'

export function registerStatusRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/status/leader', {
    GET: (req) => {
      checkDatacenter(req, ctx)
      return ctx.raft.leaderAddress()
    },
  })
  router.exact('/v1/status/peers', {
    GET: (req) => {
      checkDatacenter(req, ctx)
      return ctx.raft.peers()
    },
  })
}
