import { test } from 'node:test'
import assert from 'node:assert/strict'
import { aliasVerdict, createCheckRunner, isTtlRunner, type AliasedCheck, type AliasSource, type TtlCheckRunner } from '../../src/checks/index.js'
import { FakeClock, Recorder } from './helpers.js'

function ttlRunner(ttlMs: number, extra: { outputMaxSize?: number } = {}) {
  const clock = new FakeClock()
  const rec = new Recorder()
  const runner = createCheckRunner({ id: 't', name: 't', ttlMs, ...extra }, rec, { clock })
  assert.ok(isTtlRunner(runner))
  return { clock, rec, runner: runner as TtlCheckRunner }
}

test('TTL: silence past the TTL turns critical with "TTL expired"', () => {
  const { clock, rec, runner } = ttlRunner(10_000)
  runner.start()
  clock.advance(9_999)
  assert.deepEqual(rec.updates, [])
  clock.advance(1)
  assert.deepEqual(rec.updates, [{ checkId: 't', status: 'critical', output: 'TTL expired' }])
  // It stays quiet after expiring until the application reports again.
  clock.advance(100_000)
  assert.equal(rec.updates.length, 1)
  runner.stop()
})

test('TTL: pass/warn/fail/update report at once and restart the TTL; expiry quotes the last output', () => {
  const { clock, rec, runner } = ttlRunner(10_000)
  runner.start()
  clock.advance(8_000)
  runner.pass('all good')
  clock.advance(8_000)
  runner.warn('slow')
  clock.advance(8_000)
  runner.fail('down')
  clock.advance(8_000)
  runner.update('passing', 'back')
  assert.deepEqual(rec.updates.map((u) => [u.status, u.output]), [
    ['passing', 'all good'],
    ['warning', 'slow'],
    ['critical', 'down'],
    ['passing', 'back'],
  ])
  clock.advance(10_000)
  assert.deepEqual(rec.updates.at(-1), { checkId: 't', status: 'critical', output: 'TTL expired (last output before timeout follows): back' })
  // A report after expiry re-arms the TTL.
  runner.pass()
  assert.deepEqual(clock.pending(), [10_000])
  runner.stop()
  assert.deepEqual(clock.pending(), [])
  runner.pass('after stop')
  assert.equal(rec.updates.at(-1)!.output, '')
})

test('TTL: output beyond outputMaxSize is cut with Consul\'s note', () => {
  const { rec, runner } = ttlRunner(10_000, { outputMaxSize: 10 })
  runner.start()
  const kept = runner.update('passing', 'x'.repeat(25))
  assert.equal(kept, `${'x'.repeat(10)} ... (captured 10 of 25 bytes)`)
  assert.equal(rec.updates[0]!.output, kept)
  runner.stop()
})

class FakeAliasSource implements AliasSource {
  checksByKey = new Map<string, AliasedCheck[]>()
  listeners = new Set<() => void>()
  subscribedWith: Array<[string | undefined, string]> = []
  exists = true

  subscribe(node: string | undefined, serviceId: string, onChange: () => void): () => void {
    this.subscribedWith.push([node, serviceId])
    this.listeners.add(onChange)
    return () => this.listeners.delete(onChange)
  }

  checks(node: string | undefined, serviceId: string): AliasedCheck[] {
    return this.checksByKey.get(`${node ?? ''}/${serviceId}`) ?? []
  }

  serviceExists(): boolean {
    return this.exists
  }

  set(node: string | undefined, serviceId: string, checks: AliasedCheck[]): void {
    this.checksByKey.set(`${node ?? ''}/${serviceId}`, checks)
    for (const l of [...this.listeners]) l()
  }
}

test('alias: mirrors the worst of the aliased checks and follows changes', () => {
  const clock = new FakeClock()
  const rec = new Recorder()
  const src = new FakeAliasSource()
  src.set(undefined, 'web', [
    { checkId: 'web-http', name: 'HTTP', status: 'passing', serviceId: 'web' },
    { checkId: 'serfHealth', name: 'Serf Health Status', status: 'passing' },
  ])
  const runner = createCheckRunner({ id: 'a', name: 'a', aliasService: 'web' }, rec, { clock, aliasSource: src })
  runner.start()
  assert.deepEqual(src.subscribedWith, [[undefined, 'web']])
  assert.deepEqual(rec.updates.at(-1), { checkId: 'a', status: 'passing', output: 'All checks passing.' })

  src.set(undefined, 'web', [
    { checkId: 'web-http', name: 'HTTP', status: 'warning', output: 'slow', serviceId: 'web' },
    { checkId: 'serfHealth', name: 'Serf Health Status', status: 'passing' },
  ])
  assert.deepEqual(rec.updates.at(-1), { checkId: 'a', status: 'warning', output: 'Aliased check "HTTP" failing: slow' })

  // A critical node-level check makes the alias critical too.
  src.set(undefined, 'web', [
    { checkId: 'web-http', name: 'HTTP', status: 'warning', output: 'slow', serviceId: 'web' },
    { checkId: 'serfHealth', name: 'Serf Health Status', status: 'critical', output: 'agent dead' },
  ])
  assert.deepEqual(rec.updates.at(-1), { checkId: 'a', status: 'critical', output: 'Aliased check "Serf Health Status" failing: agent dead' })

  // It re-reads on its own within a minute, in case a change signal was lost.
  const before = rec.updates.length
  clock.advance(60_000)
  assert.equal(rec.updates.length, before + 1)

  runner.stop()
  assert.equal(src.listeners.size, 0)
  assert.deepEqual(clock.pending(), [])
  src.set(undefined, 'web', [])
  assert.equal(rec.updates.length, before + 1)
})

test('alias: a remote node is passed to the source; no checks and a missing service', () => {
  const rec = new Recorder()
  const src = new FakeAliasSource()
  const runner = createCheckRunner({ id: 'a', name: 'a', aliasNode: 'node2', aliasService: 'db' }, rec, { clock: new FakeClock(), aliasSource: src })
  runner.start()
  assert.deepEqual(src.subscribedWith, [['node2', 'db']])
  assert.deepEqual(rec.updates.at(-1), { checkId: 'a', status: 'passing', output: 'No checks found.' })
  src.exists = false
  src.set('node2', 'db', [])
  assert.deepEqual(rec.updates.at(-1), { checkId: 'a', status: 'critical', output: 'Service db could not be found on node node2' })
  runner.stop()
})

test('aliasVerdict ignores other services\' checks', () => {
  const v = aliasVerdict(
    [
      { checkId: 'x', status: 'critical', serviceId: 'other' },
      { checkId: 'y', status: 'passing', serviceId: 'web' },
    ],
    { serviceId: 'web' },
  )
  assert.deepEqual(v, { status: 'passing', output: 'All checks passing.' })
})

test('alias without a source is a programming error', () => {
  assert.throws(() => createCheckRunner({ id: 'a', name: 'a', aliasService: 'web' }, new Recorder()), /aliasSource/)
})
