/**
 * The soak's CI version: 2.5 minutes of churn on 3 servers and 20 client agents, sampled every 30
 * seconds (within the suite's 20-minute budget); no error, no crash, no growth past the bounds
 * (the hour-long run is `npm run soak`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { judge, soak, summary, type Sample } from './soak.js'

test('soak: 2.5 minutes, 3 servers and 20 clients under churn, memory, descriptors and timers flat', { timeout: 15 * 60_000 }, async () => {
  const minutes = 2.5
  const sampleMs = 30_000
  const r = await soak({ minutes, servers: 3, clients: 20, sampleMs, roundMs: 1000, net: 59 })
  const text = summary(r)
  assert.ok(r.ok, text)
  // Not a speed check: a fifth of the rate shows the churn kept going the whole time on a busy machine.
  assert.ok(r.rounds >= (20 * minutes * 60) / 5, `the churn kept going:\n${text}`)
  const sampled = new Set(r.samples.map((s) => s.member))
  assert.equal(sampled.size, 23, `every agent was sampled:\n${text}`)
  assert.equal(new Set(r.samples.map((s) => s.atMs)).size, (minutes * 60_000) / sampleMs, 'a sample each interval')
})

test('the judge fails growth past both allowances and passes growth within either', () => {
  const at = (atMs: number, heapBytes: number, fds: number): Sample => ({ atMs, member: 's1', heapBytes, rssBytes: 1e8, fds, timers: 10, handles: 20 })
  const small = judge([at(0, 10e6, 30), at(1, 35e6, 40)]) // +25 MB: within 32 MB
  assert.ok(small.every((g) => g.ok))
  const big = judge([at(0, 100e6, 30), at(1, 140e6, 100)]) // +40 MB is within 50% of 100 MB; +70 fds is past 32 (one member: no peers) and 50%
  assert.deepEqual(big.filter((g) => !g.ok).map((g) => g.measure), ['fds'])
  const leak = judge([at(0, 40e6, 30), at(1, 80e6, 30)]) // +40 MB: past 32 MB and past 50% of 40 MB
  assert.deepEqual(leak.filter((g) => !g.ok).map((g) => g.measure), ['heapBytes'])
})
