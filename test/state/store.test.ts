import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StateStore, isStateFailure } from '../../src/state/store.js'
import { WatchSet } from '../../src/state/watch.js'
import { VirtualClock } from '../../src/lib/clock.js'
import type { KvOp } from '../../src/state/commands.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const set = (Key: string, v: string): KvOp => ({ Verb: 'set', Key, Value: b64(v) })

test('set keeps CreateIndex and bumps ModifyIndex', () => {
  const s = new StateStore()
  s.kvApply(5, set('a', '1'))
  s.kvApply(7, set('a', '2'))
  const e = s.kv.get('a')!
  assert.equal(e.CreateIndex, 5)
  assert.equal(e.ModifyIndex, 7)
  assert.equal(e.Value!.toString(), '2')
})

test('cas 0 creates only when absent; cas N only at that ModifyIndex', () => {
  const s = new StateStore()
  assert.equal(s.kvApply(2, { Verb: 'cas', Key: 'k', Index: 0, Value: b64('x') }), true)
  assert.equal(s.kvApply(3, { Verb: 'cas', Key: 'k', Index: 0, Value: b64('y') }), false)
  assert.equal(s.kvApply(4, { Verb: 'cas', Key: 'k', Index: 9, Value: b64('y') }), false)
  assert.equal(s.kvApply(5, { Verb: 'cas', Key: 'k', Index: 2, Value: b64('y') }), true)
  assert.equal(s.kv.get('k')!.Value!.toString(), 'y')
})

test('delete-cas and delete-tree', () => {
  const s = new StateStore()
  s.kvApply(2, set('web/a', '1'))
  s.kvApply(3, set('web/b', '1'))
  s.kvApply(4, set('db/a', '1'))
  assert.equal(s.kvApply(5, { Verb: 'delete-cas', Key: 'web/a', Index: 99 }), false)
  assert.equal(s.kvApply(6, { Verb: 'delete-cas', Key: 'web/a', Index: 2 }), true)
  s.kvApply(7, { Verb: 'delete-tree', Key: 'web/' })
  assert.deepEqual(s.kv.list('').map((e) => e.Key), ['db/a'])
})

test('indexes are per result and never go backwards on delete', () => {
  const s = new StateStore()
  s.kvApply(10, set('web/a', '1'))
  s.kvApply(11, set('db/x', '1'))
  assert.equal(s.kvList(undefined, 'web/').index, 10)
  assert.equal(s.kvGet(undefined, 'web/a').index, 10)
  s.kvApply(12, { Verb: 'delete', Key: 'web/a' })
  assert.equal(s.kvList(undefined, 'web/').index, 12, 'the tombstone carries the delete index')
  assert.equal(s.kvGet(undefined, 'web/a').index, 12)
  assert.equal(s.kvGet(undefined, 'never').index, 12, 'a missing key reports the table index, as Consul')
  assert.equal(s.kvList(undefined, 'nothing/').index, 12, 'so does an empty prefix')
  s.kvApply(13, { Verb: 'delete', Key: 'not-there' })
  assert.equal(s.kvGet(undefined, 'never').index, 12, 'deleting nothing writes nothing')
  assert.equal(new StateStore().kvGet(undefined, 'never').index, 0, 'the endpoint clamps this to 1')
})

test('keys with a separator collapse subtrees', () => {
  const s = new StateStore()
  for (const k of ['a/b/c', 'a/b/d', 'a/e', 'a/f/g', 'b']) s.kvApply(2, set(k, ''))
  assert.deepEqual(s.kvKeys(undefined, 'a/', '/').keys, ['a/b/', 'a/e', 'a/f/'])
  assert.deepEqual(s.kvKeys(undefined, '', '').keys, ['a/b/c', 'a/b/d', 'a/e', 'a/f/g', 'b'])
  assert.deepEqual(s.kvKeys(undefined, '', '/').keys, ['a/', 'b'])
})

