/**
 * Every route of the router has its ACL rule in route-acl.ts: adding a route without one fails here
 * (and such a route answers 403 at run time rather than staying open).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildRouter } from '../../src/http/server.js'
import type { ApiContext } from '../../src/http/context.js'
import { ROUTE_ACL, routeRule } from '../../src/http/route-acl.js'

test('every route and method of the router has an ACL rule, and the table names no route that does not exist', () => {
  const routes = buildRouter({} as ApiContext).routes()
  assert.ok(routes.length > 60, `only ${routes.length} routes found`)
  const missing = routes.flatMap((r) => r.methods.filter((m) => routeRule(r.path, m) === undefined).map((m) => `${m} ${r.path}`))
  assert.deepEqual(missing, [], 'routes without an ACL rule')
  const paths = new Set(routes.map((r) => r.path))
  const stale = Object.keys(ROUTE_ACL).filter((p) => !paths.has(p) && !(p === '/v1/acl/' && routes.some((r) => r.path.startsWith('/v1/acl/'))))
  assert.deepEqual(stale, [], 'rules for routes the router does not have')
})

test('the agent\'s own routes are decided at the agent, the replicated state\'s by the endpoint layer', () => {
  assert.deepEqual(routeRule('/v1/agent/self', 'GET'), { by: 'agent', resource: 'agent', need: 'read', name: 'node' })
  assert.deepEqual(routeRule('/v1/operator/keyring', 'PUT'), { by: 'agent', resource: 'keyring', need: 'write', name: 'none' })
  assert.deepEqual(routeRule('/v1/operator/keyring', 'GET'), { by: 'agent', resource: 'keyring', need: 'read', name: 'none' })
  assert.deepEqual(routeRule('/v1/kv/', 'GET'), { by: 'endpoint' })
  assert.deepEqual(routeRule('/v1/acl/token/', 'DELETE'), { by: 'endpoint' })
  assert.deepEqual(routeRule('/v1/status/leader', 'GET'), { by: 'none' })
})
