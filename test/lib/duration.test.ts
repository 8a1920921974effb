import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DurationError, formatDurationNs, parseDurationMs, parseDurationNs } from '../../src/lib/duration.js'

test('parses Go duration syntax', () => {
  assert.equal(parseDurationMs('30000ms'), 30000)
  assert.equal(parseDurationMs('5m'), 300000)
  assert.equal(parseDurationMs('1h30m'), 5400000)
  assert.equal(parseDurationMs('1.5s'), 1500)
  assert.equal(parseDurationNs('300us'), 300000)
  assert.equal(parseDurationNs('300µs'), 300000)
  assert.equal(parseDurationNs('-2s'), -2e9)
  assert.equal(parseDurationNs('0'), 0)
  assert.equal(parseDurationNs('.5s'), 5e8)
})

test('rejects what Go rejects, with Go\'s message', () => {
  for (const bad of ['', '5', 'abc', '1x', 's', '1.s.', '--1s', '.s', '1h-5m']) {
    assert.throws(() => parseDurationNs(bad), (err: unknown) => err instanceof DurationError && err.message === `time: invalid duration "${bad}"`, bad)
  }
})

test('formats like Duration.String()', () => {
  assert.equal(formatDurationNs(0), '0s')
  assert.equal(formatDurationNs(1.5e9), '1.5s')
  assert.equal(formatDurationNs(15e9), '15s')
  assert.equal(formatDurationNs(90e9), '1m30s')
  assert.equal(formatDurationNs(3600e9), '1h0m0s')
  assert.equal(formatDurationNs(1500), '1.5µs')
  assert.equal(formatDurationNs(2e6), '2ms')
  assert.equal(formatDurationNs(-1e9), '-1s')
})
