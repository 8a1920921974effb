import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { checkDatacenter } from './blocking.js'

export function registerOperatorRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/operator/raft/configuration', {
    GET: (req) => {
      checkDatacenter(req, ctx)
      const { servers, index } = ctx.server.operator.raftGetConfiguration()
      return {
        Servers: servers.map((s) => ({ ID: s.id, Node: s.node, Address: s.address, Leader: s.leader, Voter: s.voter, ProtocolVersion: '3' })),
        Index: index,
      }
    },
  })
}
