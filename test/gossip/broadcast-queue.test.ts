import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BroadcastQueue } from '../../src/gossip/core/broadcast-queue.js'

const msg = (text: string): Uint8Array => Buffer.from(text)
const texts = (list: Uint8Array[]): string[] => list.map((m) => Buffer.from(m).toString())

test('a broadcast goes out retransmitLimit times, then leaves the queue', () => {
  // 9 members: limit 3 x ceil(log10(10)) = 3.
  const q = new BroadcastQueue(3, () => 9)
  q.push({ key: 'a', message: msg('alive a') })
  for (let i = 0; i < 3; i++) assert.deepEqual(texts(q.take(2, 1400)), ['alive a'], `transmit ${i + 1}`)
  assert.equal(q.length, 0)
  assert.deepEqual(q.take(2, 1400), [])
})

test('the least transmitted go first, the newest among equals, and what does not fit waits', () => {
  const q = new BroadcastQueue(4, () => 100)
  q.push({ key: 'a', message: msg('aaaa') })
  q.push({ key: 'b', message: msg('bbbb') })
  assert.deepEqual(texts(q.take(1, 5)), ['bbbb'], 'the newest first; room for one')
  q.push({ key: 'c', message: msg('cccc') })
  assert.deepEqual(texts(q.take(1, 10)), ['cccc', 'aaaa'], 'never-sent ones before the one sent once')
  assert.deepEqual(texts(q.take(1, 100)), ['cccc', 'bbbb', 'aaaa'], 'all sent once: newest first')
})

test('a newer broadcast about the same member replaces the older one; keyless ones are never replaced', () => {
  const q = new BroadcastQueue(4, () => 10)
  q.push({ key: 'n1', message: msg('suspect n1') })
  q.push({ key: 'n1', message: msg('alive n1 (refuted)') })
  q.push({ key: undefined, message: msg('event 1') })
  q.push({ key: undefined, message: msg('event 2') })
  assert.equal(q.length, 3)
  assert.deepEqual(texts(q.take(0, 1000)).sort(), ['alive n1 (refuted)', 'event 1', 'event 2'])
  q.reset()
  assert.equal(q.length, 0)
})

test('the limit follows the pool as it grows', () => {
  let members = 5
  const q = new BroadcastQueue(2, () => members)
  q.push({ key: 'x', message: msg('x') })
  q.take(0, 10)
  members = 50 // limit 2 x ceil(log10(51)) = 4
  for (let i = 0; i < 3; i++) assert.deepEqual(texts(q.take(0, 10)), ['x'])
  assert.equal(q.length, 0)
})
