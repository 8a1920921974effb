/**
 * LAN gossip between real agents, started the way node-consul's own harness starts them: a
 * `-server -bootstrap` on 127.0.0.21 and two client agents on .22 and .23 with no join target,
 * all on one serf LAN port (as on three machines). They become one pool through `PUT
 * /v1/agent/join/127.0.0.21`; then `kill -9` of a client makes it failed everywhere, its
 * `serfHealth` critical, its service gone from DNS and `?passing`, its session invalidated and its
 * lock released; `force-leave` marks it left and the leader deregisters it; restarted with no join
 * it rejoins from its snapshot; `consul leave` on the other client leaves and deregisters it. A
 * server of dc2 joins the WAN pool: ?dc=dc2 and DNS answer from it, prepared queries fail over to
 * it, consul-template renders `service "web@dc2"`. Coordinates: every agent reports one, ?near
 * sorts by them, `consul rtt` estimates from them. One pool for the whole file, the steps in
 * order; gossip timers and coordinate reports are quickened (Consul keys).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Resolver } from 'node:dns/promises'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { CT_BIN } from '../ctemplate/helpers.js'
import type { Coordinate } from '../../src/lib/coordinate.js'

const LAN_PORT = 20000 + Math.floor(Math.random() * 20000)
const WAN_PORT = LAN_PORT + 1
const HOSTS = { s21: '127.0.0.21', c22: '127.0.0.22', c23: '127.0.0.23', s24: '127.0.0.24', s25: '127.0.0.25', s26: '127.0.0.26', c27: '127.0.0.27', c28: '127.0.0.28', c29: '127.0.0.29' } as const
type Name = keyof typeof HOSTS

const agents = {} as Record<Name, RunningAgent>
const dataDirs = {} as Record<Name, string>
let dir = ''
let configFile = ''

const args = (name: Name): string[] => [`-bind=${HOSTS[name]}`, `-client=${HOSTS[name]}`, `-serf-lan-port=${LAN_PORT}`, `-config-file=${configFile}`]
/** What each agent adds: s24 and c29 are dc2; s25 and s26 join s21's cluster (no bootstrap flag); c27 and c28 retry-join s25. */
const EXTRA: Partial<Record<Name, string[]>> = {
  s24: ['-datacenter=dc2', `-join-wan=${HOSTS.s21}:${WAN_PORT}`],
  s25: [`-join=${HOSTS.s21}`],
  s26: [`-join=${HOSTS.s21}`],
  c27: [`-retry-join=${HOSTS.s25}`, '-retry-interval=1s'],
  c28: [`-retry-join=${HOSTS.s25}`, '-retry-interval=1s'],
  c29: ['-datacenter=dc2', `-join=${HOSTS.s24}`],
}
const serverArgs = (name: Name): string[] => [...args(name), `-serf-wan-port=${WAN_PORT}`, ...(EXTRA[name] ?? [])]
const start = (name: Name): Promise<RunningAgent> =>
  name.startsWith('s')
    ? startAgent({ ...(name === 's25' || name === 's26' ? { bootstrapExpect: 0 } : { bootstrap: true }), dataDir: dataDirs[name], node: name, dns: true, args: serverArgs(name) })
    : startAgent({ client: true, dataDir: dataDirs[name], node: name, dns: name === 'c27', args: [...args(name), ...(EXTRA[name] ?? [])] })

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
  writeFileSync(
    configFile,
    JSON.stringify({
      performance: { raft_multiplier: 1 },
      gossip_lan: { probe_interval: '300ms', probe_timeout: '150ms', gossip_interval: '100ms', suspicion_mult: 2 },
      gossip_wan: { probe_interval: '300ms', probe_timeout: '150ms', gossip_interval: '100ms' },
      // Coordinates reported and written often (Consul's hidden sync and batching keys), so they show within seconds.
      sync_coordinate_interval_min: '200ms',
      consul: { coordinate: { update_period: '100ms' } },
    }),
  )
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
  // An event for dc2 goes to its servers, which gossip it there; it is not dc1's.
  const remoteEvent = (await (await api('c22', 'PUT', '/v1/event/fire/release?dc=dc2', 'r1')).json()) as { ID: string; Name: string }
  assert.equal(remoteEvent.Name, 'release')
  await until('the dc2 event at s24', async () => ((await json<Array<{ ID: string }>>('s24', '/v1/event/list?name=release')).some((e) => e.ID === remoteEvent.ID) ? true : undefined))
  assert.deepEqual(await json('c22', '/v1/event/list?name=release'), [])
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

