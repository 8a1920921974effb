import { test } from 'node:test'
import assert from 'node:assert/strict'
import { eachLimited } from '../../src/lib/pool.js'

test('eachLimited keeps at most `limit` in flight and visits every item in start order', async () => {
  let inFlight = 0
  let most = 0
  const seen: number[] = []
  await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    seen.push(n)
    most = Math.max(most, ++inFlight)
    await new Promise((r) => setTimeout(r, 5))
    inFlight--
  })
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7])
  assert.equal(most, 3)
  await eachLimited([], 4, async () => assert.fail('no items, no calls'))
})

test('after a failure no new item starts; those in flight settle; the first failure is thrown', async () => {
  const started: number[] = []
  let settled = 0
  await assert.rejects(eachLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
    started.push(n)
    await new Promise((r) => setTimeout(r, n === 1 ? 1 : 10))
    settled++
    if (n === 1) throw new Error('first')
    if (n === 2) throw new Error('second')
  }), /first/)
  assert.deepEqual(started, [1, 2])
  assert.equal(settled, 2)
})
