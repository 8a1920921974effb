/**
 * The flows a user of the npm `consul` package (and of Debian's python3-consul) runs, as a set of
 * tests any agent can be put under: a lone server, a follower of a cluster, a client agent. The
 * target is read when each test runs (the caller's `before` starts it).
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import ConsulPkg from 'consul'
import { ROOT, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const Consul = ConsulPkg as unknown as new (opts: { host: string; port: number }) => any

const CHECK_KEYS = ['CheckID', 'CreateIndex', 'Definition', 'ExposedPort', 'Interval', 'ModifyIndex', 'Name', 'Node', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Status', 'Timeout', 'Type']
const SESSION_KEYS = ['Behavior', 'CreateIndex', 'ID', 'LockDelay', 'ModifyIndex', 'Name', 'Node', 'NodeChecks', 'ServiceChecks', 'TTL']

export interface FlowTarget {
  /** The agent the clients talk to. */
  agent: RunningAgent
  /** Its node name and address, and whether it is a server. */
  node: string
  host: string
  server: boolean
  /** Every node the catalog holds, and the server RPC addresses of the datacenter. */
  nodes: string[]
  servers: string[]
  /** Put before every key the flows write, so they can run more than once against one cluster. */
  prefix: string
}

export const npmClient = (agent: RunningAgent): any => {
  const url = new URL(agent.httpAddr)
  return new Consul({ host: url.hostname, port: Number(url.port) })
}

