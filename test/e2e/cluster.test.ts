/**
 * Three `consul agent -server -bootstrap-expect=3` processes on 127.0.0.1, .2 and .3 (one serf LAN
 * port for all, as on three machines) find each other by -retry-join, bootstrap, elect, forward
 * writes from followers, survive `kill -9` of the leader, and take the killed server back with its
 * log (by InstallSnapshot, the others having compacted theirs past it). One cluster for the whole
 * file, the steps in order: each leaves it as the next expects.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { checkOperations, kvModel } from '../../src/lib/linearizability/index.js'
import { kvWorkload } from '../helpers/kv-workload.js'
import { havePrometheus, Prometheus } from '../helpers/prometheus.js'

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
/** One LAN port on every address; picked per run so parallel runs of the suite do not meet. */
const LAN_PORT = 20000 + Math.floor(Math.random() * 20000)
/** And one HTTP port: a restarted server is where Prometheus scrapes it. */
const HTTP_PORT = LAN_PORT + 1

interface Node {
  host: string
  dataDir: string
  agent: RunningAgent
}

const nodes: Node[] = []
let configFile = ''
let prometheus: Prometheus | undefined

async function start(host: string, dataDir: string): Promise<RunningAgent> {
  return startAgent({
    dataDir,
    bootstrapExpect: 3,
    node: `s${host.split('.').at(-1)}`,
    args: [`-bind=${host}`, `-client=${host}`, `-http-port=${HTTP_PORT}`, `-serf-lan-port=${LAN_PORT}`, `-retry-join=${HOSTS[0]}:${LAN_PORT}`, '-retry-interval=200ms', `-config-file=${configFile}`],
  })
}

const get = async (n: Node, path: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { signal: AbortSignal.timeout(15_000) })
const put = async (n: Node, path: string, body: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { method: 'PUT', body, signal: AbortSignal.timeout(15_000) })
const leaderOf = async (n: Node): Promise<string> => (await (await get(n, '/v1/status/leader')).json()) as string

/** The node every live server names as leader, once they agree. */
async function agreedLeader(live: Node[]): Promise<Node> {
  return until('one leader all servers agree on', async () => {
    const seen = await Promise.all(live.map(leaderOf))
    if (seen[0] === '' || seen.some((l) => l !== seen[0])) return undefined
    return live.find((n) => seen[0]!.startsWith(`${n.host}:`))
  })
}

before(async () => {
  configFile = join(tempDir(), 'perf.json')
  // Consul's dev timing (elections in about a second, not five), and snapshots often enough that a
  // server down for a while comes back by InstallSnapshot.
  // Prometheus' format on, without the host name in gauge names (the three share one host).
  writeFileSync(configFile, JSON.stringify({ performance: { raft_multiplier: 1 }, raft_snapshot_threshold: 100, raft_trailing_logs: 20, raft_snapshot_interval: '100ms', telemetry: { prometheus_retention_time: '1h', disable_hostname: true } }))
  const started = await Promise.all(HOSTS.map(async (host) => {
    const dataDir = tempDir()
    return { host, dataDir, agent: await start(host, dataDir) }
  }))
  nodes.push(...started)
  if (havePrometheus()) prometheus = await Prometheus.start(HOSTS.map((h) => `${h}:${HTTP_PORT}`))
})

after(async () => {
  await prometheus?.stop()
  await Promise.all(nodes.map((n) => n.agent.stop()))
})

