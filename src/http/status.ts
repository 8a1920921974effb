import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import { checkDatacenter } from './blocking.js'
import { Reply } from './reply.js'

/** What Consul's index handler says when no UI is served, so a check pointed at an agent's root passes. */
const ROOT_TEXT = 'Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.'

export function registerStatusRoutes(router: Router, ctx: ApiContext): void {
  // Consul answers its root for any method; other paths outside /v1 stay 404.
  const root = (): Reply => new Reply(200, ROOT_TEXT, 'text/plain; charset=utf-8')
  router.exact('/', { GET: root, HEAD: root, PUT: root, POST: root, DELETE: root })
  router.exact('/v1/status/leader', {
    GET: (req) => {
      return ctx.server.status.leader({ datacenter: checkDatacenter(req, ctx) })
    },
  })
  router.exact('/v1/status/peers', {
    GET: (req) => {
      return ctx.server.status.peers({ datacenter: checkDatacenter(req, ctx) })
    },
  })
}
