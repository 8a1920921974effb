import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulClient } from '../../src/client/client.js'
import type { Dependency, FetchOptions, FetchResult } from '../../src/ctemplate/deps.js'
import { Logger } from '../../src/lib/line-log.js'
import { View, MIN_FETCH_INTERVAL_MS } from '../../src/ctemplate/view.js'
import { until } from '../helpers/poll.js'

/** A dependency answering from a script; records the index and stale flag of every fetch. */
class Scripted implements Dependency {
  readonly id = 'fake(x)'
  readonly kind = 'consul' as const
  calls: { index: number; stale: boolean; at: number }[] = []
  constructor(
    readonly steps: (() => FetchResult)[],
    readonly blockOnNil = false,
  ) {}
  async fetch(o: FetchOptions): Promise<FetchResult> {
    this.calls.push({ index: o.index, stale: o.stale, at: Date.now() })
    const step = this.steps.shift()
    if (!step) {
      // Out of script: block until stopped, as a long poll would.
      await new Promise<void>((r) => o.signal.addEventListener('abort', () => r(), { once: true }))
      return { data: null, index: o.index, lastContactMs: 0 }
    }
    return step()
  }
}

const ok = (data: unknown, index: number, lastContactMs = 0) => (): FetchResult => ({ data, index, lastContactMs })
const fail = (msg: string) => (): FetchResult => {
  throw new Error(msg)
}

function view(dep: Dependency, o: { attempts?: number; maxStaleMs?: number; errOnFailedLookup?: boolean } = {}) {
  const lines: string[] = []
  const data: unknown[] = []
  const errors: string[] = []
  const v = new View(dep, {
    client: new ConsulClient({ address: '127.0.0.1:1' }),
    retry: { enabled: true, attempts: o.attempts ?? 3, backoffMs: 5, maxBackoffMs: 15 },
    waitMs: 1000,
    maxStaleMs: o.maxStaleMs ?? 0,
    once: false,
    errOnFailedLookup: o.errOnFailedLookup,
    log: new Logger('trace', (l) => lines.push(l)),
    onData: (x) => data.push(x.data),
    onError: (_x, e) => errors.push(e.message),
  })
  return { v, lines, data, errors }
}

describe('view (blocking-query loop)', () => {
  test('same index: no data; lower index: reset to 0; equal data: no data; nil for kv.block: no data', async () => {
    const dep = new Scripted([ok('a', 5), ok('b', 5), ok('c', 3), ok('a', 7), ok(null, 8), ok('d', 9)], true)
    const { v, data } = view(dep)
    v.start()
    try {
      await until('all steps', async () => (dep.calls.length === 7 ? true : undefined), 10_000)
      assert.deepEqual(data, ['a', 'd'])
      assert.deepEqual(dep.calls.map((c) => c.index), [0, 5, 5, 0, 7, 8, 9])
      // As upstream: an answer that follows another answer of the same round is used no sooner than
      // 100 ms after its request started; the first answer of a round (after new data) at once.
      for (let i = 3; i < dep.calls.length; i++) assert.ok(dep.calls[i].at - dep.calls[i - 1].at >= MIN_FETCH_INTERVAL_MS - 5, `call ${i}`)
    } finally {
      v.stop()
    }
  })

  test('errors are retried with exponential backoff, then reported', async () => {
    const dep = new Scripted([fail('boom'), fail('boom'), ok('x', 2), fail('e1'), fail('e2'), fail('e3'), fail('e4')])
    const { v, data, errors, lines } = view(dep, { attempts: 3 })
    v.start()
    try {
      await until('reported', async () => (errors.length ? true : undefined), 10_000)
      assert.deepEqual(data, ['x'])
      assert.deepEqual(errors, ['fake(x): e4'])
      const retries = lines.filter((l) => l.includes('retry attempt')).map((l) => /attempt (\d+) after "(\w+)"/.exec(l)!.slice(1).join('@'))
      // The count restarts after a success; the backoff doubles up to its cap.
      assert.deepEqual(retries, ['1@5ms', '2@10ms', '1@5ms', '2@10ms', '3@15ms'])
    } finally {
      v.stop()
    }
  })

  test('err_on_failed_lookup: still no data at the second answer is an error', async () => {
    const dep = new Scripted([ok(null, 2), ok(null, 3)], true)
    const { v, errors } = view(dep, { errOnFailedLookup: true })
    v.start()
    try {
      await until('lookup error', async () => (errors.length ? true : undefined), 10_000)
      assert.deepEqual(errors, ['fake(x): lookup error'])
    } finally {
      v.stop()
    }
  })

  test('stale answers older than max_stale are asked again of the leader', async () => {
    const dep = new Scripted([ok('old', 4, 5000), ok('fresh', 4, 0)])
    const { v, data } = view(dep, { maxStaleMs: 2000 })
    v.start()
    try {
      await until('fresh', async () => (data.length ? true : undefined), 10_000)
      assert.deepEqual(data, ['fresh'])
      assert.deepEqual(dep.calls.slice(0, 2).map((c) => c.stale), [true, false])
    } finally {
      v.stop()
    }
  })
})