test('a transaction applies all or nothing', () => {
  const s = new StateStore()
  s.kvApply(2, set('x', 'old'))
  const failed = s.txnApply(3, [set('x', 'new'), set('y', 'new'), { Verb: 'check-not-exists', Key: 'x' }])
  assert.equal(failed.Results, null)
  assert.deepEqual(failed.Errors, [{ OpIndex: 2, What: 'key "x" exists' }])
  assert.equal(s.kv.get('x')!.Value!.toString(), 'old')
  assert.equal(s.kv.get('y'), undefined)
  const ok = s.txnApply(4, [set('x', 'new'), { Verb: 'get', Key: 'x' }, { Verb: 'delete', Key: 'x' }])
  assert.equal(ok.Errors, null)
  assert.equal(ok.Results!.length, 2, 'deletes produce no result')
  assert.equal('Value' in ok.Results![0]!.KV, false, 'set results carry no value')
  assert.equal(ok.Results![1]!.KV.Value, b64('new'), 'get results carry the value in base64')
  assert.equal(s.kv.get('x'), undefined)
})

test('transaction verbs report Consul\'s errors', () => {
  const s = new StateStore()
  s.kvApply(2, set('k', 'v'))
  const out = s.txnApply(3, [
    { Verb: 'get', Key: 'missing' },
    { Verb: 'check-index', Key: 'k', Index: 1 },
    { Verb: 'cas', Key: 'k', Index: 1, Value: null },
    { Verb: 'delete-cas', Key: 'k', Index: 1 },
    { Verb: 'lock', Key: 'k', Session: 's1' },
    { Verb: 'bogus' as KvOp['Verb'], Key: 'k' },
  ])
  assert.deepEqual(
    out.Errors!.map((e) => e.What),
    [
      'key "missing" doesn\'t exist',
      'current modify index 2 for key "k" does not match index 1',
      'failed to set key "k", index is stale',
      'failed to delete key "k", index is stale',
      'invalid session "s1"',
      'unknown KV verb "bogus"',
    ],
  )
})

test('watches fire for the key, its prefixes and nothing else', () => {
  const s = new StateStore()
  const fired: string[] = []
  const watch = (name: string, add: (ws: WatchSet) => void): void => {
    const ws = new WatchSet()
    add(ws)
    void ws.wait(60_000).then((o) => o === 'changed' && fired.push(name))
  }
  watch('exact web/a', (ws) => s.kvGet(ws, 'web/a'))
  watch('prefix web/', (ws) => s.kvList(ws, 'web/'))
  watch('prefix db/', (ws) => s.kvList(ws, 'db/'))
  watch('root', (ws) => s.kvList(ws, ''))
  s.kvApply(2, set('web/a', '1'))
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      assert.deepEqual(fired.sort(), ['exact web/a', 'prefix web/', 'root'])
      resolve()
    }),
  )
})

test('a rolled-back transaction wakes nobody', async () => {
  const s = new StateStore()
  const clock = new VirtualClock()
  const ws = new WatchSet(clock)
  s.kvList(ws, '')
  s.txnApply(2, [set('a', '1'), { Verb: 'get', Key: 'nope' }])
  const outcome = ws.wait(20)
  clock.advance(20)
  assert.equal(await outcome, 'timeout')
})

test('a catalog registration naming an unknown service is refused whole', () => {
  const s = new StateStore()
  const node = { ID: '', Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} }
  const check = { CheckID: 'c1', Name: 'c1', Status: 'passing' as const, Notes: '', Output: '', ServiceID: 'ghost', Type: '', Interval: '', Timeout: '', ExposedPort: 0, Definition: {} }
  const out = s.register(5, { Type: 'register', Node: node, Checks: [check] })
  assert.ok(isStateFailure(out) && out.error.kind === 'rejected' && /ghost/.test(out.error.message))
  assert.deepEqual(structuredClone(out), out, 'a refusal is plain data')
  assert.equal(s.catalog.node('n1'), undefined, 'not even the node was written')
  assert.equal(s.register(6, { Type: 'register', Node: node, Service: { ID: 'ghost', Service: 'ghost', Tags: [], Address: '', TaggedAddresses: {}, Meta: {}, Port: 1, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Kind: '' }, Checks: [check] }), true)
  assert.equal(s.catalog.check('n1', 'c1')!.ServiceName, 'ghost')
})
