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
        Servers: ctx.raft.peers().map((address) => ({
          ID: ctx.nodeId,
          Node: ctx.nodeName,
          Address: address,
          Leader: address === leader,
          Voter: true,
          ProtocolVersion: '3',
        })),
        Index: 1,
      }
    },
  })
}