interface NodeCoord {
  Node: string
  Segment: string
  Coord: Coordinate
}

test('every agent reports its coordinate: /v1/coordinate/nodes and /node/:node, ?near sorts by them, consul rtt estimates from them; WAN coordinates by datacenter', async () => {
  const dc1 = ['c22', 'c23', 's21']
  // Coordinates move off the origin once probes have measured round trips.
  const moved = await until('LAN coordinates of all three, off the origin', async () => {
    const list = await json<NodeCoord[]>('c22', '/v1/coordinate/nodes')
    return list.length === 3 && list.every((e) => e.Coord.Vec.some((x) => x !== 0)) ? list : undefined
  }, 60_000)
  assert.deepEqual(moved.map((e) => e.Node), dc1)
  for (const e of moved) {
    assert.equal(e.Segment, '')
    assert.equal(e.Coord.Vec.length, 8)
    assert.ok(e.Coord.Error > 0 && e.Coord.Height > 0)
  }
  const one = await json<NodeCoord[]>('s21', '/v1/coordinate/node/c23')
  assert.deepEqual((await json<{ Coord: Coordinate }>('c23', '/v1/agent/self')).Coord.Vec.length, 8)
  assert.deepEqual(one.map((e) => e.Node), ['c23'])
  assert.equal((await api('s21', 'GET', '/v1/coordinate/node/nope')).status, 404)
  // ?near=<node> sorts by the estimate from that node: three catalog nodes with coordinates set by hand (a second apart from the agents).
  const at = (x: number): Coordinate => ({ Vec: [1 + x, 0, 0, 0, 0, 0, 0, 0], Error: 0.2, Adjustment: 0, Height: 1e-5 })
  for (const [node, x] of [['ext1', 0], ['ext2', 0.01], ['ext3', 0.05]] as const) {
    assert.equal((await api('c22', 'PUT', '/v1/catalog/register', { Node: node, Address: '10.9.9.9', Service: { Service: 'edge', Port: 1 }, Check: { CheckID: 'edge-up', Name: 'edge up', Status: 'passing', ServiceID: 'edge' } })).status, 200)
    assert.equal(await (await api('c23', 'PUT', '/v1/coordinate/update', { Node: node, Coord: at(x) })).json(), true)
  }
  await until('the hand-set coordinates written', async () => ((await json<NodeCoord[]>('s21', '/v1/coordinate/nodes')).filter((e) => e.Node.startsWith('ext')).length === 3 ? true : undefined))
  const order = async (path: string): Promise<string[]> => (await json<Array<{ Node: string | { Node: string } }>>('c22', path)).map((r) => (typeof r.Node === 'string' ? r.Node : r.Node.Node))
  assert.deepEqual((await order('/v1/catalog/nodes?near=ext1')).slice(0, 3), ['ext1', 'ext2', 'ext3'])
  assert.deepEqual(await order('/v1/catalog/service/edge?near=ext3'), ['ext3', 'ext2', 'ext1'])
  assert.deepEqual(await order('/v1/health/service/edge?near=ext2'), ['ext2', 'ext1', 'ext3'])
  assert.deepEqual(await order('/v1/health/checks/edge?near=ext3'), ['ext3', 'ext2', 'ext1'])
  assert.deepEqual(await order('/v1/health/state/passing?near=ext3').then((o) => o.filter((n) => n.startsWith('ext'))), ['ext3', 'ext2', 'ext1'])
  assert.deepEqual(await order('/v1/catalog/service/edge'), ['ext1', 'ext2', 'ext3'])
  // _agent is the asking agent: the three edge nodes are about a second from it, ext1 nearest.
  assert.deepEqual(await order('/v1/catalog/service/edge?near=_agent'), ['ext1', 'ext2', 'ext3'])
  // consul-template's ~near asks the agent to sort (and keeps its order); without it, Node order.
  const nearTpl = join(dir, 'near.tpl')
  const nearOut = join(dir, 'near.txt')
  writeFileSync(nearTpl, '{{range service "edge~ext3"}}{{.Node}} {{end}}|{{range service "edge"}}{{.Node}} {{end}}|{{range nodes "~ext2"}}{{.Node}} {{end}}')
  const ct = await runCli(CT_BIN, ['-once', `-consul-addr=${agents.c22.httpAddr.replace('http://', '')}`, `-template=${nearTpl}:${nearOut}`])
  assert.equal(ct.code, 0, ct.stderr)
  const [nearest, plain, nodesNear] = readFileSync(nearOut, 'utf8').split('|')
  assert.equal(nearest, 'ext3 ext2 ext1 ')
  assert.equal(plain, 'ext1 ext2 ext3 ')
  assert.match(nodesNear!, /^ext2 ext1 ext3 /)
  assert.equal((await api('c22', 'PUT', '/v1/coordinate/update', { Node: 'ext1', Coord: { Vec: [0] } })).status, 400)
  for (const node of ['ext1', 'ext2', 'ext3']) assert.equal((await api('c22', 'PUT', '/v1/catalog/deregister', { Node: node })).status, 200)
  await until('deregistered nodes lose their coordinates', async () => ((await json<NodeCoord[]>('s21', '/v1/coordinate/nodes')).some((e) => e.Node.startsWith('ext')) ? undefined : true))
  const rtt = await runCli(CONSUL_BIN, ['rtt', 'c22', 'c23'], { env: { CONSUL_HTTP_ADDR: agents.s21.httpAddr } })
  assert.equal(rtt.code, 0, rtt.stderr)
  assert.match(rtt.stdout, /^Estimated c22 <-> c23 rtt: \d+\.\d{3} ms \(using LAN coordinates\)$/m)
  const self = await runCli(CONSUL_BIN, ['rtt', 's21'], { env: { CONSUL_HTTP_ADDR: agents.c22.httpAddr } })
  assert.match(self.stdout, /^Estimated s21 <-> c22 rtt: /m)
  const missing = await runCli(CONSUL_BIN, ['rtt', 'nope'], { env: { CONSUL_HTTP_ADDR: agents.c22.httpAddr } })
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /Could not find a coordinate for node "nope"/)
  // The servers' WAN coordinates, per datacenter, names without the .dc suffix (asked of a client too: it asks a server).
  const maps = await until('WAN coordinates of both servers', async () => {
    const m = await json<Array<{ Datacenter: string; AreaID: string; Coordinates: Array<{ Node: string; Coord: Coordinate }> }>>('c22', '/v1/coordinate/datacenters')
    return m.length === 2 && m.every((d) => d.Coordinates.length === 1) ? m : undefined
  }, 60_000)
  assert.deepEqual(maps.map((m) => `${m.Datacenter} ${m.AreaID} ${m.Coordinates.map((c) => c.Node).join()}`), ['dc1 WAN s21', 'dc2 WAN s24'])
  const wan = await runCli(CONSUL_BIN, ['rtt', '-wan', 's24.dc2'], { env: { CONSUL_HTTP_ADDR: agents.s21.httpAddr } })
  assert.match(wan.stdout, /^Estimated s24\.dc2 <-> s21\.dc1 rtt: \d+\.\d{3} ms \(using WAN coordinates\)$/m)
})