test('three servers find each other by -retry-join, bootstrap from bootstrap_expect and agree on a leader', async () => {
  await agreedLeader(nodes)
  for (const n of nodes) {
    // A server may hear from the leader before it has the log entry that holds the configuration.
    await until(`${n.host} to have the three-server configuration`, async () => (((await (await get(n, '/v1/status/peers')).json()) as string[]).length === 3 ? true : undefined))
    const members = (await (await get(n, '/v1/agent/members')).json()) as Array<{ Name: string; Status: number; Tags: Record<string, string> }>
    assert.deepEqual(members.map((m) => m.Name).sort(), ['s1', 's2', 's3'])
    assert.ok(members.every((m) => m.Status === 1 && m.Tags.role === 'consul'))
  }
  // consul info on a follower: the raft values of a three-server cluster.
  const leader = await agreedLeader(nodes)
  const follower = nodes.find((n) => n !== leader)!
  const info = await runCli(CONSUL_BIN, ['info'], { env: { CONSUL_HTTP_ADDR: follower.agent.httpAddr } })
  assert.equal(info.code, 0, info.stderr)
  assert.match(info.stdout, /^raft:$/m)
  assert.match(info.stdout, /^\s+state = Follower$/m)
  assert.match(info.stdout, /^\s+num_peers = 2$/m)
  assert.match(info.stdout, /^\s+last_contact = \d+ms$/m)
  assert.match(info.stdout, new RegExp(`^\\s+leader_addr = ${(await leaderOf(follower)).replaceAll('.', '\\.')}$`, 'm'))
  // The leader keeps a `consul` service on every server's node, at its server port.
  const consul = await until('the consul service on all three servers', async () => {
    const rows = (await (await get(nodes[0]!, '/v1/catalog/service/consul')).json()) as Array<{ Node: string; ServicePort: number }>
    return rows.length === 3 ? rows : undefined
  })
  for (const n of nodes) {
    const row = consul.find((r) => r.Node === `s${n.host.split('.').at(-1)}`)
    assert.equal(row?.ServicePort, Number(n.agent.serverAddr.split(':')[1]))
  }
})

test('writes through every server (followers forward to the leader) are read back from every server', async () => {
  const leader = await agreedLeader(nodes)
  for (const [i, n] of nodes.entries()) {
    const res = await put(n, `/v1/kv/web/k${i}`, `v${i}`)
    assert.equal(res.status, 200, await res.clone().text())
    assert.equal(await res.text(), 'true')
  }
  for (const n of nodes) {
    // A default read on a follower goes through a read barrier: it sees every acknowledged write.
    const res = await get(n, '/v1/kv/web/?keys')
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), ['web/k0', 'web/k1', 'web/k2'], n.host)
    assert.equal(res.headers.get('x-consul-knownleader'), 'true')
    if (n !== leader) assert.ok(Number(res.headers.get('x-consul-lastcontact')) >= 0)
  }
  // Check-and-set through a follower: the leader's state machine decides.
  const follower = nodes.find((n) => n !== leader)!
  const [entry] = (await (await get(follower, '/v1/kv/web/k0')).json()) as Array<{ ModifyIndex: number }>
  assert.equal(await (await put(follower, `/v1/kv/web/k0?cas=${entry!.ModifyIndex}`, 'new')).text(), 'true')
  assert.equal(await (await put(follower, `/v1/kv/web/k0?cas=${entry!.ModifyIndex}`, 'again')).text(), 'false')
  const stale = await get(follower, '/v1/kv/web/k0?stale')
  assert.equal(stale.headers.get('x-consul-effective-consistency'), 'stale')
})

test('kill -9 of the leader: the other two elect a new one, writes resume, nothing acknowledged is lost', async () => {
  const leader = await agreedLeader(nodes)
  const acked: string[] = []
  for (let i = 0; i < 20; i++) {
    const via = nodes[i % 3]!
    if ((await (await put(via, `/v1/kv/before/${i}`, String(i))).text()) === 'true') acked.push(`before/${i}`)
  }
  const live = nodes.filter((n) => n !== leader)
  const marks = live.map((n) => n.agent.output().length)
  await leader.agent.kill9()
  const next = await agreedLeader(live)
  assert.notEqual(next, leader)
  // The transition is logged once, at INFO, by raft and by the leader duties: one pair per election won.
  // Raft's line comes as the election is won, the duties' line when the driver hands the news on: wait for both.
  const since = await until('the election logged by raft and by the leader duties', () => {
    const text = next.agent.output().slice(marks[live.indexOf(next)])
    const won = text.match(/^\S+ \[INFO\]  raft: \S+ became leader at term \d+$/gm)?.length ?? 0
    const established = text.match(/^\S+ \[INFO\]  server: leadership established; starting leader duties$/gm)?.length ?? 0
    return won >= 1 && established === won ? text : undefined
  })
  assert.doesNotMatch(since, /\[INFO\]  raft: \S+ ignored: /, 'stale messages around an election are debug lines')
  for (let i = 0; i < 10; i++) {
    const res = await put(live[i % 2]!, `/v1/kv/after/${i}`, String(i))
    assert.equal(res.status, 200, await res.clone().text())
    acked.push(`after/${i}`)
  }
  for (const n of live) {
    const keys = (await (await get(n, '/v1/kv/?keys')).json()) as string[]
    for (const k of acked) assert.ok(keys.includes(k), `${n.host} lost ${k}`)
  }
})

