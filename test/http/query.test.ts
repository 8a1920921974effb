import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, removeDir, type RunningAgent } from '../helpers/agent.js'
import { getJson } from '../helpers/poll.js'
import { Resolver } from 'node:dns/promises'

describe('prepared queries', () => {
  let agent: RunningAgent
  let base: string
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, { method, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.status, text: await res.text() }
  }

  before(async () => {
    agent = await startAgent({ dev: true, dns: true })
    base = agent.httpAddr
    // Three instances of redis on external nodes: primary, replica, and a failing replica.
    const reg = (node: string, tags: string[], status: string) =>
      send('PUT', '/v1/catalog/register', { Node: node, Address: `10.0.0.${node.length}`, NodeMeta: { rack: node === 'n1' ? 'a' : 'b' }, Service: { Service: 'redis', Tags: tags, Port: 6379 }, Check: { Name: 'redis alive', ServiceID: 'redis', Status: status } })
    await reg('n1', ['primary', 'v7'], 'passing')
    await reg('n22', ['replica', 'v7'], 'warning')
    await reg('n333', ['replica'], 'critical')
  })
  after(async () => {
    await agent.stop()
  })

  test('create, read, execute with tags, negated tags, OnlyPassing and node meta', async () => {
    const created = await send('POST', '/v1/query', { Name: 'redis-any', Service: { Service: 'redis' }, DNS: { TTL: '10s' } })
    assert.equal(created.status, 200)
    const { ID } = JSON.parse(created.text) as { ID: string }
    const [q] = await getJson<any[]>(`${base}/v1/query/${ID}`)
    assert.equal(q.Name, 'redis-any')
    assert.equal(q.DNS.TTL, '10s')
    assert.deepEqual((await getJson<any[]>(`${base}/v1/query`)).map((x) => x.ID), [ID])

    const exec = async (idOrName: string) => getJson<any>(`${base}/v1/query/${idOrName}/execute`)
    const all = await exec('redis-any')
    assert.equal(all.Service, 'redis')
    assert.equal(all.Datacenter, 'dc1')
    assert.deepEqual(all.DNS, { TTL: '10s' })
    assert.deepEqual(all.Nodes.map((e: any) => e.Node.Node).sort(), ['n1', 'n22'], 'critical instances are left out')
    assert.deepEqual(Object.keys(all.Nodes[0]).sort(), ['Checks', 'Node', 'Service'])

    const make = async (Service: Record<string, unknown>) => (JSON.parse((await send('POST', '/v1/query', { Service: { Service: 'redis', ...Service } })).text) as { ID: string }).ID
    assert.deepEqual((await exec(await make({ OnlyPassing: true }))).Nodes.map((e: any) => e.Node.Node), ['n1'])
    assert.deepEqual((await exec(await make({ Tags: ['!primary'] }))).Nodes.map((e: any) => e.Node.Node), ['n22'])
    assert.deepEqual((await exec(await make({ Tags: ['V7', 'replica'] }))).Nodes.map((e: any) => e.Node.Node), ['n22'], 'tags match case-insensitively')
    assert.deepEqual((await exec(await make({ NodeMeta: { rack: 'a' } }))).Nodes.map((e: any) => e.Node.Node), ['n1'])
    assert.deepEqual((await exec(await make({ IgnoreCheckIDs: ['redis alive'] }))).Nodes.length, 3)
    assert.equal((await getJson<any>(`${base}/v1/query/redis-any/execute?limit=1`)).Nodes.length, 1)
    assert.equal((await getJson<any>(`${base}/v1/query/redis-any/explain`)).Query.ID, ID)
  })

  test('DNS answers <name>.query.consul with the query\'s instances and TTL', async () => {
    const resolver = new Resolver()
    resolver.setServers([`127.0.0.1:${agent.dnsPort}`])
    const a = await resolver.resolve4('redis-any.query.consul', { ttl: true })
    assert.deepEqual(a.map((r) => r.address).sort(), ['10.0.0.2', '10.0.0.3'])
    assert.equal(a[0]!.ttl, 10)
    const srv = await resolver.resolveSrv('redis-any.query.consul')
    assert.deepEqual([...new Set(srv.map((r) => r.port))], [6379])
  })

  test('update and delete', async () => {
    const { ID } = JSON.parse((await send('POST', '/v1/query', { Name: 'temp', Service: { Service: 'redis' } })).text) as { ID: string }
    assert.equal((await send('PUT', `/v1/query/${ID}`, { Name: 'temp', Service: { Service: 'redis', OnlyPassing: true } })).status, 200)
    assert.equal((await getJson<any[]>(`${base}/v1/query/${ID}`))[0].Service.OnlyPassing, true)
    assert.equal((await send('DELETE', `/v1/query/${ID}`)).status, 200)
    assert.equal((await send('GET', `/v1/query/${ID}`)).status, 404)
    assert.equal((await send('GET', `/v1/query/temp/execute`)).status, 404)
  })

  test('bad queries are refused', async () => {
    assert.deepEqual(await send('POST', '/v1/query', { Name: 'x' }), { status: 400, text: 'Must provide a Service name to query' })
    const dup = await send('POST', '/v1/query', { Name: 'redis-any', Service: { Service: 'redis' } })
    assert.equal(dup.status, 400)
    assert.match(dup.text, /redis-any/)
    assert.equal((await send('POST', '/v1/query', { Service: { Service: 'redis' }, DNS: { TTL: 'soon' } })).status, 400)
    assert.equal((await send('POST', '/v1/query', '{')).status, 400)
  })
})
