import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { WatchSet } from '../../src/state/watch.js'

test('snapshot then restore reproduces the state, uint64 flags included', async () => {
  const a = new Fsm(new StateStore())
  a.apply(2, { Type: 'kvs', Op: { Verb: 'set', Key: 'x', Value: 'aGk=', Flags: '18446744073709551615' } })
  a.apply(3, { Type: 'kvs', Op: { Verb: 'set', Key: 'y', Value: null } })
  a.apply(4, { Type: 'kvs', Op: { Verb: 'delete', Key: 'y' } })
  const b = new Fsm(new StateStore())
  const ws = new WatchSet()
  b.state.kvGet(ws, 'x')
  b.restore(a.snapshot())
  assert.equal(await ws.wait(1000), 'changed', 'restore abandons blocking queries')
  assert.deepEqual(b.state.kv.list(''), a.state.kv.list(''))
  assert.equal(b.state.kv.get('x')!.Flags, 18446744073709551615n)
  assert.equal(b.state.kvGet(undefined, 'y').index, 4, 'tombstones survive')
  assert.equal(b.state.lastIndex, 4)
  assert.equal(b.snapshot(), a.snapshot())
})

test('an unknown command type is refused, not guessed', () => {
  const f = new Fsm(new StateStore())
  assert.throws(() => f.apply(2, { Type: 'nope' } as never), /unknown command type "nope"/)
})
