import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Awareness, pushPullIntervalMs, remainingSuspicionMs, retransmitLimit, suspicionTimeoutMs } from '../../src/gossip/core/math.js'
import { LAN_CONFIG, LOCAL_CONFIG, WAN_CONFIG } from '../../src/gossip/core/config.js'

test('suspicion timeout: mult probe intervals, scaled by log10 of the pool from 10 members on', () => {
  const cases: Array<[members: number, ms: number]> = [[0, 3000], [1, 3000], [5, 3000], [10, 3000], [50, 5094], [100, 6000], [1000, 9000]]
  for (const [n, ms] of cases) assert.equal(suspicionTimeoutMs(3, n, 1000), ms, `n=${n}`)
})

test('retransmit limit: mult times ceil(log10(n + 1))', () => {
  const cases: Array<[members: number, limit: number]> = [[0, 0], [1, 3], [9, 3], [10, 6], [99, 6], [100, 9], [999, 9], [1000, 12]]
  for (const [n, limit] of cases) assert.equal(retransmitLimit(3, n), limit, `n=${n}`)
})

test('push-pull interval: unscaled up to 32 members, one more interval per doubling after', () => {
  const cases: Array<[members: number, ms: number]> = [[1, 1000], [32, 1000], [33, 2000], [64, 2000], [65, 3000], [128, 3000], [129, 4000], [2048, 7000]]
  for (const [n, ms] of cases) assert.equal(pushPullIntervalMs(1000, n), ms, `n=${n}`)
})

test('remaining suspicion: from max towards min as confirmations come, log-scaled, never under min, less what has elapsed', () => {
  const min = 2000
  const max = 30_000
  const cases: Array<[n: number, k: number, elapsed: number, ms: number]> = [
    [0, 3, 0, 30_000],
    [1, 3, 0, 16_000],
    [2, 3, 0, 7810],
    [3, 3, 0, 2000],
    [4, 3, 0, 2000],
    [1, 3, 1000, 15_000],
    [3, 3, 5000, -3000],
    // No confirmations to expect (a pool of two or three): the minimum at once.
    [0, 0, 0, 2000],
    [0, 0, 500, 1500],
  ]
  for (const [n, k, elapsed, ms] of cases) assert.equal(remainingSuspicionMs(n, k, elapsed, min, max), ms, `n=${n} k=${k} elapsed=${elapsed}`)
})

test('awareness: the score stays within [0, max - 1] and stretches timeouts by score + 1', () => {
  const a = new Awareness(8)
  assert.equal(a.scale(500), 500)
  assert.equal(a.apply(1), 1)
  assert.equal(a.scale(500), 1000)
  assert.equal(a.apply(20), 7)
  assert.equal(a.scale(1000), 8000)
  assert.equal(a.apply(-100), 0)
})

test('presets: memberlist\'s LAN and WAN timing, and a local one for loopback', () => {
  assert.deepEqual([LAN_CONFIG.probeIntervalMs, LAN_CONFIG.probeTimeoutMs, LAN_CONFIG.suspicionMult, LAN_CONFIG.gossipIntervalMs, LAN_CONFIG.pushPullIntervalMs], [1000, 500, 4, 200, 30_000])
  assert.deepEqual([WAN_CONFIG.probeIntervalMs, WAN_CONFIG.probeTimeoutMs, WAN_CONFIG.suspicionMult, WAN_CONFIG.gossipNodes, WAN_CONFIG.pushPullIntervalMs], [5000, 3000, 6, 4, 60_000])
  assert.ok(LOCAL_CONFIG.probeTimeoutMs < LAN_CONFIG.probeTimeoutMs)
  assert.ok(Object.isFrozen(LAN_CONFIG) && Object.isFrozen(WAN_CONFIG) && Object.isFrozen(LOCAL_CONFIG))
})
