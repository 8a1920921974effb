import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startAgent, removeDir, type RunningAgent } from '../helpers/agent.js'

/** A GET through node:http with its own socket, so thousands can wait at once. */
function get(url: string, agent: http.Agent): Promise<{ status: number; index: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode!, index: Number(res.headers['x-consul-index']), body }))
      })
      .on('error', reject)
  })
}

describe('blocking queries', () => {
  let agent: RunningAgent
  let base: string
  const put = (key: string, value: string) => fetch(`${base}/v1/kv/${key}`, { method: 'PUT', body: value }).then((r) => r.text())
  const indexOf = async (path: string) => Number((await fetch(base + path)).headers.get('x-consul-index'))

  before(async () => {
    agent = await startAgent({ connLimit: 0 })
    base = agent.httpAddr
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
  })

  test('a blocking GET returns on a write to its key with the new index', async () => {
    await put('web/key', 'v1')
    const index = await indexOf('/v1/kv/web/key')
    const waiting = fetch(`${base}/v1/kv/web/key?index=${index}&wait=60s`)
    await put('web/key', 'v2')
    const res = await waiting
    const [pair] = (await res.json()) as Array<{ Value: string }>
    assert.equal(Buffer.from(pair!.Value, 'base64').toString(), 'v2')
    assert.ok(Number(res.headers.get('x-consul-index')) > index)
  })

  test('a watch on a prefix ignores writes to other prefixes and times out unchanged', async () => {
    await put('web/a', '1')
    const index = await indexOf('/v1/kv/web/?recurse')
    const started = Date.now()
    const waiting = fetch(`${base}/v1/kv/web/?recurse&index=${index}&wait=1500ms`)
    await put('db/x', '1')
    await put('webby', '1')
    const res = await waiting
    await res.arrayBuffer()
    assert.equal(Number(res.headers.get('x-consul-index')), index, 'the prefix index is its own, not the global one')
    assert.ok(Date.now() - started >= 1500, 'it waited out the full wait instead of waking early')
  })

  test('a delete wakes the prefix watchers with a higher index', async () => {
    await put('gone/a', '1')
    const index = await indexOf('/v1/kv/gone/?recurse')
    const waiting = fetch(`${base}/v1/kv/gone/?recurse&index=${index}&wait=60s`)
    await fetch(`${base}/v1/kv/gone/a`, { method: 'DELETE' })
    const res = await waiting
    assert.equal(res.status, 404)
    assert.ok(Number(res.headers.get('x-consul-index')) > index)
  })

  test('blocking on a missing key wakes when it is created', async () => {
    const index = await indexOf('/v1/kv/later/key')
    const waiting = fetch(`${base}/v1/kv/later/key?index=${index}&wait=60s`)
    await put('later/key', 'now')
    const res = await waiting
    assert.equal(res.status, 200)
  })

  test('an index below the current one answers at once', async () => {
    await put('now/key', 'x')
    const res = await fetch(`${base}/v1/kv/now/key?index=1&wait=10m`)
    assert.equal(res.status, 200)
  })

  test('5,000 concurrent blocking queries all wake on one write', async () => {
    await put('fanout/key', 'before')
    const index = await indexOf('/v1/kv/fanout/key')
    const pool = new http.Agent({ keepAlive: false, maxSockets: Infinity })
    const url = `${base}/v1/kv/fanout/key?index=${index}&wait=5m`
    const waiters = Array.from({ length: 5000 }, () => get(url, pool))
    // Wait until the agent reports all of them parked, then write once.
    for (;;) {
      const self = (await (await fetch(`${base}/v1/agent/self`)).json()) as { Stats: { http: { blocking_queries: string } } }
      if (Number(self.Stats.http.blocking_queries) >= 5000) break
      await new Promise((r) => setTimeout(r, 100))
    }
    await put('fanout/key', 'after')
    const results = await Promise.all(waiters)
    pool.destroy()
    assert.equal(results.length, 5000)
    for (const r of results) {
      assert.equal(r.status, 200)
      assert.ok(r.index > index)
      assert.match(r.body, /"Value":"YWZ0ZXI="/)
    }
  })

  test('bad blocking parameters are 400 with Consul\'s messages', async () => {
    const cases: Array<[string, string]> = [
      ['?index=-1', 'Invalid index'],
      ['?index=abc', 'Invalid index'],
      ['?index=5&wait=forever', 'Invalid wait time'],
      ['?index=5&wait=-5s', 'Invalid wait time'],
      ['?stale&consistent', 'Cannot specify ?stale with ?consistent, conflicting semantics.'],
    ]
    for (const [query, message] of cases) {
      const res = await fetch(`${base}/v1/kv/web/key${query}`)
      assert.equal(res.status, 400, query)
      assert.equal(await res.text(), message, query)
    }
  })
})
