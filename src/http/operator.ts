import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { checkDatacenter } from './blocking.js'

export function registerOperatorRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/operator/raft/configuration', {
    GET: (req) => {
      checkDatacenter(req, ctx)
      const leader = ctx.raft.leaderAddress()
      // One voter until multi-server raft: this server, in the configuration it bootstrapped at index 1.
      return {
        Servers: ctx.raft.servers().map((s) => ({
          ID: s.id,
          Node: ctx.nodeName,
          Address: s.address,
          Leader: s.address === leader,
          Voter: s.voter,
          ProtocolVersion: '3',
        })),
        Index: 1,
      }
    },
  })
}