test('a prepared query with no healthy instance here fails over to dc2 (Failover.Datacenters, then NearestN); consul-template renders service "web@dc2"', async () => {
  assert.equal((await api('s24', 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 8080 })).status, 200)
  const create = async (name: string, failover: unknown): Promise<string> => {
    const res = await api('s21', 'POST', '/v1/query', { Name: name, Service: { Service: 'web', Failover: failover } })
    assert.equal(res.status, 200, await res.clone().text())
    return ((await res.json()) as { ID: string }).ID
  }
  await create('web-listed', { Datacenters: ['dc9', 'dc2'] })
  await create('web-nearest', { NearestN: 1 })
  await create('web-here', {})
  for (const name of ['web-listed', 'web-nearest']) {
    const r = await until(`${name} answered from dc2`, async () => {
      const out = await json<{ Datacenter: string; Failovers: number; Nodes: Array<{ Node: { Node: string }; Service: { Port: number } }> }>('c22', `/v1/query/${name}/execute`)
      return out.Nodes.length > 0 ? out : undefined
    })
    assert.equal(r.Datacenter, 'dc2')
    assert.equal(r.Failovers, 1)
    assert.deepEqual(r.Nodes.map((n) => `${n.Node.Node}:${n.Service.Port}`), ['s24:8080'])
  }
  // DNS fails over too, from its copy of dc2's catalog (on a server here; on a client in the topology test).
  await until('web-listed.query.consul answered from dc2', async () => ((await dcResolver.resolve4('web-listed.query.consul').catch((): string[] => [])).includes(HOSTS.s24) ? true : undefined))
  const [viaSrv] = await dcResolver.resolveSrv('web-nearest.query.consul')
  assert.deepEqual({ name: viaSrv!.name, port: viaSrv!.port }, { name: 's24.node.dc2.consul', port: 8080 })
  assert.equal(await dcResolver.resolve4('web-here.query.consul').catch((e: NodeJS.ErrnoException) => e.code), 'ENOTFOUND')
  const here = await json<{ Datacenter: string; Failovers: number; Nodes: unknown[] }>('c23', '/v1/query/web-here/execute')
  assert.deepEqual({ dc: here.Datacenter, failovers: here.Failovers, nodes: here.Nodes.length }, { dc: 'dc1', failovers: 0, nodes: 0 })

  const out = join(dir, 'web-dc2.txt')
  const tpl = join(dir, 'web-dc2.tpl')
  writeFileSync(tpl, '{{range service "web@dc2"}}{{.Node}} {{.Address}}:{{.Port}}{{end}}|{{range nodes "@dc2"}}{{.Node}}{{end}}\n')
  const ct = await runCli(CT_BIN, ['-once', `-consul-addr=${agents.c22.httpAddr.replace('http://', '')}`, `-template=${tpl}:${out}`])
  assert.equal(ct.code, 0, ct.stderr)
  assert.equal(readFileSync(out, 'utf8'), `s24 ${HOSTS.s24}:8080|s24\n`)
})