test('the killed server restarts with its log and catches up, by InstallSnapshot when the others compacted past it', async () => {
  const dead = nodes.find((n) => n.agent.proc.exitCode !== null || n.agent.proc.signalCode !== null)!
  const live = nodes.filter((n) => n !== dead)
  // Far more writes than the snapshot threshold: the leader snapshots and drops the entries the dead server lacks.
  for (let batch = 0; batch < 15; batch++) {
    await Promise.all(Array.from({ length: 10 }, async (_, i) => assert.equal(await (await put(live[i % 2]!, `/v1/kv/far/${batch * 10 + i}`, 'x')).text(), 'true')))
  }
  dead.agent = await start(dead.host, dead.dataDir)
  await until('the restarted server to have the writes made while it was down', async () => {
    const after = (await (await get(dead, '/v1/kv/after/?keys&stale')).json()) as string[]
    const far = (await (await get(dead, '/v1/kv/far/?keys&stale')).json()) as string[]
    return after.length === 10 && far.length === 150 ? true : undefined
  })
  assert.match(dead.agent.output(), /raft: installed the leader's snapshot at index \d+/)
  await agreedLeader(nodes)
  const res = await put(dead, '/v1/kv/back', 'yes')
  assert.equal(await res.text(), 'true')
})

test('kill -9 of a server in the middle of installing the leader\'s snapshot: it restarts on what it had, installs again and has every write', async () => {
  const leader = await agreedLeader(nodes)
  const victim = nodes.find((n) => n !== leader)!
  const live = nodes.filter((n) => n !== victim)
  await victim.agent.kill9()
  // 10 MB of values, then enough writes past the snapshot threshold that the leader compacts past
  // the victim: it can only catch up by a snapshot of several chunks, which takes a while to install.
  const big = 'b'.repeat(256 * 1024)
  for (let batch = 0; batch < 4; batch++) {
    await Promise.all(Array.from({ length: 10 }, async (_, i) => assert.equal(await (await put(live[i % 2]!, `/v1/kv/snap/big/${batch * 10 + i}`, big)).text(), 'true')))
  }
  for (let batch = 0; batch < 12; batch++) {
    await Promise.all(Array.from({ length: 10 }, async (_, i) => assert.equal(await (await put(live[i % 2]!, `/v1/kv/snap/small/${batch * 10 + i}`, 's')).text(), 'true')))
  }
  victim.agent = await start(victim.host, victim.dataDir)
  const first = victim.agent
  // Killed the moment the snapshot has arrived and its install begins, from the log line itself.
  const installing = /raft: \S+ installing snapshot at/
  await new Promise<void>((resolve) => {
    const kill = (): void => {
      first.proc.kill('SIGKILL')
      resolve()
    }
    if (installing.test(first.output())) return kill()
    const onData = (d: Buffer): void => {
      if (installing.test(d.toString())) kill()
    }
    first.proc.stdout!.on('data', onData)
    first.proc.stderr!.on('data', onData)
  })
  await first.kill9()
  assert.doesNotMatch(first.output(), /installed the leader's snapshot/, 'the kill came before the install finished')
  victim.agent = await start(victim.host, victim.dataDir)
  const keys = async (prefix: string): Promise<string[]> => {
    const res = await get(victim, `/v1/kv/${prefix}?keys&stale`)
    return res.status === 200 ? ((await res.json()) as string[]) : []
  }
  await until('the restarted server to have every write', async () => ((await keys('snap/big/')).length === 40 && (await keys('snap/small/')).length === 120 ? true : undefined))
  assert.equal(await (await get(victim, '/v1/kv/snap/big/39?raw&stale')).text(), big)
  assert.match(victim.agent.output(), /raft: installed the leader's snapshot at index \d+/)
  await agreedLeader(nodes)
})

test('concurrent puts, CAS and reads through every server across a kill -9 of the leader: the history is linearizable', async () => {
  const leader = await agreedLeader(nodes)
  const workload = kvWorkload(nodes, Date.now() + 6000)
  await new Promise((r) => setTimeout(r, 1500))
  await leader.agent.kill9()
  const killedAt = performance.now()
  const history = await workload
  const writes = history.filter((op) => op.input.op !== 'get' && op.output.kind === 'ok')
  assert.ok(history.length > 50 && writes.length > 10, `${history.length} operations, ${writes.length} answered writes`)
  assert.ok(writes.some((op) => op.callTime > killedAt), 'writes resumed under the new leader')
  const verdict = checkOperations(kvModel, history, { timeoutMs: 60_000 })
  assert.equal(verdict.result, 'ok', verdict.explanation?.text)
  // Back for the tests after this one.
  leader.agent = await start(leader.host, leader.dataDir)
  await agreedLeader(nodes)
})

test('Debian\'s Prometheus scrapes the three servers: Consul\'s metric names, moving with writes, a failing check and a killed leader', { skip: !havePrometheus() && 'no /usr/bin/prometheus (CI installs it)' }, async () => {
  const prom = prometheus!
  const instance = (n: Node): string => `${n.host}:${HTTP_PORT}`
  const value = async (q: string, n?: Node): Promise<number> => {
    const rows = await prom.query(q)
    return (n ? rows.find((r) => r.metric.instance === instance(n)) : rows[0])?.value ?? 0
  }
  const reaches = (what: string, q: string, atLeast: number, n?: Node): Promise<number> =>
    until(what, async () => {
      const v = await value(q, n)
      return v >= atLeast ? v : undefined
    })
  await until('every server scraped', async () => ((await prom.targets()).filter((t) => t.health === 'up').length === 3 ? true : undefined))
  const leader = await agreedLeader(nodes)
  // Writes: the leader's KV apply count and raft apply count move by what the test wrote.
  const kvBefore = await value('sum(consul_kvs_apply_count)')
  const raftBefore = await value(`consul_raft_apply{instance="${instance(leader)}"}`)
  for (let i = 0; i < 25; i++) assert.equal(await (await put(nodes[i % 3]!, `/v1/kv/metrics/${i}`, 'x')).text(), 'true')
  await reaches('the KV applies to show', 'sum(consul_kvs_apply_count)', kvBefore + 25)
  await reaches('the raft applies to show', 'consul_raft_apply', raftBefore + 25, leader)
  await until('the leader to time appends to each of its two followers', async () => {
    const peers = await prom.query(`consul_raft_replication_appendEntries_rpc_count{instance="${instance(leader)}"}`)
    return new Set(peers.map((p) => p.metric.peer_id)).size === 2 ? true : undefined
  })
  // A check goes critical on one server: its health gauge moves, and anti-entropy's catalog sync shows on the leader.
  const on = nodes.find((n) => n !== leader)!
  const criticalBefore = await value('consul_health_checks{status="critical"}', on)
  const registersBefore = await value('sum(consul_catalog_register_count)')
  assert.equal((await fetch(`${on.agent.httpAddr}/v1/agent/check/register`, { method: 'PUT', body: JSON.stringify({ Name: 'metrics-ttl', TTL: '10m', Status: 'passing' }) })).status, 200)
  await reaches('the passing check to show', 'consul_health_checks{status="passing"}', 1, on)
  assert.equal((await fetch(`${on.agent.httpAddr}/v1/agent/check/fail/metrics-ttl?note=down`, { method: 'PUT' })).status, 200)
  await reaches('the critical check to show', 'consul_health_checks{status="critical"}', criticalBefore + 1, on)
  await reaches('the catalog syncs to show', 'sum(consul_catalog_register_count)', registersBefore + 2)
  // Consul's names, as its dashboards and alerts use them.
  for (const name of ['consul_raft_apply', 'consul_raft_commitTime_count', 'consul_raft_fsm_apply_count', 'consul_raft_state_leader', 'consul_server_isLeader', 'consul_raft_leader_lastContact_count',
    'consul_raft_replication_appendEntries_rpc_count', 'consul_raft_replication_heartbeat_count', 'consul_kvs_apply_count', 'consul_catalog_register_count', 'consul_api_http_count', 'consul_rpc_request',
    'consul_runtime_alloc_bytes', 'consul_runtime_sys_bytes', 'consul_runtime_num_goroutines', 'consul_memberlist_udp_received', 'consul_serf_member_join', 'consul_serf_members', 'consul_state_kv_entries', 'consul_state_nodes', 'consul_health_checks', 'consul_rpc_queries_blocking',
    'consul_memberlist_msg_alive', 'consul_memberlist_queue_broadcasts', 'consul_serf_queue_Event', 'consul_serf_queue_Intent']) {
    await until(`${name} scraped`, async () => ((await prom.query(name)).length > 0 ? true : undefined))
  }
  assert.ok((await prom.query('consul_api_http_count{method="PUT",path="v1.kv._"}')).length > 0, 'HTTP timings by method and route, no key names')
  // The leader killed: its scrape fails, a new leader counts the transition and reports isLeader.
  const electedBefore = new Map<Node, number>()
  for (const n of nodes) if (n !== leader) electedBefore.set(n, await value('consul_raft_state_leader', n))
  await leader.agent.kill9()
  const live = nodes.filter((n) => n !== leader)
  const next = await agreedLeader(live)
  await reaches('the new leader to count its election', 'consul_raft_state_leader', electedBefore.get(next)! + 1, next)
  await reaches('the new leader to report isLeader', 'consul_server_isLeader', 1, next)
  await until('the killed server to be down for Prometheus', async () => ((await prom.targets()).find((t) => t.instance === instance(leader))?.health === 'down' ? true : undefined))
  assert.ok((await value('sum(consul_raft_state_candidate)')) >= 1, 'an election counts candidates')
  // Gossip saw it too: probes of the dead server went indirect, and the others heard it suspected.
  await reaches('degraded probes to show', 'sum(consul_memberlist_degraded_probe)', 1)
  await reaches('suspicion messages to show', 'sum(consul_memberlist_msg_suspect)', 1)
  // Back for the tests after this one, scraped again at the same address.
  leader.agent = await start(leader.host, leader.dataDir)
  await agreedLeader(nodes)
  await until('the restarted server scraped again', async () => ((await prom.targets()).filter((t) => t.health === 'up').length === 3 ? true : undefined))
})

test('operator raft: the configuration through a follower names every server; transfer-leader moves leadership; remove-peer drops a server that is gone', async () => {
  const leader = await agreedLeader(nodes)
  const follower = nodes.find((n) => n !== leader)!
  const config = (await (await get(follower, '/v1/operator/raft/configuration')).json()) as { Servers: Array<{ ID: string; Node: string; Address: string; Leader: boolean; Voter: boolean }>; Index: number }
  assert.deepEqual(config.Servers.map((s) => s.Node).sort(), ['s1', 's2', 's3'])
  assert.deepEqual(config.Servers.filter((s) => s.Leader).map((s) => s.Address), [await leaderOf(follower)])
  assert.ok(config.Index >= 1)
  const env = { CONSUL_HTTP_ADDR: follower.agent.httpAddr }
  const moved = await runCli(CONSUL_BIN, ['operator', 'raft', 'transfer-leader'], { env })
  assert.equal(moved.code, 0, moved.stderr)
  const next = await until('leadership to move', async () => {
    const l = await agreedLeader(nodes)
    return l !== leader ? l : undefined
  })
  assert.notEqual(next, leader)
  // A server stopped for good: once membership sees it failed, the leader would not add it back.
  const gone = nodes.find((n) => n !== next)!
  await gone.agent.stop()
  const live = nodes.filter((n) => n !== gone)
  await until('the stopped server to be failed', async () => {
    const members = (await (await get(live[0]!, '/v1/agent/members')).json()) as Array<{ Name: string; Status: number }>
    return members.find((m) => m.Name === `s${gone.host.split('.').at(-1)}`)?.Status === 4 ? true : undefined
  })
  const id = config.Servers.find((s) => s.Node === `s${gone.host.split('.').at(-1)}`)!.ID
  const removed = await runCli(CONSUL_BIN, ['operator', 'raft', 'remove-peer', `-id=${id}`], { env: { CONSUL_HTTP_ADDR: live.find((n) => n !== next)!.agent.httpAddr } })
  assert.equal(removed.code, 0, removed.stderr)
  assert.equal(removed.stdout, `Removed peer with id "${id}"\n`)
  const peers = (await (await get(next, '/v1/status/peers')).json()) as string[]
  assert.equal(peers.length, 2)
  const unknown = await runCli(CONSUL_BIN, ['operator', 'raft', 'remove-peer', '-id=nope'], { env: { CONSUL_HTTP_ADDR: next.agent.httpAddr } })
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /was not found in the Raft configuration/)
})

test('a server alone (the others stopped) serves ?stale, refuses default reads with No cluster leader, and acknowledges no write', async () => {
  const running = nodes.filter((n) => n.agent.proc.exitCode === null && n.agent.proc.signalCode === null)
  const leader = await agreedLeader(running)
  const alone = running.find((n) => n !== leader)!
  for (const n of running) if (n !== alone) await n.agent.stop()
  await until('the lone server to lose its leader', async () => ((await leaderOf(alone)) === '' ? true : undefined))
  const health = await get(alone, '/v1/agent/health')
  assert.equal(health.status, 500)
  assert.deepEqual(await health.json(), { server: { ok: false, message: 'No cluster leader' } })
  const stale = await get(alone, '/v1/kv/back?stale')
  assert.equal(stale.status, 200)
  assert.equal(stale.headers.get('x-consul-knownleader'), 'false')
  // ?max_stale: served stale while the last contact is within it, else answered as a default read.
  const withinBound = await get(alone, '/v1/kv/back?max_stale=10m')
  assert.equal(withinBound.status, 200)
  assert.equal(withinBound.headers.get('x-consul-effective-consistency'), 'stale')
  const pastBound = await get(alone, '/v1/kv/back?max_stale=1ms')
  assert.equal(pastBound.status, 500)
  assert.equal(await pastBound.text(), 'No cluster leader')
  assert.equal((await get(alone, '/v1/kv/back?max_stale=soon')).status, 400)
  const dflt = await get(alone, '/v1/kv/back')
  assert.equal(dflt.status, 500)
  assert.equal(await dflt.text(), 'No cluster leader')
  const write = await put(alone, '/v1/kv/never', 'x')
  assert.equal(write.status, 500)
  assert.equal(await write.text(), 'No cluster leader')
  assert.equal((await get(alone, '/v1/kv/never?stale')).status, 404)
})

test('five servers on 127.0.0.4-8 form from bootstrap_expect=5, fail over when their leader is killed, and a replacement takes the dead server\'s place', async () => {
  const hosts = ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8']
  const five: Node[] = await Promise.all(hosts.map(async (host) => {
    const dataDir = tempDir()
    const agent = await startAgent({
      dataDir,
      bootstrapExpect: 5,
      node: `f${host.split('.').at(-1)}`,
      args: [`-bind=${host}`, `-client=${host}`, `-serf-lan-port=${LAN_PORT}`, `-retry-join=${hosts[0]}:${LAN_PORT}`, '-retry-interval=200ms', `-config-file=${configFile}`],
    })
    return { host, dataDir, agent }
  }))
  try {
    const leader = await agreedLeader(five)
    assert.equal(((await (await get(leader, '/v1/status/peers')).json()) as string[]).length, 5)
    assert.equal(await (await put(five.find((n) => n !== leader)!, '/v1/kv/five', 'a')).text(), 'true')
    await leader.agent.kill9()
    const live = five.filter((n) => n !== leader)
    const next = await agreedLeader(live)
    assert.notEqual(next, leader)
    assert.equal(await (await put(live.find((n) => n !== next)!, '/v1/kv/five', 'b')).text(), 'true')
    for (const n of live) assert.equal(Buffer.from(((await (await get(n, '/v1/kv/five')).json()) as Array<{ Value: string }>)[0]!.Value, 'base64').toString(), 'b')
    // A replacement joins once the dead server is seen failed: the leader adds it and drops the dead one.
    const deadName = `f${leader.host.split('.').at(-1)}`
    await until('the killed server to be failed', async () => {
      const members = (await (await get(next, '/v1/agent/members')).json()) as Array<{ Name: string; Status: number }>
      return members.find((m) => m.Name === deadName)?.Status === 4 ? true : undefined
    })
    const host = '127.0.0.9'
    const dataDir = tempDir()
    five.push({ host, dataDir, agent: await startAgent({ dataDir, bootstrapExpect: 5, node: 'f9', args: [`-bind=${host}`, `-client=${host}`, `-serf-lan-port=${LAN_PORT}`, `-retry-join=${live[0]!.host}:${LAN_PORT}`, '-retry-interval=200ms', `-config-file=${configFile}`] }) })
    const peers = await until('the replacement in and the dead server out', async () => {
      const p = (await (await get(next, '/v1/status/peers')).json()) as string[]
      return p.length === 5 && p.some((a) => a.startsWith(`${host}:`)) && !p.some((a) => a.startsWith(`${leader.host}:`)) ? p : undefined
    })
    assert.equal(peers.length, 5)
    const replacement = five.at(-1)!
    await until('the replacement to have the data', async () => ((await (await get(replacement, '/v1/kv/five?stale')).status) === 200 ? true : undefined))
  } finally {
    await Promise.all(five.map((n) => n.agent.stop()))
  }
})
