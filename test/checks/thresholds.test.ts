import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StatusHandler, type CheckStatus } from '../../src/checks/index.js'
import { IntervalRunner, type ProbeResult } from '../../src/checks/interval.js'
import { FakeClock, Recorder } from './helpers.js'

function feed(h: StatusHandler, statuses: CheckStatus[]): void {
  statuses.forEach((s, i) => h.update(s, `run ${i + 1}`))
}

test('without thresholds every result is reported as is', () => {
  const rec = new Recorder()
  feed(new StatusHandler(rec, 'c'), ['critical', 'passing', 'warning', 'critical'])
  assert.deepEqual(rec.updates.map((u) => u.status), ['critical', 'passing', 'warning', 'critical'])
  assert.equal(rec.updates[0]!.checkId, 'c')
})

test('the first result is reported whatever the thresholds (counters start full)', () => {
  const rec = new Recorder()
  feed(new StatusHandler(rec, 'c', { successBeforePassing: 3, failuresBeforeCritical: 3 }), ['passing'])
  assert.deepEqual(rec.updates.map((u) => u.status), ['passing'])
  const rec2 = new Recorder()
  feed(new StatusHandler(rec2, 'c', { successBeforePassing: 3, failuresBeforeCritical: 3 }), ['critical'])
  assert.deepEqual(rec2.updates.map((u) => u.status), ['critical'])
})

test('success_before_passing needs consecutive successes; a failure resets the run', () => {
  const rec = new Recorder()
  const h = new StatusHandler(rec, 'c', { successBeforePassing: 2 })
  feed(h, ['critical', 'passing', 'critical', 'passing', 'passing'])
  // critical (reported), passing (1 of 2: held), critical (reported, run reset), passing (held), passing (reported)
  assert.deepEqual(rec.updates.map((u) => [u.status, u.output]), [
    ['critical', 'run 1'],
    ['critical', 'run 3'],
    ['passing', 'run 5'],
  ])
})

test('a warning result counts as a success and is reported as warning', () => {
  const rec = new Recorder()
  const h = new StatusHandler(rec, 'c', { successBeforePassing: 2 })
  feed(h, ['critical', 'warning', 'warning'])
  assert.deepEqual(rec.updates.map((u) => u.status), ['critical', 'warning'])
})

test('failures_before_critical alone: failures below it are not reported', () => {
  const rec = new Recorder()
  const h = new StatusHandler(rec, 'c', { failuresBeforeCritical: 3 })
  feed(h, ['passing', 'critical', 'critical', 'passing', 'critical', 'critical', 'critical'])
  assert.deepEqual(rec.updates.map((u) => [u.status, u.output]), [
    ['passing', 'run 1'],
    ['passing', 'run 4'],
    ['critical', 'run 7'],
  ])
})

test('failures_before_warning reports warning until failures_before_critical is reached', () => {
  const rec = new Recorder()
  const h = new StatusHandler(rec, 'c', { failuresBeforeWarning: 1, failuresBeforeCritical: 3 })
  feed(h, ['passing', 'critical', 'critical', 'critical', 'critical'])
  assert.deepEqual(rec.updates.map((u) => [u.status, u.output]), [
    ['passing', 'run 1'],
    ['warning', 'run 2'],
    ['warning', 'run 3'],
    ['critical', 'run 4'],
    ['critical', 'run 5'],
  ])
})

/** Drives an IntervalRunner on a fake clock with a probe whose results the test hands out. */
function scripted(results: CheckStatus[], opts: { random?: number; intervalMs?: number; thresholds?: ConstructorParameters<typeof StatusHandler>[2] } = {}) {
  const clock = new FakeClock()
  const rec = new Recorder()
  let calls = 0
  let inFlight = 0
  let maxInFlight = 0
  const runner = new IntervalRunner({
    kind: 'tcp',
    intervalMs: opts.intervalMs ?? 10_000,
    clock,
    random: () => opts.random ?? 0,
    handler: new StatusHandler(rec, 'c', opts.thresholds ?? {}),
    probe: async (): Promise<ProbeResult> => {
      const status = results[calls++] ?? 'passing'
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await Promise.resolve()
      inFlight--
      return { status, output: `run ${calls}` }
    },
  })
  return { clock, rec, runner, calls: () => calls, maxInFlight: () => maxInFlight }
}

test('the first run waits a random stagger within the interval, later runs a full interval', async () => {
  const s = scripted(['passing', 'passing'], { random: 0.25, intervalMs: 10_000 })
  s.runner.start()
  assert.deepEqual(s.clock.pending(), [2500])
  s.clock.advance(2499)
  assert.equal(s.calls(), 0)
  s.clock.advance(1)
  await s.rec.next()
  assert.equal(s.calls(), 1)
  await s.runner.idle()
  assert.deepEqual(s.clock.pending(), [10_000])
  s.clock.advance(10_000)
  await s.rec.next()
  assert.equal(s.calls(), 2)
  assert.equal(s.maxInFlight(), 1)
  s.runner.stop()
  await s.runner.idle()
  assert.deepEqual(s.clock.pending(), [])
})

test('thresholds apply through the interval loop', async () => {
  const s = scripted(['passing', 'critical', 'critical'], { thresholds: { failuresBeforeCritical: 2 }, intervalMs: 1000 })
  s.runner.start()
  // Run 1 is reported; run 2 is the first failure of two needed, so held; run 3 turns critical.
  for (let i = 0; i < 3; i++) {
    s.clock.advance(i === 0 ? 0 : 1000)
    await s.runner.idle()
  }
  assert.equal(s.calls(), 3)
  assert.deepEqual(s.rec.updates.map((u) => [u.status, u.output]), [
    ['passing', 'run 1'],
    ['critical', 'run 3'],
  ])
  s.runner.stop()
})

test('nothing is reported after stop, even from a probe in flight', async () => {
  const s = scripted(['critical'])
  s.runner.start()
  s.clock.advance(0)
  s.runner.stop()
  await s.runner.idle()
  assert.equal(s.calls(), 1)
  assert.deepEqual(s.rec.updates, [])
  assert.deepEqual(s.clock.pending(), [])
})

test('a probe that throws counts as critical with its message', async () => {
  const clock = new FakeClock()
  const rec = new Recorder()
  const runner = new IntervalRunner({
    kind: 'http',
    intervalMs: 1000,
    clock,
    random: () => 0,
    handler: new StatusHandler(rec, 'c'),
    probe: () => Promise.reject(new Error('boom')),
  })
  runner.start()
  clock.advance(0)
  assert.deepEqual(await rec.next(), { checkId: 'c', status: 'critical', output: 'boom' })
  runner.stop()
  await runner.idle()
})
