import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startAgent, removeDir, type RunningAgent } from '../helpers/agent.js'

interface Got {
  status: number
  index: number
  consistency: string | undefined
  body: string
}

/** A GET on its own socket (blocking queries hold one each), abortable. */
function get(url: string, pool: http.Agent, signal?: AbortSignal): Promise<Got> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: pool, signal }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            index: Number(res.headers['x-consul-index']),
            consistency: res.headers['x-consul-effective-consistency'] as string | undefined,
            body,
          }),
        )
      })
      .on('error', reject)
  })
}

interface HttpStats {
  blocking_queries: string
  blocking_evaluations: string
  blocking_shared_answers: string
}

describe('identical blocking queries share one evaluation', () => {
  let agent: RunningAgent
  let base: string
  let pool: http.Agent
  const put = async (key: string, value: string): Promise<number> => {
    const res = await fetch(`${base}/v1/kv/${key}`, { method: 'PUT', body: value })
    assert.equal(await res.text(), 'true')
    return indexOf(key)
  }
  const indexOf = async (key: string): Promise<number> => {
    const res = await fetch(`${base}/v1/kv/${key}`)
    await res.arrayBuffer()
    return Number(res.headers.get('x-consul-index'))
  }
  const stats = async (): Promise<{ waiting: number; evaluations: number; shared: number }> => {
    const self = (await (await fetch(`${base}/v1/agent/self`)).json()) as { Stats: { http: HttpStats } }
    const h = self.Stats.http
    return { waiting: Number(h.blocking_queries), evaluations: Number(h.blocking_evaluations), shared: Number(h.blocking_shared_answers) }
  }
  /** Until exactly `n` blocking queries are parked in the agent. */
  const parked = async (n: number): Promise<void> => {
    for (;;) {
      if ((await stats()).waiting === n) return
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  before(async () => {
    agent = await startAgent({ connLimit: 0 })
    base = agent.httpAddr
    pool = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  })
  after(async () => {
    pool.destroy()
    await agent.stop()
    removeDir(agent.dataDir)
  })

  test('500 waiters on one key get the same correct answer from one evaluation', async () => {
    const index = await put('share/key', 'before')
    const url = `${base}/v1/kv/share/key?index=${index}&wait=5m`
    const waiters = Array.from({ length: 500 }, () => get(url, pool))
    await parked(500)
    const s0 = await stats()
    const written = await put('share/key', 'after')
    const results = await Promise.all(waiters)
    const s1 = await stats()
    assert.equal(s1.evaluations - s0.evaluations, 1, 'the wake evaluated the query once, not once per waiter')
    assert.equal(s1.shared - s0.shared, 499, 'every waiter but the one that evaluated got the shared answer')
    assert.equal(s1.waiting, 0)
    for (const r of results) {
      assert.equal(r.status, 200)
      assert.equal(r.index, written, 'X-Consul-Index is the write that woke them')
      assert.equal(r.body, results[0]!.body)
    }
    const [pair] = JSON.parse(results[0]!.body) as Array<{ Key: string; Value: string; ModifyIndex: number }>
    assert.equal(pair!.Key, 'share/key')
    assert.equal(Buffer.from(pair!.Value, 'base64').toString(), 'after')
    assert.equal(pair!.ModifyIndex, written)
  })

  test('different query strings, tokens and keys are never merged: each gets its own answer', async () => {
    const index = await put('mix/key', 'one')
    await put('other/key', 'x')
    const otherIndex = await indexOf('other/key')
    const q = (extra: string): string => `${base}/v1/kv/mix/key?index=${index}&wait=5m${extra}`
    const kinds = {
      plain: q(''),
      sameAsPlainButWaitDiffers: `${base}/v1/kv/mix/key?wait=4m&index=${index}`,
      raw: q('&raw'),
      pretty: q('&pretty'),
      stale: q('&stale'),
      token: q('&token=someone-else'),
      recurse: `${base}/v1/kv/mix/?recurse&index=${index}&wait=5m`,
      keys: `${base}/v1/kv/mix/?keys&index=${index}&wait=5m`,
      otherKey: `${base}/v1/kv/other/key?index=${otherIndex}&wait=5m`,
    }
    const perKind = 3
    const waiting = Object.fromEntries(Object.entries(kinds).map(([kind, url]) => [kind, Array.from({ length: perKind }, () => get(url, pool))]))
    const total = Object.keys(kinds).length * perKind
    await parked(total)
    const s0 = await stats()
    const written = await put('mix/key', 'two')
    const got = Object.fromEntries(await Promise.all(Object.entries(waiting).filter(([k]) => k !== 'otherKey').map(async ([k, ps]) => [k, await Promise.all(ps)] as const)))
    // The write to mix/key left the other key's waiters parked.
    await parked(perKind)
    const s1 = await stats()
    // One evaluation per distinct query (plain and its ?wait variant are one), none for other/key.
    assert.equal(s1.evaluations - s0.evaluations, Object.keys(kinds).length - 2)
    for (const [kind, answers] of Object.entries(got)) {
      for (const a of answers) {
        assert.equal(a.status, 200, kind)
        assert.equal(a.body, answers[0]!.body, `${kind}: identical among themselves`)
      }
    }
    const value = (body: string): string => Buffer.from((JSON.parse(body) as Array<{ Value: string }>)[0]!.Value, 'base64').toString()
    assert.equal(value(got.plain![0]!.body), 'two')
    assert.equal(got.sameAsPlainButWaitDiffers![0]!.body, got.plain![0]!.body)
    assert.equal(got.raw![0]!.body, 'two', '?raw got the raw value, not the JSON of the plain waiters')
    assert.match(got.pretty![0]!.body, /\n {4}/, '?pretty got indented JSON')
    assert.equal(value(got.pretty![0]!.body), 'two')
    assert.equal(got.stale![0]!.consistency, 'stale')
    assert.equal(got.plain![0]!.consistency, 'leader')
    assert.equal(value(got.token![0]!.body), 'two')
    assert.deepEqual(JSON.parse(got.keys![0]!.body), ['mix/key'])
    assert.equal((JSON.parse(got.recurse![0]!.body) as unknown[]).length, 1)
    for (const answers of Object.values(got)) for (const a of answers) assert.equal(a.index, written)
    // Release the other key's waiters.
    const otherWritten = await put('other/key', 'y')
    for (const a of await Promise.all(waiting.otherKey!)) assert.equal(a.index, otherWritten)
  })

  test('a waiter whose own ?wait runs out answers alone, unchanged; the rest still wake on the write', async () => {
    const index = await put('short/key', 'v1')
    const long = Array.from({ length: 3 }, () => get(`${base}/v1/kv/short/key?index=${index}&wait=5m`, pool))
    await parked(3)
    const short = await get(`${base}/v1/kv/short/key?wait=200ms&index=${index}`, pool)
    assert.equal(short.status, 200)
    assert.equal(short.index, index, 'the timed-out waiter reports the unchanged index')
    await parked(3)
    const written = await put('short/key', 'v2')
    for (const a of await Promise.all(long)) assert.equal(a.index, written)
  })

  test('when the waiter that evaluates goes away, another takes its place and all still wake', async () => {
    const index = await put('leave/key', 'v1')
    const url = `${base}/v1/kv/leave/key?index=${index}&wait=5m`
    const gone = new AbortController()
    const first = get(url, pool, gone.signal).catch((err: Error) => err)
    await parked(1)
    const rest = Array.from({ length: 4 }, () => get(url, pool))
    await parked(5)
    gone.abort()
    assert.ok((await first) instanceof Error)
    await parked(4)
    const s0 = await stats()
    const written = await put('leave/key', 'v2')
    const answers = await Promise.all(rest)
    const s1 = await stats()
    assert.equal(s1.evaluations - s0.evaluations, 1)
    for (const a of answers) {
      assert.equal(a.index, written)
      assert.equal(a.body, answers[0]!.body)
    }
  })

  test('a bad ?wait among identical waiters gets its own 400 and does not disturb them', async () => {
    const index = await put('bad/key', 'v1')
    const good = get(`${base}/v1/kv/bad/key?index=${index}&wait=5m`, pool)
    await parked(1)
    const bad = await get(`${base}/v1/kv/bad/key?index=${index}&wait=forever`, pool)
    assert.equal(bad.status, 400)
    assert.equal(bad.body, 'Invalid wait time')
    const written = await put('bad/key', 'v2')
    assert.equal((await good).index, written)
  })
})
