import type { Router } from './router.js'
import type { ApiContext } from './context.js'

export function registerCatalogRoutes(router: Router, ctx: ApiContext): void {
  // Only the local datacenter is known until WAN gossip exists.
  router.exact('/v1/catalog/datacenters', { GET: () => [ctx.datacenter] })
}
