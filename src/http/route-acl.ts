/**
 * The ACL rule of every route of the router, in one table (test/http/route-acl.test.ts fails for a
 * route without one). Most routes read or change the replicated state, and the server endpoint
 * layer decides and filters (`endpoint`), so every interface and every agent gets the same answer.
 * The agent's own routes are decided here before their handler runs (`agent`), or by the handler
 * with the caller's identity when the answer depends on what it holds (`handler`).
 */
import type { Need } from '../acl/authorizer.js'
import type { Resource } from '../acl/rules.js'
import type { ApiRequest } from './request.js'

export type RouteRule =
  | { by: 'endpoint' }
  | { by: 'none' }
  | { by: 'handler' }
  /** `name`: the agent's node name (`node`), nothing (`none`), or the rest of the path after the route. */
  | { by: 'agent'; resource: Resource; need: Need; name: 'node' | 'none' | 'path' }

const endpoint: RouteRule = { by: 'endpoint' }
const handler: RouteRule = { by: 'handler' }
const none: RouteRule = { by: 'none' }
const agent = (resource: Resource, need: Need, name: 'node' | 'none' | 'path' = 'node'): RouteRule => ({ by: 'agent', resource, need, name })

/** By route path (as registered: exact paths, and prefixes ending in '/'), then by method where they differ. */
export const ROUTE_ACL: Readonly<Record<string, RouteRule | Readonly<Record<string, RouteRule>>>> = {
  '/': none,
  '/v1/status/leader': none,
  '/v1/status/peers': none,
  '/v1/kv/': endpoint,
  '/v1/txn': endpoint,
  '/v1/catalog/register': endpoint,
  '/v1/catalog/deregister': endpoint,
  '/v1/catalog/datacenters': none,
  '/v1/catalog/nodes': endpoint,
  '/v1/catalog/services': endpoint,
  '/v1/catalog/service/': endpoint,
  '/v1/catalog/node/': endpoint,
  '/v1/catalog/node-services/': endpoint,
  '/v1/health/node/': endpoint,
  '/v1/health/checks/': endpoint,
  '/v1/health/service/': endpoint,
  '/v1/health/state/': endpoint,
  '/v1/session/create': endpoint,
  '/v1/session/destroy/': endpoint,
  '/v1/session/renew/': endpoint,
  '/v1/session/info/': endpoint,
  '/v1/session/node/': endpoint,
  '/v1/session/list': endpoint,
  '/v1/query': endpoint,
  '/v1/query/': endpoint,
  '/v1/coordinate/datacenters': none,
  '/v1/coordinate/nodes': endpoint,
  '/v1/coordinate/node/': endpoint,
  '/v1/coordinate/update': endpoint,
  '/v1/operator/raft/configuration': endpoint,
  '/v1/operator/raft/peer': endpoint,
  '/v1/operator/raft/transfer-leader': endpoint,
  '/v1/operator/autopilot/health': endpoint,
  '/v1/operator/keyring': { GET: agent('keyring', 'read', 'none'), POST: agent('keyring', 'write', 'none'), PUT: agent('keyring', 'write', 'none'), DELETE: agent('keyring', 'write', 'none') },
  '/v1/snapshot': endpoint,
  '/v1/event/fire/': agent('event', 'write', 'path'),
  '/v1/event/list': handler,
  '/v1/agent/self': agent('agent', 'read'),
  '/v1/agent/metrics': agent('agent', 'read'),
  '/v1/agent/monitor': agent('agent', 'read'),
  '/v1/agent/host': agent('operator', 'read', 'none'),
  '/debug/pprof/profile': agent('operator', 'read', 'none'),
  '/debug/pprof/heap': agent('operator', 'read', 'none'),
  '/v1/agent/members': handler,
  '/v1/agent/join/': agent('agent', 'write'),
  '/v1/agent/force-leave/': agent('operator', 'write', 'none'),
  '/v1/agent/leave': agent('agent', 'write'),
  '/v1/agent/reload': agent('agent', 'write'),
  '/v1/agent/token/': agent('acl', 'write', 'none'),
  '/v1/agent/services': handler,
  '/v1/agent/service/register': handler,
  '/v1/agent/service/deregister/': handler,
  '/v1/agent/service/maintenance/': handler,
  '/v1/agent/service/': handler,
  // Readiness for load balancers, which carry no token; it says no more than /v1/status/leader.
  '/v1/agent/health': none,
  '/v1/agent/health/service/id/': handler,
  '/v1/agent/health/service/name/': handler,
  '/v1/agent/checks': handler,
  '/v1/agent/check/register': handler,
  '/v1/agent/check/deregister/': handler,
  '/v1/agent/check/pass/': handler,
  '/v1/agent/check/warn/': handler,
  '/v1/agent/check/fail/': handler,
  '/v1/agent/check/update/': handler,
  '/v1/agent/maintenance': agent('node', 'write'),
  '/v1/acl/': endpoint,
  '/v1/internal/ui/services': endpoint,
  '/v1/internal/ui/nodes': endpoint,
  '/v1/internal/ui/node/': endpoint,
}

/** The rule for a request that matched `route` (every /v1/acl/* route is the endpoint's). */
export function routeRule(route: string, method: string): RouteRule | undefined {
  const entry = ROUTE_ACL[route] ?? (route.startsWith('/v1/acl/') ? ROUTE_ACL['/v1/acl/'] : undefined)
  if (!entry) return undefined
  return 'by' in entry ? (entry as RouteRule) : (entry as Record<string, RouteRule>)[method]
}

/** The name an `agent` rule is checked on. */
export function ruleName(rule: Extract<RouteRule, { by: 'agent' }>, req: ApiRequest, route: string, nodeName: string): string {
  if (rule.name === 'node') return nodeName
  if (rule.name === 'path') return req.path.slice(route.length)
  return ''
}
