/**
 * The leader's reconcile of LAN members into the catalog: a node the catalog holds but this
 * server's membership has not heard of is deregistered (its sessions destroyed, its locks
 * released) only after staying unknown for the grace period, never the moment a new leader
 * starts, when a member that joined through another server may not have reached it yet.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemberCatalogDuty, type LanMember } from '../../src/server/member-catalog.js'
import { setup, settle } from './harness.js'

test('an unknown node is reaped only after the grace period, and one heard of meanwhile never is', async () => {
  const { clock, server } = setup({ leader: true })
  const token = server.catalog.core.acl.internal
  for (const node of ['c1', 'c2']) {
    await server.catalog.register({ token, node: { ID: `${node}-id`, Node: node, Address: '10.0.0.9', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} }, checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Notes: '', Output: '', ServiceID: '', Type: '', Interval: '', Timeout: '', ExposedPort: 0, Definition: {} }] })
  }
  const session = await server.session.apply({ op: 'create', token, session: { Name: 'lock', Node: 'c1', LockDelay: 0, Behavior: 'release', TTL: '', NodeChecks: [], ServiceChecks: [] } })
  let members: LanMember[] = [{ name: 'n1', id: 'node-id-1', addr: '10.0.0.1', status: 'alive' }]
  const logs: string[] = []
  const duty = new MemberCatalogDuty({
    catalog: server.catalog,
    health: server.health,
    datacenter: 'dc1',
    members: () => members,
    selfName: () => 'n1',
    knowsEveryone: () => true,
    onChange: () => () => {},
    clock,
    log: (_level, message) => logs.push(message),
    intervalMs: 10_000,
    reapGraceMs: 30_000,
  })
  duty.establish()
  await settle(clock)
  const nodes = async (): Promise<string[]> => (await server.catalog.listNodes({ token })).value.map((n) => n.Node).sort()
  assert.deepEqual(await nodes(), ['c1', 'c2', 'n1'], 'a new leader reaps nothing at once')
  // c1 reaches this server's membership (through a push-pull) within the grace; c2 never does.
  clock.advance(10_000)
  await settle(clock)
  members = [...members, { name: 'c1', id: 'c1-id', addr: '10.0.0.9', status: 'alive' }]
  clock.advance(30_000)
  await settle(clock)
  assert.deepEqual(await nodes(), ['c1', 'n1'])
  assert.ok(logs.includes('server: deregistering member c2 (reaped)'))
  assert.equal((await server.session.get({ token, id: session.value })).value.length, 1, 'c1\'s session lives on')
  duty.revoke()
})
