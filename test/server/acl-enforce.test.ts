/**
 * ACL enforcement in the endpoint layer (every interface goes through it): the matrix on one
 * server with default deny — a token with `key_prefix "web/" write` and `service_prefix "" read`,
 * the anonymous token, and a management token.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { AclNotFoundError, PermissionDeniedError } from '../../src/acl/errors.js'
import type { NodeInput, ServiceInput } from '../../src/state/catalog.js'
import type { KvOp } from '../../src/state/commands.js'
import { settle, setup } from './harness.js'

const MASTER = 'c0ffee00-0000-4000-8000-000000000002'
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const set = (Key: string): KvOp => ({ Verb: 'set', Key, Value: b64('v') })
const node = (name: string): NodeInput => ({ ID: `${name}-id`, Node: name, Address: '10.0.0.9', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} })
const svc = (name: string): ServiceInput => ({ ID: name, Service: name, Tags: [], Address: '', TaggedAddresses: {}, Meta: {}, Port: 80, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Kind: '' })
const denied = (permission: string) => (err: unknown) => err instanceof PermissionDeniedError && err.permission === permission

async function world() {
  const h = setup({ leader: true, more: { newId: randomUUID, acl: { enabled: true, defaultPolicy: 'deny' }, aclInitialManagement: MASTER } })
  h.server.start()
  await settle(h.clock)
  const s = h.server
  const { value: policy } = await s.acl.policySet({ token: MASTER, create: true, policy: { Name: 'web', Rules: 'key_prefix "web/" { policy = "write" }\nservice_prefix "" { policy = "read" }' } })
  const { value: tok } = await s.acl.tokenSet({ token: MASTER, create: true, fields: { Policies: [{ ID: policy.ID }] } })
  for (const k of ['web/a', 'web/b', 'db/x', 'top']) await s.kvs.apply({ token: MASTER, op: set(k) })
  for (const n of ['n1', 'n2']) await s.catalog.register({ token: MASTER, node: node(n), service: svc(`svc-${n}`) })
  return { ...h, s, web: tok.SecretID }
}

test('KV: write and read under web/, 403 elsewhere, recursive reads filtered with the flag', async () => {
  const { s, web } = await world()
  await s.kvs.apply({ token: web, op: set('web/x') })
  await assert.rejects(s.kvs.apply({ token: web, op: set('db/x') }), denied('key:write'))
  await assert.rejects(s.kvs.get({ token: web, key: 'db/x' }), denied('key:read'))
  assert.equal((await s.kvs.get({ token: web, key: 'web/x' })).value.length, 1)
  const all = await s.kvs.list({ token: web, prefix: '' })
  assert.deepEqual(all.value.map((e) => e.Key), ['web/a', 'web/b', 'web/x'])
  assert.equal(all.meta.filteredByAcls, true)
  const keys = await s.kvs.listKeys({ token: web, prefix: '' })
  assert.deepEqual(keys.value, ['web/a', 'web/b', 'web/x'])
  assert.equal(keys.meta.filteredByAcls, true)
  const mine = await s.kvs.list({ token: web, prefix: 'web/' })
  assert.equal(mine.meta.filteredByAcls, undefined, 'nothing left out: no flag')
  // A recursive delete needs write on everything under the prefix.
  await assert.rejects(s.kvs.apply({ token: web, op: { Verb: 'delete-tree', Key: '' } }), denied('key:write'))
  await s.kvs.apply({ token: web, op: { Verb: 'delete-tree', Key: 'web/' } })
  assert.deepEqual((await s.kvs.list({ token: MASTER, prefix: '' })).value.map((e) => e.Key), ['db/x', 'top'])
})

test('Txn: each operation the token may not run is an error of the transaction; reads are filtered', async () => {
  const { s, web } = await world()
  const refused = await s.txn.apply({ token: web, ops: [set('web/t'), set('db/t'), { Verb: 'check-index', Key: 'top', Index: 1 }] })
  assert.equal(refused.value.Results, null)
  assert.deepEqual(refused.value.Errors?.map((e) => e.OpIndex), [1, 2])
  assert.match(refused.value.Errors![0]!.What, /lacks permission 'key:write' on "db\/t"/)
  assert.equal((await s.kvs.get({ token: MASTER, key: 'web/t' })).value.length, 0, 'nothing applied')
  const read = await s.txn.read({ token: web, ops: [{ Verb: 'get', Key: 'web/a' }, { Verb: 'get', Key: 'db/x' }] })
  assert.deepEqual(read.value.Results?.map((r) => r.KV.Key), ['web/a'])
})

test('catalog and health: every service readable, no node, no registration', async () => {
  const { s, web } = await world()
  await assert.rejects(s.catalog.register({ token: web, node: node('n3'), service: svc('x') }), denied('node:write'))
  await assert.rejects(s.catalog.register({ token: web, node: node('n1'), skipNodeUpdate: true, service: svc('x') }), denied('service:write'))
  const services = await s.catalog.listServices({ token: web })
  const all = await s.catalog.listServices({ token: MASTER })
  assert.deepEqual(services.value, all.value)
  assert.ok('svc-n1' in services.value && 'svc-n2' in services.value)
  assert.equal(services.meta.filteredByAcls, undefined)
  const nodes = await s.catalog.listNodes({ token: web })
  assert.deepEqual(nodes.value, [])
  assert.equal(nodes.meta.filteredByAcls, true)
  // An instance needs its node readable too.
  assert.deepEqual((await s.catalog.serviceNodes({ token: web, service: 'svc-n1' })).value, [])
  assert.deepEqual((await s.health.serviceNodes({ token: web, service: 'svc-n1' })).value, [])
  assert.equal((await s.catalog.nodeServices({ token: web, node: 'n1' })).value, null)
})

test('the anonymous token sees nothing; an unknown secret is ACL not found; management does everything', async () => {
  const { s } = await world()
  await assert.rejects(s.kvs.get({ key: 'web/a' }), denied('key:read'))
  assert.deepEqual((await s.kvs.list({ prefix: '' })).value, [])
  assert.deepEqual((await s.catalog.listServices({})).value, {})
  await assert.rejects(s.kvs.get({ token: 'nope', key: 'web/a' }), AclNotFoundError)
  await assert.rejects(s.catalog.listNodes({ token: 'nope' }), AclNotFoundError)
  const all = await s.kvs.list({ token: MASTER, prefix: '' })
  assert.equal(all.value.length, 4)
  assert.equal(all.meta.filteredByAcls, undefined)
  assert.equal((await s.catalog.listNodes({ token: MASTER })).value.length, 2)
  await s.catalog.deregister({ token: MASTER, node: 'n2' })
})

test('sessions, coordinates, operator, snapshots and prepared queries ask for their rules', async () => {
  const { s, web } = await world()
  await assert.rejects(s.session.apply({ token: web, op: 'create', session: { Name: '', Node: 'n1', LockDelay: 0, Behavior: 'release', TTL: '', NodeChecks: [], ServiceChecks: [] } }), denied('session:write'))
  const { value: sid } = await s.session.apply({ token: MASTER, op: 'create', session: { Name: '', Node: 'n1', LockDelay: 0, Behavior: 'release', TTL: '', NodeChecks: [], ServiceChecks: [] } })
  const sessions = await s.session.list({ token: web })
  assert.deepEqual(sessions.value, [])
  assert.equal(sessions.meta.filteredByAcls, true)
  assert.equal((await s.session.list({ token: MASTER })).value[0]?.ID, sid)
  await assert.rejects(s.operator.raftGetConfiguration({ token: web }), denied('operator:read'))
  await assert.rejects(s.snapshot.save({ token: web }), denied('acl:write'))
  await assert.rejects(s.coordinate.update({ token: web, node: 'n1', coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1, Adjustment: 0, Height: 0 } }), denied('node:write'))
  const query = { Name: 'web-q', Session: '', Token: '', Service: { Service: 'svc-n1', Failover: { NearestN: 0, Datacenters: [] }, IgnoreCheckIDs: [], OnlyPassing: false, Near: '', Tags: [], NodeMeta: {}, ServiceMeta: {}, Connect: { Enabled: false } }, DNS: { TTL: '' }, Template: { Type: '', Regexp: '', RemoveEmptyTags: false } }
  await assert.rejects(s.preparedQuery.apply({ token: web, op: 'create', query }), denied('query:write'))
  const { value: qid } = await s.preparedQuery.apply({ token: MASTER, op: 'create', query })
  await assert.rejects(s.preparedQuery.get({ token: web, id: qid }), denied('query:read'))
  assert.equal((await s.preparedQuery.list({ token: web })).meta.filteredByAcls, true)
})

test('a token deleted takes effect at once', async () => {
  const { s, web } = await world()
  assert.equal((await s.kvs.get({ token: web, key: 'web/a' })).value.length, 1)
  const { value: self } = await s.acl.tokenRead({ id: '', self: true, token: web })
  await s.acl.tokenDelete({ token: MASTER, id: self!.AccessorID })
  await assert.rejects(s.kvs.get({ token: web, key: 'web/a' }), AclNotFoundError)
})
