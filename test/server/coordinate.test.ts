/**
 * Coordinate.* on one server: reports are gathered and written in batches once a period (one raft
 * entry per batch), beyond the batches' room refused; a node's coordinate goes with the node;
 * reads block on the table; ?near sorts catalog, health and prepared-query answers by distance
 * (unknown source or another datacenter's: no sort; nodes without a coordinate last); a snapshot
 * keeps the table.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Coordinate } from '../../src/lib/coordinate.js'
import { RejectedError } from '../../src/server/errors.js'
import type { NodeInput, ServiceInput } from '../../src/state/catalog.js'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { settle, setup } from './harness.js'

const at = (x: number): Coordinate => ({ Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5 })
const node = (name: string): NodeInput => ({ ID: `${name}-id`, Node: name, Address: '10.0.0.9', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} })
const web = (): ServiceInput => ({ ID: 'web', Service: 'web', Tags: [], Address: '', TaggedAddresses: {}, Meta: {}, Port: 80, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Kind: '' })
const batching = { updatePeriodMs: 1000, batchSize: 2, maxBatches: 2 }

async function withNodes(names: readonly string[]) {
  const s = setup({ leader: true, more: { coordinateBatching: batching } })
  for (const n of names) await s.server.catalog.register({ node: node(n), service: web() })
  return s
}

test('reports are written once a period, a batch per raft entry; beyond the batches\' room refused; unknown nodes dropped', async () => {
  const { server, raft, clock } = await withNodes(['a', 'b', 'c', 'd'])
  const applied = raft.applied.length
  for (const [n, x] of [['a', 0.001], ['b', 0.002], ['c', 0.003], ['ghost', 0.004]] as const) await server.coordinate.update({ node: n, coord: at(x) })
  await assert.rejects(server.coordinate.update({ node: 'd', coord: at(0.005) }), (err: unknown) => err instanceof RejectedError && /rate limit exceeded/.test(err.message))
  // A node already waiting may report again: its newer coordinate replaces the older.
  await server.coordinate.update({ node: 'a', coord: at(0.01) })
  assert.deepEqual((await server.coordinate.listNodes({})).value, [], 'nothing written before the period ends')
  clock.advance(1000)
  await settle(clock)
  assert.equal(raft.applied.length - applied, 2, 'four reports in batches of two')
  const list = (await server.coordinate.listNodes({})).value
  assert.deepEqual(list.map((e) => `${e.Node} ${e.Coord.Vec[0]}`), ['a 0.01', 'b 0.002', 'c 0.003'])
  assert.deepEqual((await server.coordinate.node({ node: 'b' })).value.map((e) => e.Segment), [''])
  assert.deepEqual((await server.coordinate.node({ node: 'ghost' })).value, [])
  await assert.rejects(server.coordinate.update({ node: 'a', coord: { Vec: [1, 2], Error: 1, Adjustment: 0, Height: 0 } }), /rejected bad coordinate/)
})

test('a blocking read of the nodes wakes on a batch; deregistering a node removes its coordinate', async () => {
  const { server, clock } = await withNodes(['a', 'b'])
  await server.coordinate.update({ node: 'a', coord: at(0.001) })
  clock.advance(1000)
  await settle(clock)
  const first = await server.coordinate.listNodes({})
  let woke: number | undefined
  void server.coordinate.listNodes({ minQueryIndex: first.meta.index, maxQueryTimeMs: 60_000 }).then((r) => (woke = r.value.length))
  await settle(clock)
  assert.equal(woke, undefined)
  await server.coordinate.update({ node: 'b', coord: at(0.002) })
  clock.advance(1000)
  await settle(clock)
  assert.equal(woke, 2)
  await server.catalog.deregister({ node: 'a' })
  assert.deepEqual((await server.coordinate.listNodes({})).value.map((e) => e.Node), ['b'])
})

test('?near sorts catalog, health and prepared-query answers by distance from the source; no coordinate or another datacenter: no sort', async () => {
  const { server, clock } = await withNodes(['n-a', 'n-b', 'n-c', 'n-d'])
  // On a line: n-a at 0, n-b at 30 ms, n-c at 10 ms; n-d has none.
  for (const [n, x] of [['n-a', 0], ['n-b', 0.03], ['n-c', 0.01]] as const) await server.coordinate.update({ node: n, coord: at(x) })
  clock.advance(1000)
  await settle(clock)
  const names = <T>(rows: T[], f: (r: T) => string): string[] => rows.map(f)
  const src = (n: string, dc = 'dc1') => ({ source: { node: n, datacenter: dc } })
  assert.deepEqual(names((await server.catalog.listNodes(src('n-b'))).value, (n) => n.Node).filter((n) => n.startsWith('n-')), ['n-b', 'n-c', 'n-a', 'n-d'])
  assert.deepEqual(names((await server.catalog.serviceNodes({ service: 'web', ...src('n-c') })).value, (r) => r.node.Node), ['n-c', 'n-a', 'n-b', 'n-d'])
  assert.deepEqual(names((await server.health.serviceNodes({ service: 'web', ...src('n-a') })).value, (r) => r.node.Node), ['n-a', 'n-c', 'n-b', 'n-d'])
  const unsorted = names((await server.health.serviceNodes({ service: 'web' })).value, (r) => r.node.Node)
  assert.deepEqual(names((await server.health.serviceNodes({ service: 'web', ...src('n-d') })).value, (r) => r.node.Node), unsorted, 'a source without a coordinate leaves the order')
  assert.deepEqual(names((await server.health.serviceNodes({ service: 'web', ...src('n-b', 'dc2') })).value, (r) => r.node.Node), unsorted, 'coordinates of another datacenter do not compare')
  // A prepared query: its Near (here `_agent`, the asking agent), or ?near over it.
  await server.preparedQuery.apply({ op: 'create', query: { Name: 'q', Session: '', Token: '', Service: { Service: 'web', Failover: { NearestN: 0, Datacenters: [] }, IgnoreCheckIDs: [], OnlyPassing: false, Near: '_agent', Tags: [], NodeMeta: {}, ServiceMeta: {} }, DNS: { TTL: '' }, Template: { Type: '', Regexp: '', RemoveEmptyTags: false } } as never })
  const exec = async (extra: object): Promise<string[]> => names((await server.preparedQuery.execute({ idOrName: 'q', ...extra })).value.entries, (e) => e.node.Node)
  assert.deepEqual(await exec({ agent: { node: 'n-b', datacenter: 'dc1' } }), ['n-b', 'n-c', 'n-a', 'n-d'])
  assert.deepEqual(await exec({ agent: { node: 'n-b', datacenter: 'dc1' }, ...src('n-a') }), ['n-a', 'n-c', 'n-b', 'n-d'])
  assert.deepEqual(await exec({ agent: { node: 'n-b', datacenter: 'dc1' }, ...src('n-a'), limit: 2 }), ['n-a', 'n-c'])
})

test('a snapshot keeps the coordinates; one from before coordinates restores with none', async () => {
  const { server, clock, raft } = await withNodes(['a'])
  await server.coordinate.update({ node: 'a', coord: at(0.002) })
  clock.advance(1000)
  await settle(clock)
  const text = raft.fsm.snapshotText()
  const copy = new StateStore()
  new Fsm(copy).restoreText(text)
  assert.deepEqual(copy.coordinates.list().map((e) => e.Node), ['a'])
  const old = JSON.parse(text) as Record<string, unknown>
  delete old.coordinates
  new Fsm(copy).restoreText(JSON.stringify(old))
  assert.deepEqual(copy.coordinates.list(), [])
})
