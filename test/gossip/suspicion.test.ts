import { test } from 'node:test'
import assert from 'node:assert/strict'
import { expectedConfirmations, Suspicion } from '../../src/gossip/core/suspicion.js'

test('a suspicion ends at its maximum unless confirmed, and each independent confirmation brings the end closer', () => {
  const s = new Suspicion('raiser', 3, 2000, 30_000, 10_000)
  assert.equal(s.deadline(), 40_000)
  assert.equal(s.confirm('raiser'), false, 'the one who raised it does not confirm it')
  assert.equal(s.confirm('b'), true)
  assert.equal(s.deadline(), 26_000)
  assert.equal(s.confirm('b'), false, 'nor does anyone twice')
  assert.equal(s.confirm('c'), true)
  assert.equal(s.deadline(), 17_810)
  assert.equal(s.confirm('d'), true)
  assert.equal(s.deadline(), 12_000, 'at the minimum with the expected number')
  assert.equal(s.confirm('e'), false, 'enough already')
  assert.equal(s.confirmations, 3)
})

test('small pools expect no confirmations: the minimum from the start', () => {
  assert.equal(expectedConfirmations(4, 3), 0)
  assert.equal(expectedConfirmations(4, 4), 2)
  assert.equal(expectedConfirmations(6, 100), 4)
  const s = new Suspicion('a', expectedConfirmations(4, 3), 2000, 12_000, 0)
  assert.equal(s.deadline(), 2000)
  assert.equal(s.confirm('b'), false)
})
