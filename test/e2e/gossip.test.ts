/**
 * LAN gossip between real agents, started the way node-consul's own harness starts them: a
 * `-server -bootstrap` on 127.0.0.21 and two client agents on .22 and .23 with no join target,
 * all on one serf LAN port (as on three machines). They become one pool through `PUT
 * /v1/agent/join/127.0.0.21`; then `kill -9` of a client makes it failed everywhere, its
 * `serfHealth` critical, its service gone from DNS and `?passing`, its session invalidated and its
 * lock released; `force-leave` marks it left and the leader deregisters it; restarted with no join
 * it rejoins from its snapshot; `consul leave` on the other client leaves and deregisters it. One
 * pool for the whole file, the steps in order; gossip_lan timers are quickened (a Consul key).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Resolver } from 'node:dns/promises'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const LAN_PORT = 20000 + Math.floor(Math.random() * 20000)
const WAN_PORT = LAN_PORT + 1
const HOSTS = { s21: '127.0.0.21', c22: '127.0.0.22', c23: '127.0.0.23', s24: '127.0.0.24' } as const
type Name = keyof typeof HOSTS

const agents = {} as Record<Name, RunningAgent>
const dataDirs = {} as Record<Name, string>
let dir = ''
let configFile = ''

const args = (name: Name): string[] => [`-bind=${HOSTS[name]}`, `-client=${HOSTS[name]}`, `-serf-lan-port=${LAN_PORT}`, `-config-file=${configFile}`]
const serverArgs = (name: Name): string[] => [...args(name), `-serf-wan-port=${WAN_PORT}`, ...(name === 's24' ? ['-datacenter=dc2', `-join-wan=${HOSTS.s21}:${WAN_PORT}`] : [])]
const start = (name: Name): Promise<RunningAgent> =>
  name.startsWith('s') ? startAgent({ bootstrap: true, dataDir: dataDirs[name], node: name, dns: true, args: serverArgs(name) }) : startAgent({ client: true, dataDir: dataDirs[name], node: name, args: args(name) })

const api = async (name: Name, method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(`${agents[name].httpAddr}${path}`, { method, body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(15_000) })
const json = async <T>(name: Name, path: string): Promise<T> => {
  const res = await api(name, 'GET', path)
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

interface MemberJson {
  Name: string
  Addr: string
  Status: number
  Tags: Record<string, string>
}
const statusAt = async (at: Name, of: Name): Promise<number | undefined> => (await json<MemberJson[]>(at, '/v1/agent/members')).find((m) => m.Name === of)?.Status
const seenAs = (at: readonly Name[], of: Name, status: number): Promise<true> =>
  until(`${of} with status ${status} at ${at.join(', ')}`, async () => ((await Promise.all(at.map((n) => statusAt(n, of)))).every((s) => s === status) ? true : undefined), 60_000)
const serfHealth = async (node: Name): Promise<string | undefined> =>
  (await json<Array<{ CheckID: string; Status: string }>>('s21', `/v1/health/node/${node}`)).find((c) => c.CheckID === 'serfHealth')?.Status

before(async () => {
  dir = tempDir('gossip-e2e-')
  configFile = join(dir, 'agent.json')
  writeFileSync(configFile, JSON.stringify({ performance: { raft_multiplier: 1 }, gossip_lan: { probe_interval: '300ms', probe_timeout: '150ms', gossip_interval: '100ms', suspicion_mult: 2 } }))
  for (const name of ['s21', 'c22', 'c23'] as const) {
    dataDirs[name] = tempDir()
    agents[name] = await start(name)
  }
})

after(async () => {
  await Promise.all(Object.values(agents).map((a) => a.kill9()))
  for (const d of [...Object.values(dataDirs), dir]) removeDir(d)
})

test('agents with no join target are alone until PUT /v1/agent/join/<server>; then every one lists all three alive', async () => {
  assert.deepEqual((await json<MemberJson[]>('c22', '/v1/agent/members')).map((m) => m.Name), ['c22'])
  for (const c of ['c22', 'c23'] as const) {
    const res = await api(c, 'PUT', `/v1/agent/join/${HOSTS.s21}`)
    assert.equal(res.status, 200, await res.text())
  }
  const dc1 = ['s21', 'c22', 'c23'] as const
  for (const at of dc1) for (const of of dc1) await seenAs([at], of, 1)
  const members = await json<MemberJson[]>('c23', '/v1/agent/members')
  const server = members.find((m) => m.Name === 's21')!
  assert.equal(server.Tags.role, 'consul')
  assert.equal(server.Addr, HOSTS.s21)
  assert.equal(members.find((m) => m.Name === 'c22')!.Tags.role, 'node')
  // The CLI's table, as `consul members` prints it.
  const cli = await runCli(CONSUL_BIN, ['members', '-status=alive'], { env: { CONSUL_HTTP_ADDR: agents.c22.httpAddr } })
  assert.equal(cli.code, 0, cli.stderr)
  for (const n of ['s21', 'c22', 'c23']) assert.match(cli.stdout, new RegExp(`^${n}\\s+${HOSTS[n as Name].replace(/\./g, '\\.')}:${LAN_PORT}\\s+alive\\s+(server|client)`, 'm'))
  const self = await json<{ Stats: { serf_lan: Record<string, string> } }>('s21', '/v1/agent/self')
  assert.equal(self.Stats.serf_lan.members, '3')
})

test('a user event fired on one agent reaches every agent by gossip (a blocking list wakes); each applies the node filter itself', async () => {
  const events = async (at: Name, query = ''): Promise<Array<{ ID: string; Name: string; Payload: string | null }>> => json(at, `/v1/event/list?name=deploy${query}`)
  const before = await api('c23', 'GET', '/v1/event/list?name=deploy')
  const index = before.headers.get('X-Consul-Index')
  const woken = json<Array<{ Name: string }>>('c23', `/v1/event/list?name=deploy&index=${index}&wait=30s`)
  const fired = (await (await api('c22', 'PUT', '/v1/event/fire/deploy', 'v2')).json()) as { ID: string }
  assert.deepEqual((await woken).map((e) => e.Name), ['deploy'])
  for (const at of ['s21', 'c22', 'c23'] as const) {
    const [e] = await until(`the event at ${at}`, async () => ((await events(at)).length > 0 ? events(at) : undefined))
    assert.equal(e!.ID, fired.ID)
    assert.equal(Buffer.from(e!.Payload!, 'base64').toString(), 'v2')
  }
  const only = (await (await api('s21', 'PUT', '/v1/event/fire/deploy?node=c23', '')).json()) as { ID: string }
  await until('the filtered event at c23', async () => ((await events('c23')).some((e) => e.ID === only.ID) ? true : undefined))
  assert.equal((await events('c22')).some((e) => e.ID === only.ID), false)
  const big = await api('c22', 'PUT', '/v1/event/fire/deploy', 'x'.repeat(4000))
  assert.equal(big.status, 413)
})

const dcResolver = new Resolver({ timeout: 2000, tries: 1 })

test('a server of dc2 joins the WAN pool (named <node>.<dc>); ?dc=dc2 reads and writes from any dc1 agent reach dc2, DNS answers dc2 names; an unknown dc has no path', async () => {
  dataDirs.s24 = tempDir()
  agents.s24 = await start('s24')
  const wan = (at: Name) => until(`both servers in the WAN pool at ${at}`, async () => {
    const m = await json<MemberJson[]>(at, '/v1/agent/members?wan=1')
    return m.length === 2 && m.every((x) => x.Status === 1) ? m : undefined
  })
  const names = (await wan('s21')).map((m) => m.Name).sort()
  assert.deepEqual(names, ['s21.dc1', 's24.dc2'])
  assert.deepEqual((await wan('s24')).map((m) => m.Tags.dc).sort(), ['dc1', 'dc2'])
  // The LAN pools stay apart.
  assert.equal((await json<MemberJson[]>('s21', '/v1/agent/members')).some((m) => m.Name.startsWith('s24')), false)
  const cli = await runCli(CONSUL_BIN, ['members', '-wan'], { env: { CONSUL_HTTP_ADDR: agents.s21.httpAddr } })
  assert.match(cli.stdout, /^s24\.dc2\s+127\.0\.0\.24:\d+\s+alive\s+server/m)
  for (const at of ['s21', 'c22'] as const) assert.deepEqual(await json(at, '/v1/catalog/datacenters'), ['dc1', 'dc2'])

  assert.equal((await api('s24', 'PUT', '/v1/kv/where', 'dc2')).status, 200)
  const fromClient = await api('c22', 'GET', '/v1/kv/where?dc=dc2&raw')
  assert.equal(fromClient.status, 200)
  assert.equal(await fromClient.text(), 'dc2')
  assert.equal((await api('c22', 'GET', '/v1/kv/where')).status, 404)
  assert.equal(await (await api('c23', 'PUT', '/v1/kv/written?dc=dc2', 'from dc1')).json(), true)
  assert.equal(await (await api('s24', 'GET', '/v1/kv/written?raw')).text(), 'from dc1')
  assert.equal((await api('s21', 'GET', '/v1/kv/written')).status, 404)
  // Every endpoint that takes ?dc= answers for dc2, never for the local one.
  assert.match(await json<string>('c22', '/v1/status/leader?dc=dc2'), /^127\.0\.0\.24:\d+$/)
  assert.deepEqual((await json<{ Servers: Array<{ Node: string }> }>('c23', '/v1/operator/raft/configuration?dc=dc2')).Servers.map((x) => x.Node), ['s24'])
  assert.equal((await api('c22', 'PUT', '/v1/event/fire/deploy?dc=dc2', '')).status, 501)
  const nodes = await json<Array<{ Node: string; Datacenter: string }>>('s21', '/v1/catalog/nodes?dc=dc2')
  assert.deepEqual(nodes.map((n) => `${n.Node} ${n.Datacenter}`), ['s24 dc2'])
  // DNS on a dc1 server answers dc2's names from its copy of dc2's catalog.
  assert.equal((await api('s24', 'PUT', '/v1/agent/service/register', { Name: 'api', Port: 81 })).status, 200)
  dcResolver.setServers([`${HOSTS.s21}:${agents.s21.dnsPort}`])
  await until('api.service.dc2.consul', async () => ((await dcResolver.resolve4('api.service.dc2.consul').catch((): string[] => [])).includes(HOSTS.s24) ? true : undefined))
  const [srv] = await dcResolver.resolveSrv('api.service.dc2.consul')
  assert.deepEqual({ name: srv!.name, port: srv!.port }, { name: 's24.node.dc2.consul', port: 81 })
  assert.deepEqual(await dcResolver.resolve4('s24.node.dc2.consul'), [HOSTS.s24])
  assert.equal(await dcResolver.resolve4('api.service.dc9.consul').catch((e: NodeJS.ErrnoException) => e.code), 'ENOTFOUND')
  assert.equal(await dcResolver.resolve4('api.service.consul').catch((e: NodeJS.ErrnoException) => e.code), 'ENOTFOUND')
  for (const at of ['s21', 'c22'] as const) {
    const none = await api(at, 'GET', '/v1/kv/where?dc=dc9')
    assert.equal(none.status, 500)
    assert.equal(await none.text(), 'No path to datacenter')
  }
})

test('a join to an address where nothing listens is a 500 naming it', async () => {
  const res = await api('c22', 'PUT', '/v1/agent/join/127.0.0.29')
  assert.equal(res.status, 500)
  assert.match(await res.text(), /127\.0\.0\.29/)
})

let session = ''
const resolver = new Resolver({ timeout: 2000, tries: 1 })

test('kill -9 of a client: failed everywhere, serfHealth critical, its service out of DNS and ?passing, its session and lock gone', async () => {
  resolver.setServers([`${HOSTS.s21}:${agents.s21.dnsPort}`])
  assert.equal((await api('c23', 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 80 })).status, 200)
  await until('web in DNS', async () => ((await resolver.resolve4('web.service.consul').catch((): string[] => [])).includes(HOSTS.c23) ? true : undefined))
  session = await until('a session on c23', async () => {
    const res = await api('c23', 'PUT', '/v1/session/create', { Name: 'holder', LockDelay: '0s' })
    return res.ok ? ((await res.json()) as { ID: string }).ID : undefined
  })
  assert.equal(await (await api('c23', 'PUT', `/v1/kv/lock/web?acquire=${session}`, 'c23')).json(), true)

  await agents.c23.kill9()
  await seenAs(['s21', 'c22'], 'c23', 4)
  await until('serfHealth critical', async () => ((await serfHealth('c23')) === 'critical' ? true : undefined))
  const check = (await json<Array<{ CheckID: string; Output: string }>>('s21', '/v1/health/node/c23')).find((c) => c.CheckID === 'serfHealth')!
  assert.equal(check.Output, 'Agent not live or unreachable')
  assert.deepEqual(await json('s21', '/v1/health/service/web?passing'), [])
  await until('web out of DNS', async () => ((await resolver.resolve4('web.service.consul').catch((e: NodeJS.ErrnoException) => e.code)) === 'ENOTFOUND' ? true : undefined))
  await until('the session invalidated', async () => ((await json<unknown[]>('s21', `/v1/session/info/${session}`)).length === 0 ? true : undefined))
  const [lock] = await json<Array<{ Session?: string }>>('s21', '/v1/kv/lock/web')
  assert.equal(lock!.Session, undefined)
})

test('force-leave marks the failed client left everywhere and the leader deregisters it', async () => {
  const cli = await runCli(CONSUL_BIN, ['force-leave', 'c23'], { env: { CONSUL_HTTP_ADDR: agents.c22.httpAddr } })
  assert.equal(cli.code, 0, cli.stderr)
  await seenAs(['s21', 'c22'], 'c23', 3)
  await until('c23 out of the catalog', async () => ((await json<Array<{ Node: string }>>('s21', '/v1/catalog/nodes')).some((n) => n.Node === 'c23') ? undefined : true))
  const unknown = await api('c22', 'PUT', '/v1/agent/force-leave/nobody')
  assert.equal(unknown.status, 500)
  assert.match(await unknown.text(), /No node found with name 'nobody'/)
})

test('a client restarted with no join target rejoins from its snapshot and is passing again', async () => {
  agents.c23 = await start('c23')
  await seenAs(['s21', 'c22', 'c23'], 'c23', 1)
  await seenAs(['c23'], 's21', 1)
  await until('serfHealth passing', async () => ((await serfHealth('c23')) === 'passing' ? true : undefined))
})

test('consul leave on a client: it exits, is left at the others, and is deregistered', async () => {
  const cli = await runCli(CONSUL_BIN, ['leave'], { env: { CONSUL_HTTP_ADDR: agents.c22.httpAddr } })
  assert.equal(cli.code, 0, cli.stderr)
  assert.match(cli.stdout, /Graceful leave complete/)
  await until('c22 exited', () => (agents.c22.proc.exitCode !== null ? true : undefined))
  await seenAs(['s21', 'c23'], 'c22', 3)
  await until('c22 out of the catalog', async () => ((await json<Array<{ Node: string }>>('s21', '/v1/catalog/nodes')).some((n) => n.Node === 'c22') ? undefined : true))
})
