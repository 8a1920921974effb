import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ConsulPkg from 'consul'
import { startAgent, removeDir, tempDir, ROOT, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const Consul = ConsulPkg as unknown as new (opts: { host: string; port: number }) => any

const CHECK_KEYS = ['CheckID', 'CreateIndex', 'Definition', 'ExposedPort', 'Interval', 'ModifyIndex', 'Name', 'Node', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Status', 'Timeout', 'Type']
const SESSION_KEYS = ['Behavior', 'CreateIndex', 'ID', 'LockDelay', 'ModifyIndex', 'Name', 'Node', 'NodeChecks', 'ServiceChecks', 'TTL']

describe('real clients against the agent: the npm consul package', () => {
  let agent: RunningAgent
  let consul: any
  let dir: string

  before(async () => {
    dir = tempDir('clients-')
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ primary_datacenter: 'dc1', acl: { enabled: false }, enable_script_checks: true }))
    agent = await startAgent({ args: [`-config-file=${join(dir, 'agent.json')}`] })
    const url = new URL(agent.httpAddr)
    consul = new Consul({ host: url.hostname, port: Number(url.port) })
    await until('the node in the catalog', async () => ((await consul.catalog.node.list()).length === 1 ? true : undefined))
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('agent: members and self', async () => {
    // What is true before gossip: the agent is a live member with Consul's tags. The gossip issue
    // adds the other agents; this asserts nothing about how many there are.
    const members = await consul.agent.members()
    const self = members.find((m: any) => m.Name === 'test-node')
    assert.ok(self, JSON.stringify(members))
    assert.equal(self.Status, 1, 'alive')
    assert.equal(self.Addr, '127.0.0.1')
    assert.deepEqual([self.Tags.role, self.Tags.dc, self.Tags.port], ['consul', 'dc1', agent.serverAddr.split(':')[1]])
    assert.equal(`${self.Addr}:${self.Port}`, agent.lanAddr)
    for (const m of members) for (const k of ['Name', 'Addr', 'Port', 'Tags', 'Status', 'ProtocolMin', 'ProtocolMax', 'ProtocolCur', 'DelegateMin', 'DelegateMax', 'DelegateCur']) assert.ok(k in m, `${m.Name}: ${k}`)
    const agentSelf = await consul.agent.self()
    assert.equal(agentSelf.Config.Server, true)
    assert.equal(agentSelf.Config.Datacenter, 'dc1')
    assert.equal(agentSelf.Member.Addr, '127.0.0.1')
    assert.deepEqual(agentSelf.Member, self, 'agent/self and members describe the agent alike')
  })

  test('agent: TTL checks through register, list, pass, warn, fail, deregister', async () => {
    await consul.agent.check.register({ name: 'ttl-check', ttl: '30s' })
    let checks = await consul.agent.check.list()
    assert.equal(checks['ttl-check'].Status, 'critical')
    assert.deepEqual(Object.keys(checks['ttl-check']).sort(), CHECK_KEYS)
    await consul.agent.check.pass({ id: 'ttl-check', note: 'fine' })
    checks = await consul.agent.check.list()
    assert.equal(checks['ttl-check'].Status, 'passing')
    assert.equal(checks['ttl-check'].Output, 'fine')
    await consul.agent.check.warn('ttl-check')
    assert.equal((await consul.agent.check.list())['ttl-check'].Status, 'warning')
    await consul.agent.check.fail('ttl-check')
    assert.equal((await consul.agent.check.list())['ttl-check'].Status, 'critical')
    await consul.agent.check.deregister('ttl-check')
    assert.equal((await consul.agent.check.list())['ttl-check'], undefined)
  })

  test('agent: services with HTTP and script checks, maintenance', async () => {
    await consul.agent.service.register({ name: 'web', tags: ['v1'], port: 80, check: { http: 'http://127.0.0.1:1/health', interval: '30s', notes: 'web health' } })
    await consul.agent.service.register({ name: 'script', check: { args: ['true'], interval: '30s' } })
    const services = await consul.agent.service.list()
    assert.deepEqual(Object.keys(services).sort(), ['script', 'web'], 'the consul service is not an agent service')
    assert.equal(services.web.Port, 80)
    const checks = await consul.agent.check.list()
    assert.equal(checks['service:web'].Notes, 'web health')
    assert.equal(checks['service:script'].Type, 'script')
    await consul.agent.service.maintenance({ id: 'web', enable: true, reason: 'upgrade' })
    const maint = (await consul.agent.check.list())['_service_maintenance:web']
    assert.equal(maint.Status, 'critical')
    assert.equal(maint.Notes, 'upgrade')
    await consul.agent.service.maintenance({ id: 'web', enable: false })
    assert.equal((await consul.agent.check.list())['_service_maintenance:web'], undefined)
    await consul.agent.maintenance({ enable: true, reason: 'node work' })
    assert.equal((await consul.agent.check.list())._node_maintenance.Status, 'critical')
    await consul.agent.maintenance({ enable: false })
    assert.equal((await consul.agent.check.list())._node_maintenance, undefined)
    await consul.agent.service.deregister('web')
    await consul.agent.service.deregister('script')
    assert.deepEqual(await consul.agent.service.list(), {})
  })

  test('catalog and health as the acceptance suite of the npm package expects', async () => {
    await consul.agent.service.register({ name: 'svc', tags: ['tag1'], check: { ttl: '60s' } })
    await until('svc in the catalog', async () => ((await consul.catalog.service.list()).svc ? true : undefined))
    assert.deepEqual(await consul.catalog.datacenters(), ['dc1'])
    const nodes = await consul.catalog.node.list()
    assert.equal(nodes[0].Node, 'test-node')
    assert.equal(nodes[0].Address, '127.0.0.1')
    assert.deepEqual((await consul.catalog.node.services('test-node')).Services.svc.Tags, ['tag1'])
    assert.deepEqual(await consul.catalog.service.list(), { consul: [], svc: ['tag1'] })
    assert.deepEqual((await consul.catalog.service.nodes('svc')).map((n: any) => n.Node), ['test-node'])

    const nodeChecks = await consul.health.node('test-node')
    assert.equal(nodeChecks[0].CheckID, 'serfHealth')
    assert.equal(nodeChecks[0].Status, 'passing')
    assert.deepEqual((await consul.health.checks('svc')).map((c: any) => c.CheckID), ['service:svc'])
    const entries = await consul.health.service('svc')
    assert.deepEqual(entries[0].Checks.map((c: any) => c.CheckID), ['serfHealth', 'service:svc'])
    assert.deepEqual(Object.keys(entries[0]).sort(), ['Checks', 'Node', 'Service'])
    assert.equal((await consul.health.state('critical')).length, 1)
    assert.equal((await consul.health.state('any')).length, 2)
    assert.deepEqual(await consul.health.service({ service: 'svc', passing: true }), [])
  })

  test('sessions: create, info, node, list, renew, destroy', async () => {
    const { ID } = await consul.session.create({ name: 's', ttl: '10s' })
    const info = await consul.session.info(ID)
    for (const k of ['CreateIndex', 'ID', 'Name', 'Node', 'NodeChecks', 'LockDelay', 'Behavior', 'TTL']) assert.ok(k in info, k)
    assert.deepEqual(Object.keys(info).sort(), SESSION_KEYS)
    assert.equal(info.LockDelay, 15e9)
    assert.deepEqual(info.NodeChecks, ['serfHealth'])
    assert.equal((await consul.session.node('test-node')).length, 1)
    assert.deepEqual(await consul.session.node('no-such-node'), [])
    assert.equal((await consul.session.list()).length, 1)
    const renewed = await consul.session.renew(ID)
    assert.ok(Array.isArray(renewed) && renewed[0].ID === ID)
    await consul.session.destroy(ID)
    assert.equal(await consul.session.info(ID), undefined)
  })

  test('locks: acquire, LockIndex, release, and invalidation by a failing check', async () => {
    await consul.agent.check.register({ name: 'guard', ttl: '60s' })
    await consul.agent.check.pass('guard')
    await until('guard passing in the catalog', async () => ((await consul.health.node('test-node')).some((c: any) => c.CheckID === 'guard' && c.Status === 'passing') ? true : undefined))
    const { ID: a } = await consul.session.create({ name: 'a', lockdelay: '1s', checks: ['serfHealth', 'guard'] })
    const { ID: b } = await consul.session.create({ name: 'b' })
    assert.equal(await consul.kv.set({ key: 'service/leader', value: 'a', acquire: a }), true)
    // The npm client turns a JSON `false` body into undefined; either way the lock was not taken.
    assert.notEqual(await consul.kv.set({ key: 'service/leader', value: 'b', acquire: b }), true)
    let pair = await consul.kv.get('service/leader')
    assert.equal(pair.Session, a)
    assert.equal(pair.LockIndex, 1)
    assert.equal(await consul.kv.set({ key: 'service/leader', value: 'a2', acquire: a }), true, 'the holder may write again')
    assert.equal((await consul.kv.get('service/leader')).LockIndex, 1)
    assert.notEqual(await consul.kv.set({ key: 'service/leader', value: 'x', release: b }), true)
    assert.equal(await consul.kv.set({ key: 'service/leader', value: 'free', release: a }), true)
    pair = await consul.kv.get('service/leader')
    assert.equal(pair.Session, undefined)
    assert.equal(pair.LockIndex, 1)

    assert.equal(await consul.kv.set({ key: 'service/leader', value: 'a', acquire: a }), true)
    await consul.agent.check.fail('guard')
    await until('the session invalidated', async () => ((await consul.session.info(a)) === undefined ? true : undefined))
    pair = await consul.kv.get('service/leader')
    assert.equal(pair.Session, undefined, 'the lock is released with the session')
    assert.equal(pair.Value, 'a')
    await until('lock-delay to pass', async () => ((await consul.kv.set({ key: 'service/leader', value: 'b', acquire: b })) ? true : undefined), 10_000)
    assert.equal((await consul.kv.get('service/leader')).LockIndex, 3)
    await consul.session.destroy(b)
    await consul.agent.check.deregister('guard')
  })

  test('txn with lock, check-session and unlock', async () => {
    const { ID } = await consul.session.create({ name: 'txn', lockdelay: '0s' })
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    const ok = await consul.transaction.create([
      { KV: { Verb: 'lock', Key: 'txn/lock', Value: b64('held'), Session: ID } },
      { KV: { Verb: 'check-session', Key: 'txn/lock', Session: ID } },
    ])
    assert.equal(ok.Results[0].KV.Session, ID)
    const fail = await fetch(`${agent.httpAddr}/v1/txn`, { method: 'PUT', body: JSON.stringify([{ KV: { Verb: 'unlock', Key: 'txn/lock', Session: 'someone-else' } }]) })
    assert.equal(fail.status, 409)
    assert.match(((await fail.json()) as any).Errors[0].What, /failed to unlock key "txn\/lock"/)
    await consul.transaction.create([{ KV: { Verb: 'unlock', Key: 'txn/lock', Session: ID } }])
    assert.equal((await consul.kv.get('txn/lock')).Session, undefined)
    await consul.session.destroy(ID)
  })

  test('events: fire and list by name, payload round trip', async () => {
    const fired = await consul.event.fire('deploy', 'v42')
    assert.deepEqual(Object.keys(fired).sort(), ['ID', 'LTime', 'Name', 'NodeFilter', 'Payload', 'ServiceFilter', 'TagFilter', 'Version'])
    const list = await consul.event.list('deploy')
    assert.equal(list.at(-1).ID, fired.ID)
    assert.equal(list.at(-1).Payload, 'v42')
    const res = await fetch(`${agent.httpAddr}/v1/event/list?name=deploy`)
    assert.ok(Number(res.headers.get('x-consul-index')) > 0)
  })

  test('status', async () => {
    assert.equal(await consul.status.leader(), agent.serverAddr)
    assert.deepEqual(await consul.status.peers(), [agent.serverAddr])
  })

  test('Debian python3-consul runs its flows unchanged', { skip: !existsSync('/usr/lib/python3/dist-packages/consul/base.py') && 'python3-consul is not installed (.ci/run installs it)' }, async () => {
    const { port } = new URL(agent.httpAddr)
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('/usr/bin/python3', [join(ROOT, 'test', 'e2e', 'python_consul_flows.py'), port], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    )
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`)
    assert.match(out.stdout, /^ok \d+ flows$/m)
  })
})
