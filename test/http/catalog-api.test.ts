import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until, getJson } from '../helpers/poll.js'

describe('catalog, health and agent registrations', () => {
  let agent: RunningAgent
  let base: string
  let dir: string
  const put = (path: string, body?: unknown) => fetch(base + path, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) })

  before(async () => {
    dir = tempDir('catalog-')
    writeFileSync(join(dir, 'base.json'), JSON.stringify({ enable_local_script_checks: true }))
    agent = await startAgent({ args: [`-config-dir=${dir}`] })
    base = agent.httpAddr
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('bad registrations are refused with Consul\'s status and the field named', async () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['/v1/agent/check/register', { Name: 'c', HTTP: 'http://127.0.0.1:1/' }, 400, /Interval must be > 0/],
      ['/v1/agent/check/register', { Name: 'c' }, 400, /TTL must be > 0/],
      ['/v1/agent/check/register', { Name: 'c', Args: ['true'], Interval: '10s' }, 500, /Scripts are disabled on this agent from remote calls/],
      ['/v1/agent/check/register', { Name: 'c', TTL: 'soon' }, 400, /TTL/],
      ['/v1/agent/service/register', { Name: 'web', Port: 'eighty' }, 400, /Port/],
      ['/v1/agent/service/register', { Name: 'web', Port: 70000 }, 400, /Port/],
      ['/v1/agent/service/register', { Port: 80 }, 400, /Missing service name/],
      ['/v1/agent/service/register', { Name: 'web', Check: { HTTP: 'http://x/' } }, 400, /Interval must be > 0/],
      ['/v1/agent/service/register', '{"Name": ', 400, /Request decode failed/],
      ['/v1/catalog/register', { Address: '10.0.0.1' }, 400, /Must provide node/],
      ['/v1/session/create', { TTL: '1s' }, 400, /Invalid Session TTL/],
      ['/v1/session/create', { Behavior: 'explode' }, 400, /Behavior/],
    ]
    for (const [path, body, status, message] of cases) {
      const res = await fetch(base + path, { method: 'PUT', body: typeof body === 'string' ? body : JSON.stringify(body) })
      const text = await res.text()
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${text}`)
      assert.match(text, message, path)
    }
    assert.deepEqual(await getJson(`${base}/v1/agent/services`), {}, 'nothing half-registered')
  })

  test('a bad filter is 400 naming the problem', async () => {
    for (const path of ['/v1/catalog/nodes', '/v1/health/service/x', '/v1/agent/services', '/v1/catalog/service/x', '/v1/health/state/any']) {
      const res = await fetch(`${base}${path}?filter=${encodeURIComponent('Nope == 1')}`)
      assert.equal(res.status, 400, path)
      assert.match(await res.text(), /^Failed to create boolean expression evaluator: .*Selector "Nope" is not valid/, path)
    }
    const syntax = await fetch(`${base}/v1/catalog/nodes?filter=${encodeURIComponent('Node ==')}`)
    assert.equal(syntax.status, 400)
  })

  test('?filter selects entries on catalog, health and agent endpoints', async () => {
    await put('/v1/agent/service/register', { Name: 'api', ID: 'api-1', Tags: ['v1'], Port: 1, Meta: { env: 'prod' } })
    await put('/v1/agent/service/register', { Name: 'api', ID: 'api-2', Tags: ['v2'], Port: 2, Meta: { env: 'dev' } })
    await until('both api instances', async () => ((await getJson<any[]>(`${base}/v1/catalog/service/api`)).length === 2 ? true : undefined))
    const q = (f: string) => encodeURIComponent(f)
    assert.deepEqual((await getJson<any[]>(`${base}/v1/catalog/service/api?filter=${q('ServiceMeta.env == prod')}`)).map((s) => s.ServiceID), ['api-1'])
    assert.deepEqual((await getJson<any[]>(`${base}/v1/health/service/api?filter=${q('"v2" in Service.Tags')}`)).map((e) => e.Service.ID), ['api-2'])
    assert.deepEqual(Object.keys(await getJson(`${base}/v1/agent/services?filter=${q('Meta.env == dev')}`)), ['api-2'])
    assert.deepEqual((await getJson<any[]>(`${base}/v1/catalog/service/api?tag=v1`)).map((s) => s.ServiceID), ['api-1'])
    await put('/v1/agent/service/deregister/api-1')
    await put('/v1/agent/service/deregister/api-2')
  })

  test('a blocking health query wakes on a check change, and not on other services', async () => {
    await put('/v1/agent/service/register', { Name: 'blocky', Check: { TTL: '60s', CheckID: 'blocky-ttl' } })
    await put('/v1/agent/service/register', { Name: 'other', Check: { TTL: '60s', CheckID: 'other-ttl' } })
    const first = await until('blocky in health', async () => {
      const res = await fetch(`${base}/v1/health/service/blocky`)
      const body = (await res.json()) as any[]
      // Registered with its check: anti-entropy writes the service and the check separately.
      return body[0]?.Checks.length === 2 ? Number(res.headers.get('x-consul-index')) : undefined
    })
    const quiet = fetch(`${base}/v1/health/service/blocky?index=${first}&wait=1s`)
    await put('/v1/agent/check/pass/other-ttl')
    const unchanged = await quiet
    await unchanged.arrayBuffer()
    assert.equal(Number(unchanged.headers.get('x-consul-index')), first, 'a change to another service does not move this index')
    const waiting = fetch(`${base}/v1/health/service/blocky?index=${first}&wait=60s`)
    await put('/v1/agent/check/pass/other-ttl?note=again')
    await put('/v1/agent/check/pass/blocky-ttl')
    const res = await waiting
    const entries = (await res.json()) as any[]
    assert.ok(Number(res.headers.get('x-consul-index')) > first)
    assert.equal(entries[0].Checks.find((c: any) => c.CheckID === 'blocky-ttl').Status, 'passing')
  })

  test('anti-entropy puts back what was changed behind the agent\'s back', async () => {
    await put('/v1/agent/service/register', { Name: 'kept', Port: 7 })
    await until('kept in the catalog', async () => ((await getJson<any[]>(`${base}/v1/catalog/service/kept`)).length ? true : undefined))
    await put('/v1/catalog/deregister', { Node: 'test-node', ServiceID: 'kept' })
    await until('kept re-registered', async () => ((await getJson<any[]>(`${base}/v1/catalog/service/kept`)).length ? true : undefined))
    await put('/v1/catalog/register', { Node: 'test-node', Address: '127.0.0.1', Service: { Service: 'kept', ID: 'kept', Port: 9999 } })
    await until('kept port restored', async () => ((await getJson<any[]>(`${base}/v1/catalog/service/kept`))[0]?.ServicePort === 7 ? true : undefined))
  })

  test('external nodes registered through the catalog API', async () => {
    assert.equal(await (await put('/v1/catalog/register', { Node: 'ext', Address: '10.1.2.3', NodeMeta: { rack: 'r1' }, Service: { Service: 'db', Port: 5432, Tags: ['primary'] }, Check: { Name: 'db alive', ServiceID: 'db', Status: 'passing' } })).text(), 'true')
    const db = await getJson<any[]>(`${base}/v1/health/service/db?passing`)
    assert.equal(db.length, 1)
    assert.equal(db[0].Node.Address, '10.1.2.3')
    assert.deepEqual(db[0].Checks.map((c: any) => c.Name), ['db alive'])
    assert.deepEqual((await getJson<any[]>(`${base}/v1/catalog/nodes?node-meta=rack:r1`)).map((n) => n.Node), ['ext'])
    assert.equal((await getJson<any>(`${base}/v1/catalog/node/ext`)).Services.db.Port, 5432)
    assert.equal((await getJson<any>(`${base}/v1/catalog/node-services/ext`)).Services[0].ID, 'db')
    assert.equal(await (await fetch(`${base}/v1/catalog/node/nobody`)).text(), 'null')
    await put('/v1/catalog/deregister', { Node: 'ext' })
    assert.deepEqual(await getJson(`${base}/v1/catalog/service/db`), [])
  })

  test('agent health endpoints answer 200/429/503 by aggregated status', async () => {
    await put('/v1/agent/service/register', { Name: 'agg', Check: { TTL: '60s', CheckID: 'agg-ttl' } })
    const status = async () => (await fetch(`${base}/v1/agent/health/service/id/agg?format=text`)).status
    assert.equal(await status(), 503)
    await put('/v1/agent/check/warn/agg-ttl')
    assert.equal(await status(), 429)
    await put('/v1/agent/check/pass/agg-ttl')
    assert.equal(await status(), 200)
    const byName = await fetch(`${base}/v1/agent/health/service/name/agg`)
    assert.equal(byName.status, 200)
    assert.equal(((await byName.json()) as any[])[0].AggregatedStatus, 'passing')
    assert.equal((await fetch(`${base}/v1/agent/health/service/id/none`)).status, 404)
  })

  test('consul reload adds, changes and removes config services without touching HTTP ones', async () => {
    await put('/v1/agent/service/register', { Name: 'from-http', Port: 1 })
    writeFileSync(join(dir, 'svc.json'), JSON.stringify({ services: [{ name: 'from-file', port: 2, tags: ['a'] }, { name: 'also-file', port: 3 }] }))
    await put('/v1/agent/reload')
    let services = await getJson<Record<string, any>>(`${base}/v1/agent/services`)
    assert.deepEqual(['also-file', 'from-file', 'from-http'].map((k) => Boolean(services[k])), [true, true, true])
    writeFileSync(join(dir, 'svc.json'), JSON.stringify({ service: { name: 'from-file', port: 22, tags: ['b'] } }))
    await put('/v1/agent/reload')
    services = await getJson<Record<string, any>>(`${base}/v1/agent/services`)
    assert.equal(services['from-file'].Port, 22)
    assert.equal(services['also-file'], undefined)
    assert.equal(services['from-http'].Port, 1)
    rmSync(join(dir, 'svc.json'))
    await put('/v1/agent/reload')
    services = await getJson<Record<string, any>>(`${base}/v1/agent/services`)
    assert.equal(services['from-file'], undefined)
    assert.ok(services['from-http'])
    await until('catalog follows', async () => ((await getJson<Record<string, string[]>>(`${base}/v1/catalog/services`))['from-file'] ? undefined : true))
  })

  test('a reload with a bad service definition is refused and changes nothing', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ service: { name: 'broken', port: 'x' } }))
    const res = await put('/v1/agent/reload')
    assert.equal(res.status, 500)
    assert.match(await res.text(), /port/i)
    rmSync(join(dir, 'bad.json'))
  })
})

test('registrations made over HTTP survive a restart', async () => {
  const dataDir = tempDir()
  try {
    const first = await startAgent({ dataDir })
    await fetch(`${first.httpAddr}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'durable', Port: 5, Check: { TTL: '60s' } }) })
    await fetch(`${first.httpAddr}/v1/agent/check/pass/service:durable`, { method: 'PUT' })
    await first.stop()
    const second = await startAgent({ dataDir })
    try {
      const services = await getJson<Record<string, any>>(`${second.httpAddr}/v1/agent/services`)
      assert.equal(services.durable.Port, 5)
      const checks = await getJson<Record<string, any>>(`${second.httpAddr}/v1/agent/checks`)
      assert.equal(checks['service:durable'].Status, 'passing', 'the last known status comes back')
    } finally {
      await second.stop()
    }
  } finally {
    removeDir(dataDir)
  }
})

test('GET /v1/agent/service/:id blocks on ?hash until the service changes, honouring ?wait', async () => {
  const agent = await startAgent({ dev: true })
  try {
    const base = agent.httpAddr
    await fetch(`${base}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'hashed', Port: 1 }) })
    const first = await fetch(`${base}/v1/agent/service/hashed`)
    const hash = first.headers.get('x-consul-contenthash')!
    assert.equal(((await first.json()) as { ContentHash: string }).ContentHash, hash)
    const unchanged = await fetch(`${base}/v1/agent/service/hashed?hash=${hash}&wait=200ms`)
    assert.equal(unchanged.headers.get('x-consul-contenthash'), hash, 'times out with the same content')
    await unchanged.arrayBuffer()
    const waiting = fetch(`${base}/v1/agent/service/hashed?hash=${hash}&wait=60s`)
    await fetch(`${base}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'hashed', Port: 2 }) })
    const changed = await waiting
    assert.notEqual(changed.headers.get('x-consul-contenthash'), hash)
    assert.equal(((await changed.json()) as { Port: number }).Port, 2)
  } finally {
    await agent.stop()
  }
})
