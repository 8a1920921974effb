import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { WatchSet } from '../../src/state/watch.js'

test('snapshot then restore reproduces the state, uint64 flags included', async () => {
  const a = new Fsm(new StateStore())
  a.applyCommand(2, { Type: 'kvs', Op: { Verb: 'set', Key: 'x', Value: 'aGk=', Flags: '18446744073709551615' } })
  a.applyCommand(3, { Type: 'kvs', Op: { Verb: 'set', Key: 'y', Value: null } })
  a.applyCommand(4, { Type: 'kvs', Op: { Verb: 'delete', Key: 'y' } })
  const b = new Fsm(new StateStore())
  const ws = new WatchSet()
  b.state.kvGet(ws, 'x')
  b.restoreText(a.snapshotText())
  assert.equal(await ws.wait(1000), 'changed', 'restore abandons blocking queries')
  assert.deepEqual(b.state.kv.list(''), a.state.kv.list(''))
  assert.equal(b.state.kv.get('x')!.Flags, 18446744073709551615n)
  assert.equal(b.state.kvGet(undefined, 'y').index, 4, 'tombstones survive')
  assert.equal(b.state.kvGet(undefined, 'never-written').index, 4, 'the table index is rebuilt')
  assert.equal(b.state.lastIndex, 4)
  assert.equal(b.snapshotText(), a.snapshotText())
})

test('an unknown command type is refused, not guessed', () => {
  const f = new Fsm(new StateStore())
  assert.throws(() => f.applyCommand(2, { Type: 'nope' } as never), /unknown command type "nope"/)
})

test('snapshotInSteps gives snapshotText()\'s text at the time of the call, whatever is written while it runs', async () => {
  const a = new Fsm(new StateStore())
  let index = 1
  for (let i = 0; i < 250; i++) a.applyCommand(++index, { Type: 'kvs', Op: { Verb: 'set', Key: `k/${String(i).padStart(3, '0')}`, Value: Buffer.from(`v${i}`).toString('base64'), Flags: String(i) } })
  for (let i = 0; i < 30; i++) a.applyCommand(++index, { Type: 'kvs', Op: { Verb: 'delete', Key: `k/${String(i).padStart(3, '0')}` } })
  a.applyCommand(++index, { Type: 'register', Node: { ID: '', Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} } } as never)
  const expected = a.snapshotText()
  const stepped = a.snapshotInSteps(7)
  // Writes land between the steps: set, overwrite, delete, and a catalog change.
  a.applyCommand(++index, { Type: 'kvs', Op: { Verb: 'set', Key: 'k/new', Value: null } })
  a.applyCommand(++index, { Type: 'kvs', Op: { Verb: 'set', Key: 'k/100', Value: Buffer.from('changed').toString('base64') } })
  a.applyCommand(++index, { Type: 'kvs', Op: { Verb: 'delete', Key: 'k/200' } })
  await new Promise((r) => setImmediate(r))
  a.applyCommand(++index, { Type: 'kvs', Op: { Verb: 'delete-tree', Key: 'k/2' } })
  assert.equal(await stepped, expected)
  assert.doesNotThrow(() => JSON.parse(expected))
  const b = new Fsm(new StateStore())
  b.restoreText(await a.snapshotInSteps(3))
  assert.deepEqual(b.state.kv.list(''), a.state.kv.list(''))
  assert.equal(b.state.lastIndex, index)
})

test('a restore from the log stamps everything with its own index, so no index a blocking query saw goes backwards', async () => {
  // The source ran far ahead of the target's log.
  const src = new Fsm(new StateStore())
  src.applyCommand(900, { Type: 'kvs', Op: { Verb: 'set', Key: 'a', Value: 'aGk=', Flags: '7' } })
  src.applyCommand(901, { Type: 'register', Node: { ID: '', Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} }, Service: { ID: 'web', Service: 'web', Port: 80 } } as never)
  src.applyCommand(902, { Type: 'kvs', Op: { Verb: 'delete', Key: 'gone' } })
  const dst = new Fsm(new StateStore())
  dst.applyCommand(5, { Type: 'kvs', Op: { Verb: 'set', Key: 'old', Value: null } })
  const ws = new WatchSet()
  dst.state.kvGet(ws, 'old')
  assert.equal(dst.applyCommand(10, { Type: 'restore', State: src.snapshotText() }), true)
  assert.equal(await ws.wait(1000), 'changed')
  assert.equal(dst.state.kv.get('old'), undefined, 'the whole state is replaced')
  const a = dst.state.kv.get('a')!
  assert.deepEqual([a.Value?.toString(), a.Flags, a.CreateIndex, a.ModifyIndex], ['hi', 7, 10, 10])
  assert.equal(dst.state.catalog.node('n1')!.ModifyIndex, 10)
  assert.equal(dst.state.catalog.instances('web')[0]!.CreateIndex, 10)
  assert.equal(dst.state.catalog.serviceIndexOf('web'), 10)
  assert.equal(dst.state.lastIndex, 10)
  assert.equal(dst.state.kvGet(undefined, 'gone').index, 10, 'tombstones of the other log are gone; the floor is the restore')
  dst.applyCommand(11, { Type: 'kvs', Op: { Verb: 'set', Key: 'a', Value: null } })
  assert.equal(dst.state.kv.get('a')!.ModifyIndex, 11)
})