test('the whole topology: 3 servers and 4 clients in dc1, a server and a client in dc2; members, raft peers, the WAN pool, ?dc=dc2 and dig from a new client, an event at every dc1 agent', async () => {
  const added = ['s25', 's26', 'c27', 'c28', 'c29'] as const
  await Promise.all(
    added.map(async (n) => {
      dataDirs[n] = tempDir()
      agents[n] = await start(n)
    }),
  )
  const dc1 = ['s21', 'c22', 'c23', 's25', 's26', 'c27', 'c28'] as const
  for (const at of dc1) {
    await until(`all seven dc1 members alive at ${at}`, async () => {
      const m = await json<MemberJson[]>(at, '/v1/agent/members')
      return m.length === 7 && m.every((x) => x.Status === 1) ? true : undefined
    }, 60_000)
  }
  const table = await runCli(CONSUL_BIN, ['members'], { env: { CONSUL_HTTP_ADDR: agents.c28.httpAddr } })
  for (const n of dc1) assert.match(table.stdout, new RegExp(`^${n}\\s+${HOSTS[n].replace(/\./g, '\\.')}:${LAN_PORT}\\s+alive\\s+${n.startsWith('s') ? 'server' : 'client'}\\s`, 'm'))
  assert.equal(table.stdout.trim().split('\n').length, 8, table.stdout)
  // The leader took the joining servers in as voters.
  await until('three voters in dc1', async () => {
    const cfg = await json<{ Servers: Array<{ Node: string; Voter: boolean }> }>('c27', '/v1/operator/raft/configuration')
    return cfg.Servers.filter((x) => x.Voter).map((x) => x.Node).sort().join() === 's21,s25,s26' ? true : undefined
  }, 60_000)
  // Flood join: the WAN pool has every server of both datacenters, though only s21 was joined to it.
  for (const at of ['s26', 's24'] as const) {
    await until(`four servers in the WAN pool at ${at}`, async () => {
      const m = await json<MemberJson[]>(at, '/v1/agent/members?wan=1')
      return m.filter((x) => x.Status === 1).map((x) => x.Name).sort().join() === 's21.dc1,s24.dc2,s25.dc1,s26.dc1' ? true : undefined
    }, 60_000)
  }
  const wan = await runCli(CONSUL_BIN, ['members', '-wan'], { env: { CONSUL_HTTP_ADDR: agents.s25.httpAddr } })
  assert.equal(wan.stdout.trim().split('\n').length, 5, wan.stdout)
  assert.deepEqual((await json<MemberJson[]>('c29', '/v1/agent/members')).map((m) => m.Name).sort(), ['c29', 's24'])
  // dc2's client registers through dc2's server; a new dc1 client reads dc2 by ?dc= and by DNS.
  assert.equal((await api('c29', 'PUT', '/v1/agent/service/register', { Name: 'edge2', Port: 82 })).status, 200)
  assert.equal(await (await api('c28', 'GET', '/v1/kv/where?dc=dc2&raw')).text(), 'dc2')
  const dig = async (name: string): Promise<string> => (await promisify(execFile)('dig', ['+short', '+time=2', '+tries=1', `@${HOSTS.c27}`, '-p', String(agents.c27.dnsPort), name])).stdout.trim()
  await until('dig web.service.dc2.consul from a dc1 client', async () => ((await dig('web.service.dc2.consul')) === HOSTS.s24 ? true : undefined))
  await until('dig web-nearest.query.consul from a dc1 client (failover to dc2)', async () => ((await dig('web-nearest.query.consul')) === HOSTS.s24 ? true : undefined))
  await until('dig edge2.service.dc2.consul (dc2\'s client)', async () => ((await dig('edge2.service.dc2.consul')) === HOSTS.c29 ? true : undefined))
  // An event fired in dc1 reaches every dc1 agent and no dc2 one.
  const fired = (await (await api('c28', 'PUT', '/v1/event/fire/topology', 'all')).json()) as { ID: string }
  for (const at of dc1) await until(`the event at ${at}`, async () => ((await json<Array<{ ID: string }>>(at, '/v1/event/list?name=topology')).some((e) => e.ID === fired.ID) ? true : undefined))
  assert.deepEqual(await json('c29', '/v1/event/list?name=topology'), [])
  // consul event -datacenter=dc2 from a dc1 client: dc2's agents get it.
  const cli = await runCli(CONSUL_BIN, ['event', '-datacenter=dc2', '-name=dc2-only', 'x'], { env: { CONSUL_HTTP_ADDR: agents.c27.httpAddr } })
  assert.equal(cli.code, 0, cli.stderr)
  for (const at of ['s24', 'c29'] as const) await until(`the dc2 event at ${at}`, async () => ((await json<unknown[]>(at, '/v1/event/list?name=dc2-only')).length === 1 ? true : undefined))
  assert.deepEqual(await json('c27', '/v1/event/list?name=dc2-only'), [])
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
