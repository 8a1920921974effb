import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TokenBucket } from '../../src/lib/token-bucket.js'

test('a token bucket lets a burst through, then one event per 1/rate seconds, and says how long to wait', () => {
  const b = new TokenBucket(2, 3, 0)
  assert.deepEqual([b.take(0), b.take(0), b.take(0)], [0, 0, 0], 'the burst')
  assert.equal(b.take(0), 500, 'empty: the next token in 1/rate s')
  assert.equal(b.take(250), 250, 'half a token there: the rest of the wait')
  assert.equal(b.take(500), 0)
  assert.equal(b.take(500), 500)
  // Idle time fills it up to the burst, never beyond.
  assert.deepEqual([b.take(60_000), b.take(60_000), b.take(60_000), b.take(60_000)], [0, 0, 0, 500])
  // A clock that steps back refills nothing and breaks nothing.
  assert.equal(b.take(59_000), 500)
})

test('no limit by default (Infinity), and a reload changes rate and burst keeping what is left', () => {
  const free = new TokenBucket(Infinity, 1, 0)
  assert.ok(free.unlimited)
  for (let i = 0; i < 10_000; i++) assert.equal(free.take(0), 0)
  const b = new TokenBucket(1, 10, 0)
  for (let i = 0; i < 10; i++) b.take(0)
  assert.equal(b.take(0), 1000)
  b.configure(100, 2, 0)
  assert.equal(b.take(0), 10, 'the new rate applies at once')
  assert.deepEqual([b.take(1000), b.take(1000), b.take(1000)], [0, 0, 10], 'the new burst caps the refill')
  b.configure(Infinity, 2, 1000)
  assert.equal(b.take(1000), 0)
})
