import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import ConsulPkg from 'consul'
import { startAgent, removeDir, type RunningAgent } from '../helpers/agent.js'

const Consul = ConsulPkg as unknown as new (opts: { host: string; port: number }) => ConsulApi
interface ConsulApi {
  kv: {
    get(opts: unknown): Promise<any>
    keys(opts: unknown): Promise<any>
    set(opts: unknown, value?: unknown): Promise<any>
    del(opts: unknown): Promise<any>
  }
  transaction: { create(ops: unknown[]): Promise<any> }
  status: { leader(): Promise<any>; peers(): Promise<any> }
}

const PAIR_KEYS = ['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex', 'Value']

describe('KV HTTP API against a real agent process', () => {
  let agent: RunningAgent
  let base: string
  let consul: ConsulApi

  before(async () => {
    agent = await startAgent()
    base = agent.httpAddr
    const url = new URL(base)
    consul = new Consul({ host: url.hostname, port: Number(url.port) })
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
  })

  test('the README flow: PUT answers true, GET ?recurse answers the KVPair array', async () => {
    const put = await fetch(`${base}/v1/kv/web/key1`, { method: 'PUT', body: 'test' })
    assert.equal(put.status, 200)
    assert.equal(await put.text(), 'true')
    const res = await fetch(`${base}/v1/kv/?recurse`)
    const pairs = (await res.json()) as Array<Record<string, unknown>>
    const pair = pairs.find((p) => p.Key === 'web/key1')!
    assert.equal(pair.Value, 'dGVzdA==')
    assert.deepEqual(Object.keys(pair).sort(), PAIR_KEYS)
  })

  test('every read carries X-Consul-Index (never 0), KnownLeader and LastContact, 404 included', async () => {
    for (const path of ['/v1/kv/web/key1', '/v1/kv/does/not/exist', '/v1/kv/?recurse', '/v1/kv/?keys']) {
      const res = await fetch(base + path)
      await res.arrayBuffer()
      const index = res.headers.get('x-consul-index')
      assert.ok(index && Number(index) >= 1, `${path}: X-Consul-Index ${index}`)
      assert.equal(res.headers.get('x-consul-knownleader'), 'true', path)
      assert.equal(res.headers.get('x-consul-lastcontact'), '0', path)
    }
    const missing = await fetch(`${base}/v1/kv/does/not/exist`)
    assert.equal(missing.status, 404)
    assert.equal(await missing.text(), '')
  })

  test('a missing key or an empty prefix reports the KV table\'s index, and a blocking read of it waits for the key', async () => {
    await fetch(`${base}/v1/kv/other/a`, { method: 'PUT', body: 'x' })
    const write = await fetch(`${base}/v1/kv/other/b`, { method: 'PUT', body: 'y' })
    await write.arrayBuffer()
    const table = Number((await fetch(`${base}/v1/kv/?recurse`)).headers.get('x-consul-index'))
    for (const path of ['/v1/kv/not/yet', '/v1/kv/not/?recurse', '/v1/kv/not/?keys']) {
      const res = await fetch(base + path)
      assert.equal(res.status, 404, path)
      assert.equal(Number(res.headers.get('x-consul-index')), table, path)
    }
    // Blocking from the table's index: the answer is the key once it is written, not an early 404.
    const waiting = fetch(`${base}/v1/kv/not/yet?index=${table}&wait=30s`)
    await new Promise((r) => setTimeout(r, 200))
    await (await fetch(`${base}/v1/kv/not/yet`, { method: 'PUT', body: 'here' })).arrayBuffer()
    const res = await waiting
    assert.equal(res.status, 200)
    const [pair] = (await res.json()) as Array<{ Value: string; ModifyIndex: number }>
    assert.equal(Buffer.from(pair!.Value, 'base64').toString(), 'here')
    assert.equal(Number(res.headers.get('x-consul-index')), pair!.ModifyIndex)
    // A deleted key keeps reporting the table's index, which moves with every write or delete.
    await (await fetch(`${base}/v1/kv/not/yet`, { method: 'DELETE' })).arrayBuffer()
    const after = await fetch(`${base}/v1/kv/not/yet`)
    assert.equal(after.status, 404)
    assert.equal(Number(after.headers.get('x-consul-index')), Number((await fetch(`${base}/v1/kv/?recurse`)).headers.get('x-consul-index')))
    assert.ok(Number(after.headers.get('x-consul-index')) > pair!.ModifyIndex)
  })

  test('npm consul: set, get with the exact field set, raw, missing, null value, delete', async () => {
    assert.equal(await consul.kv.set('node/a', 'hello'), true)
    const got = await consul.kv.get('node/a')
    assert.deepEqual(Object.keys(got).sort(), PAIR_KEYS)
    assert.equal(got.Value, 'hello')
    assert.equal(got.Flags, 0)
    const raw = await fetch(`${base}/v1/kv/node/a?raw`)
    assert.equal(raw.headers.get('content-type'), 'text/plain')
    assert.equal(raw.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(await raw.text(), 'hello')
    assert.equal(await consul.kv.get('node/missing'), undefined)
    assert.equal(await consul.kv.set('node/empty', null), true)
    assert.equal((await consul.kv.get('node/empty')).Value, null)
    assert.equal(await consul.kv.del('node/a'), true)
    assert.equal(await consul.kv.get('node/a'), undefined)
  })

  test('npm consul: recurse and keys with and without separator', async () => {
    for (const k of ['tree/a', 'tree/b/c', 'tree/b/d']) await consul.kv.set(k, k)
    const all = await consul.kv.get({ key: 'tree/', recurse: true })
    assert.deepEqual(all.map((p: { Key: string }) => p.Key), ['tree/a', 'tree/b/c', 'tree/b/d'])
    assert.deepEqual(await consul.kv.keys('tree/'), ['tree/a', 'tree/b/c', 'tree/b/d'])
    assert.deepEqual(await consul.kv.keys({ key: 'tree/', separator: '/' }), ['tree/a', 'tree/b/'])
    const empty = await fetch(`${base}/v1/kv/nothing-here/?keys`)
    assert.equal(empty.status, 404)
  })

  test('flags keep all 64 bits', async () => {
    const lockFlag = '3304740253564472344'
    await fetch(`${base}/v1/kv/flags/lock?flags=${lockFlag}`, { method: 'PUT', body: 'x' })
    await fetch(`${base}/v1/kv/flags/max?flags=18446744073709551615`, { method: 'PUT', body: 'x' })
    const text = await (await fetch(`${base}/v1/kv/flags/?recurse`)).text()
    assert.match(text, new RegExp(`"Flags":${lockFlag}[,}]`))
    assert.match(text, /"Flags":18446744073709551615[,}]/)
    const tooBig = await fetch(`${base}/v1/kv/flags/x?flags=18446744073709551616`, { method: 'PUT', body: 'x' })
    assert.equal(tooBig.status, 400)
  })

  test('cas: 0 creates only when absent, N writes only at that ModifyIndex', async () => {
    const put = (q: string, body: string) => fetch(`${base}/v1/kv/cas/k${q}`, { method: 'PUT', body }).then((r) => r.text())
    assert.equal(await put('?cas=0', 'a'), 'true')
    assert.equal(await put('?cas=0', 'b'), 'false')
    const [pair] = (await (await fetch(`${base}/v1/kv/cas/k`)).json()) as Array<{ ModifyIndex: number }>
    assert.equal(await put(`?cas=${pair!.ModifyIndex + 100}`, 'c'), 'false')
    assert.equal(await put(`?cas=${pair!.ModifyIndex}`, 'c'), 'true')
    const del = await fetch(`${base}/v1/kv/cas/k?cas=1`, { method: 'DELETE' })
    assert.equal(await del.text(), 'false')
  })

  test('npm consul transaction: two sets give results with exactly the KV keys', async () => {
    const out = await consul.transaction.create([
      { KV: { Verb: 'set', Key: 'txn/a', Value: Buffer.from('1').toString('base64') } },
      { KV: { Verb: 'set', Key: 'txn/b', Value: Buffer.from('2').toString('base64') } },
    ])
    assert.equal(out.Errors, null)
    assert.equal(out.Results.length, 2)
    for (const r of out.Results) assert.deepEqual(Object.keys(r.KV).sort(), ['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex'])
  })

  test('txn: a failing check rolls back with 409; a read-only txn reads', async () => {
    const res = await fetch(`${base}/v1/txn`, {
      method: 'PUT',
      body: JSON.stringify([
        { KV: { Verb: 'set', Key: 'txn/c', Value: 'Mw==' } },
        { kv: { verb: 'check-not-exists', key: 'txn/a' } },
      ]),
    })
    assert.equal(res.status, 409)
    const body = (await res.json()) as { Results: unknown; Errors: Array<{ OpIndex: number; What: string }> }
    assert.equal(body.Results, null)
    assert.deepEqual(body.Errors, [{ OpIndex: 1, What: 'key "txn/a" exists' }])
    assert.equal((await fetch(`${base}/v1/kv/txn/c`)).status, 404)

    const read = await fetch(`${base}/v1/txn`, { method: 'PUT', body: JSON.stringify([{ KV: { Verb: 'get-tree', Key: 'txn/' } }]) })
    assert.equal(read.status, 200)
    assert.equal(read.headers.get('x-consul-knownleader'), 'true')
    const tree = (await read.json()) as { Results: Array<{ KV: { Key: string; Value: string } }> }
    assert.deepEqual(tree.Results.map((r) => [r.KV.Key, r.KV.Value]), [['txn/a', 'MQ=='], ['txn/b', 'Mg==']])
  })

  test('txn limits: more than 128 operations is 413', async () => {
    const ops = Array.from({ length: 129 }, (_, i) => ({ KV: { Verb: 'set', Key: `many/${i}` } }))
    const res = await fetch(`${base}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) })
    assert.equal(res.status, 413)
    assert.match(await res.text(), /too many operations \(129 > 128\)/)
  })

  test('the agent\'s root answers 200 as Consul\'s does without a UI, so an HTTP check on it passes', async () => {
    const res = await fetch(`${base}/`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    assert.match(await res.text(), /^Consul Agent: UI disabled/)
    assert.equal((await fetch(`${base}/`, { method: 'HEAD' })).status, 200)
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404)
    const reg = await fetch(`${base}/v1/agent/check/register`, { method: 'PUT', body: JSON.stringify({ Name: 'root', HTTP: `${base}/`, Interval: '1s' }) })
    assert.equal(reg.status, 200)
    const deadline = Date.now() + 30_000
    let status = ''
    while (status !== 'passing' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      status = ((await (await fetch(`${base}/v1/agent/checks`)).json()) as Record<string, { Status: string }>).root?.Status ?? ''
    }
    assert.equal(status, 'passing')
    await (await fetch(`${base}/v1/agent/check/deregister/root`, { method: 'PUT' })).arrayBuffer()
  })

  test('status, agent/self, catalog/datacenters', async () => {
    assert.equal(await consul.status.leader(), agent.serverAddr)
    assert.deepEqual(await consul.status.peers(), [agent.serverAddr])
    const self = (await (await fetch(`${base}/v1/agent/self`)).json()) as Record<string, any>
    for (const k of ['Config', 'DebugConfig', 'Coord', 'Member', 'Stats', 'Meta']) assert.ok(self[k] && typeof self[k] === 'object', k)
    assert.equal(self.Config.Datacenter, 'dc1')
    assert.equal(self.Config.NodeName, 'test-node')
    assert.equal(self.Config.Server, true)
    assert.equal(self.Member.Name, 'test-node')
    assert.equal(self.Member.Addr, '127.0.0.1')
    assert.equal(self.Stats.consul.leader_addr, await consul.status.leader())
    assert.deepEqual(await (await fetch(`${base}/v1/catalog/datacenters`)).json(), ['dc1'])
  })

  test('with ACLs disabled, as in Consul, a token (any token) changes no answer and the default policy says allow', async () => {
    // The ACL issue makes tokens matter; until then what is true is that none of them does, and the
    // agent says so in X-Consul-Default-Acl-Policy rather than pretending to check them.
    const anonymous = await fetch(`${base}/v1/kv/web/key1`)
    const expected = await anonymous.text()
    assert.equal(anonymous.headers.get('x-consul-default-acl-policy'), 'allow')
    const inits: Array<[string, RequestInit]> = [
      ['?token=', {}],
      ['', { headers: { 'X-Consul-Token': 'not-a-real-token' } }],
      ['', { headers: { Authorization: 'Bearer not-a-real-token' } }],
    ]
    for (const [query, init] of inits) {
      const res = await fetch(`${base}/v1/kv/web/key1${query ? `${query}not-a-real-token` : ''}`, init)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('x-consul-default-acl-policy'), 'allow')
      assert.equal(await res.text(), expected)
    }
    // A write with a made-up token goes through too (there is nothing to deny it yet).
    const put = await fetch(`${base}/v1/kv/web/token-write`, { method: 'PUT', body: 'x', headers: { 'X-Consul-Token': 'nobody' } })
    assert.equal(await put.text(), 'true')
  })

  test('?pretty indents JSON with 4 spaces', async () => {
    const text = await (await fetch(`${base}/v1/kv/web/key1?pretty`)).text()
    assert.match(text, /^\[\n {4}\{\n {8}"LockIndex"/)
  })

  test('?dc for an unknown datacenter is 500 No path to datacenter', async () => {
    const res = await fetch(`${base}/v1/kv/web/key1?dc=dc2`)
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'No path to datacenter')
  })
})