/** Registers the npm `consul` flows as tests of the enclosing describe. */
export function npmConsulFlows(t: () => FlowTarget): void {
  let consul: any
  before(() => {
    consul = npmClient(t().agent)
  })

  test('agent: members and self', async () => {
    // What is true before gossip: the agent is a live member with Consul's tags. The gossip issue
    // adds the other agents; this asserts nothing about how many there are.
    const members = await consul.agent.members()
    const self = members.find((m: any) => m.Name === t().node)
    assert.ok(self, JSON.stringify(members))
    assert.equal(self.Status, 1, 'alive')
    assert.equal(self.Addr, t().host)
    assert.deepEqual([self.Tags.role, self.Tags.dc], [t().server ? 'consul' : 'node', 'dc1'])
    if (t().server) assert.equal(self.Tags.port, t().agent.serverAddr.split(':')[1])
    else assert.equal(self.Tags.port, undefined, 'a client agent has no server port to tell')
    assert.equal(`${self.Addr}:${self.Port}`, t().agent.lanAddr)
    for (const m of members) for (const k of ['Name', 'Addr', 'Port', 'Tags', 'Status', 'ProtocolMin', 'ProtocolMax', 'ProtocolCur', 'DelegateMin', 'DelegateMax', 'DelegateCur']) assert.ok(k in m, `${m.Name}: ${k}`)
    const agentSelf = await consul.agent.self()
    assert.equal(agentSelf.Config.Server, t().server)
    assert.equal(agentSelf.Config.Datacenter, 'dc1')
    assert.equal(agentSelf.Member.Addr, t().host)
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
    const { node } = t()
    await consul.agent.service.register({ name: 'svc', tags: ['tag1'], check: { ttl: '60s' } })
    await until('svc in the catalog', async () => ((await consul.catalog.service.list()).svc ? true : undefined))
    assert.deepEqual(await consul.catalog.datacenters(), ['dc1'])
    const nodes = await consul.catalog.node.list()
    assert.deepEqual(nodes.map((n: any) => n.Node).sort(), [...t().nodes].sort())
    assert.equal(nodes.find((n: any) => n.Node === node).Address, t().host)
    assert.deepEqual((await consul.catalog.node.services(node)).Services.svc.Tags, ['tag1'])
    assert.deepEqual(await consul.catalog.service.list(), { consul: [], svc: ['tag1'] })
    assert.deepEqual((await consul.catalog.service.nodes('svc')).map((n: any) => n.Node), [node])

    const nodeChecks = await consul.health.node(node)
    assert.equal(nodeChecks[0].CheckID, 'serfHealth')
    assert.equal(nodeChecks[0].Status, 'passing')
    assert.deepEqual((await consul.health.checks('svc')).map((c: any) => c.CheckID), ['service:svc'])
    const entries = await consul.health.service('svc')
    assert.deepEqual(entries[0].Checks.map((c: any) => c.CheckID), ['serfHealth', 'service:svc'])
    assert.deepEqual(Object.keys(entries[0]).sort(), ['Checks', 'Node', 'Service'])
    assert.equal((await consul.health.state('critical')).length, 1)
    assert.deepEqual((await consul.health.state('any')).filter((c: any) => c.Node === node).map((c: any) => c.CheckID), ['serfHealth', 'service:svc'])
    assert.equal((await consul.health.state('any')).length, t().nodes.length + 1, 'a serfHealth per node and the service check')
    assert.deepEqual(await consul.health.service({ service: 'svc', passing: true }), [])
    await consul.agent.service.deregister('svc')
    await until('svc gone from the catalog', async () => ((await consul.catalog.service.list()).svc ? undefined : true))
  })

  test('sessions: create, info, node, list, renew, destroy', async () => {
    const { ID } = await consul.session.create({ name: 's', ttl: '10s' })
    const info = await consul.session.info(ID)
    for (const k of ['CreateIndex', 'ID', 'Name', 'Node', 'NodeChecks', 'LockDelay', 'Behavior', 'TTL']) assert.ok(k in info, k)
    assert.deepEqual(Object.keys(info).sort(), SESSION_KEYS)
    assert.equal(info.LockDelay, 15e9)
    assert.deepEqual(info.NodeChecks, ['serfHealth'])
    assert.equal((await consul.session.node(t().node)).length, 1)
    assert.deepEqual(await consul.session.node('no-such-node'), [])
    assert.equal((await consul.session.list()).filter((s: any) => s.ID === ID).length, 1)
    const renewed = await consul.session.renew(ID)
    assert.ok(Array.isArray(renewed) && renewed[0].ID === ID)
    await consul.session.destroy(ID)
    assert.equal(await consul.session.info(ID), undefined)
  })

  test('locks: acquire, LockIndex, release, and invalidation by a failing check', async () => {
    await consul.agent.check.register({ name: 'guard', ttl: '60s' })
    await consul.agent.check.pass('guard')
    await until('guard passing in the catalog', async () => ((await consul.health.node(t().node)).some((c: any) => c.CheckID === 'guard' && c.Status === 'passing') ? true : undefined))
    const { ID: a } = await consul.session.create({ name: 'a', lockdelay: '1s', checks: ['serfHealth', 'guard'] })
    const { ID: b } = await consul.session.create({ name: 'b' })
    assert.equal(await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'a', acquire: a }), true)
    // The npm client turns a JSON `false` body into undefined; either way the lock was not taken.
    assert.notEqual(await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'b', acquire: b }), true)
    let pair = await consul.kv.get(`${t().prefix}service/leader`)
    assert.equal(pair.Session, a)
    assert.equal(pair.LockIndex, 1)
    assert.equal(await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'a2', acquire: a }), true, 'the holder may write again')
    assert.equal((await consul.kv.get(`${t().prefix}service/leader`)).LockIndex, 1)
    assert.notEqual(await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'x', release: b }), true)
    assert.equal(await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'free', release: a }), true)
    pair = await consul.kv.get(`${t().prefix}service/leader`)
    assert.equal(pair.Session, undefined)
    assert.equal(pair.LockIndex, 1)

    assert.equal(await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'a', acquire: a }), true)
    await consul.agent.check.fail('guard')
    await until('the session invalidated', async () => ((await consul.session.info(a)) === undefined ? true : undefined))
    pair = await consul.kv.get(`${t().prefix}service/leader`)
    assert.equal(pair.Session, undefined, 'the lock is released with the session')
    assert.equal(pair.Value, 'a')
    await until('lock-delay to pass', async () => ((await consul.kv.set({ key: `${t().prefix}service/leader`, value: 'b', acquire: b })) ? true : undefined), 10_000)
    assert.equal((await consul.kv.get(`${t().prefix}service/leader`)).LockIndex, 3)
    await consul.session.destroy(b)
    await consul.agent.check.deregister('guard')
  })

  test('txn with lock, check-session and unlock', async () => {
    const { ID } = await consul.session.create({ name: 'txn', lockdelay: '0s' })
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    const ok = await consul.transaction.create([
      { KV: { Verb: 'lock', Key: `${t().prefix}txn/lock`, Value: b64('held'), Session: ID } },
      { KV: { Verb: 'check-session', Key: `${t().prefix}txn/lock`, Session: ID } },
    ])
    assert.equal(ok.Results[0].KV.Session, ID)
    const fail = await fetch(`${t().agent.httpAddr}/v1/txn`, { method: 'PUT', body: JSON.stringify([{ KV: { Verb: 'unlock', Key: `${t().prefix}txn/lock`, Session: 'someone-else' } }]) })
    assert.equal(fail.status, 409)
    assert.match(((await fail.json()) as any).Errors[0].What, /failed to unlock key ".*txn\/lock"/)
    await consul.transaction.create([{ KV: { Verb: 'unlock', Key: `${t().prefix}txn/lock`, Session: ID } }])
    assert.equal((await consul.kv.get(`${t().prefix}txn/lock`)).Session, undefined)
    await consul.session.destroy(ID)
  })

  test('events: fire and list by name, payload round trip', async () => {
    const fired = await consul.event.fire('deploy', 'v42')
    assert.deepEqual(Object.keys(fired).sort(), ['ID', 'LTime', 'Name', 'NodeFilter', 'Payload', 'ServiceFilter', 'TagFilter', 'Version'])
    const list = await consul.event.list('deploy')
    assert.equal(list.at(-1).ID, fired.ID)
    assert.equal(list.at(-1).Payload, 'v42')
    const res = await fetch(`${t().agent.httpAddr}/v1/event/list?name=deploy`)
    assert.ok(Number(res.headers.get('x-consul-index')) > 0)
  })

  test('status', async () => {
    const leader = await consul.status.leader()
    assert.ok(t().servers.includes(leader), `${leader} is one of ${t().servers.join(', ')}`)
    assert.deepEqual([...(await consul.status.peers())].sort(), [...t().servers].sort())
  })
}

/** The python3-consul flows (test/e2e/python_consul_flows.py), as one test. */
export function pythonConsulFlows(t: () => FlowTarget): void {
  test('Debian python3-consul runs its flows unchanged', { skip: !existsSync('/usr/lib/python3/dist-packages/consul/base.py') && 'python3-consul is not installed (.ci/run installs it)' }, async () => {
    const { agent, nodes, servers, server, prefix } = t()
    const { hostname, port } = new URL(agent.httpAddr)
    const args = [join(ROOT, 'test', 'e2e', 'python_consul_flows.py'), hostname, port, String(nodes.length), String(servers.length), server ? 'server' : 'client', prefix]
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('/usr/bin/python3', args, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    )
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`)
    assert.match(out.stdout, /^ok \d+ flows$/m)
  })
}
