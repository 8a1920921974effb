/**
 * Client agents and real clients against a three-server cluster: servers on 127.0.0.10-12 and a
 * client agent on 127.0.0.13 (one serf LAN port for all, as on four machines). The client agent
 * starts before any server, as node-consul's own harness starts its agents; then the npm `consul`
 * and python3-consul flows run through a follower and through the client agent, DNS answers on the
 * client agent, and KV, `consul lock` and consul-template go on through it across `kill -9` of
 * the leader; last, a snapshot of another cluster is restored into it. One cluster for the whole
 * file, the steps in order.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { kvWorkload } from '../helpers/kv-workload.js'
import { checkOperations, kvModel } from '../../src/lib/linearizability/index.js'
import { startCt } from '../ctemplate/helpers.js'
import { npmConsulFlows, pythonConsulFlows, type FlowTarget } from './client-flows.js'

const SERVER_HOSTS = ['127.0.0.10', '127.0.0.11', '127.0.0.12']
const CLIENT_HOST = '127.0.0.13'
const LAN_PORT = 20000 + Math.floor(Math.random() * 20000)
const JOIN = `-retry-join=${SERVER_HOSTS[0]}:${LAN_PORT}`

interface Node {
  host: string
  name: string
  dataDir: string
  agent: RunningAgent
}

const servers: Node[] = []
let client: Node
let dir = ''
let configFile = ''

const nameOf = (host: string, kind: 's' | 'c'): string => `${kind}${host.split('.').at(-1)}`
const serverArgs = (host: string): string[] => [`-bind=${host}`, `-client=${host}`, `-serf-lan-port=${LAN_PORT}`, JOIN, '-retry-interval=200ms', `-config-file=${configFile}`]

async function startServer(host: string, dataDir: string): Promise<RunningAgent> {
  return startAgent({ dataDir, bootstrapExpect: 3, node: nameOf(host, 's'), args: serverArgs(host) })
}

const get = async (n: Node, path: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { signal: AbortSignal.timeout(15_000) })
const put = async (n: Node, path: string, body: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { method: 'PUT', body, signal: AbortSignal.timeout(15_000) })
const alive = (n: Node): boolean => n.agent.proc.exitCode === null && n.agent.proc.signalCode === null

/** The server every live server names as leader, once they agree. */
async function agreedLeader(): Promise<Node> {
  const live = servers.filter(alive)
  return until('one leader all servers agree on', async () => {
    const seen = await Promise.all(live.map(async (n) => (await (await get(n, '/v1/status/leader')).json()) as string))
    if (seen[0] === '' || seen.some((l) => l !== seen[0])) return undefined
    return live.find((n) => seen[0]!.startsWith(`${n.host}:`))
  })
}

/** Kills the leader, waits for the next one, runs `during`, and brings the killed server back. */
async function acrossLeaderKill(during: () => Promise<void>): Promise<void> {
  const leader = await agreedLeader()
  await leader.agent.kill9()
  try {
    await during()
  } finally {
    // Back for the tests after this one, whatever happened.
    leader.agent = await startServer(leader.host, leader.dataDir)
    await agreedLeader()
  }
}

before(async () => {
  dir = tempDir('cluster-clients-')
  configFile = join(dir, 'agent.json')
  // Consul's dev timing (elections in about a second), and script checks for the flows that register them.
  writeFileSync(configFile, JSON.stringify({ performance: { raft_multiplier: 1 }, enable_script_checks: true }))
  const dataDir = tempDir()
  client = { host: CLIENT_HOST, name: nameOf(CLIENT_HOST, 'c'), dataDir, agent: await startAgent({ client: true, dataDir, node: nameOf(CLIENT_HOST, 'c'), dns: true, args: [...serverArgs(CLIENT_HOST)] }) }
})

after(async () => {
  await Promise.all([...servers, client].filter(Boolean).map((n) => n.agent.stop()))
  removeDir(dir)
})

test('a client agent started before any server answers No known Consul servers, then serves once the servers are up', async () => {
  const res = await get(client, '/v1/kv/early')
  assert.equal(res.status, 500)
  assert.equal(await res.text(), 'No known Consul servers')
  const self = (await (await get(client, '/v1/agent/self')).json()) as { Config: { Server: boolean }; Stats: { consul: Record<string, string>; raft?: unknown } }
  assert.equal(self.Config.Server, false)
  assert.equal(self.Stats.consul.known_servers, '0')
  assert.equal(self.Stats.raft, undefined, 'a client agent has no raft')
  // Readiness (GET /v1/agent/health) says why a load balancer should keep away, then that it may come.
  const notReady = await get(client, '/v1/agent/health')
  assert.equal(notReady.status, 500)
  assert.deepEqual(await notReady.json(), { client: { ok: false, message: 'No known Consul servers' } })

  servers.push(...(await Promise.all(SERVER_HOSTS.map(async (host) => {
    const dataDir = tempDir()
    return { host, name: nameOf(host, 's'), dataDir, agent: await startServer(host, dataDir) }
  }))))
  const leader = await agreedLeader()
  // The client agent hears of the servers at its next join attempt.
  const seen = await until('the client agent to know the servers', async () => {
    const res = await get(client, '/v1/status/leader')
    return res.status === 200 ? ((await res.json()) as string) : (await res.arrayBuffer(), undefined)
  })
  assert.equal(seen, (await (await get(leader, '/v1/status/leader')).json()) as string)
  assert.equal(await (await put(client, '/v1/kv/early', 'now')).text(), 'true')
  const ready = await get(client, '/v1/agent/health')
  assert.equal(ready.status, 200)
  assert.deepEqual(await ready.json(), { client: { ok: true, message: 'ok' } })
  assert.deepEqual(await (await get(leader, '/v1/agent/health')).json(), { server: { ok: true, message: 'ok' } })
  // Every agent, the client included, reaches the catalog through anti-entropy.
  await until('all four nodes in the catalog', async () => {
    const nodes = (await (await get(servers[0]!, '/v1/catalog/nodes')).json()) as Array<{ Node: string }>
    return nodes.length === 4 ? true : undefined
  })
  const members = (await (await get(servers[0]!, '/v1/agent/members')).json()) as Array<{ Name: string; Tags: Record<string, string> }>
  assert.equal(members.find((m) => m.Name === client.name)?.Tags.role, 'node')
})

const allNodes = (): string[] => [...servers.map((s) => s.name), client.name]
const serverAddrs = (): string[] => servers.map((s) => s.agent.serverAddr)

describe('the npm consul package and python3-consul through a follower', () => {
  let follower: Node
  before(async () => {
    const leader = await agreedLeader()
    follower = servers.find((s) => s !== leader)!
  })
  const target = (): FlowTarget => ({ agent: follower.agent, node: follower.name, host: follower.host, server: true, nodes: allNodes(), servers: serverAddrs(), prefix: 'via-follower/' })
  npmConsulFlows(target)
  pythonConsulFlows(target)
})

describe('the npm consul package and python3-consul through a client agent', () => {
  const target = (): FlowTarget => ({ agent: client.agent, node: client.name, host: client.host, server: false, nodes: allNodes(), servers: serverAddrs(), prefix: 'via-client/' })
  npmConsulFlows(target)
  pythonConsulFlows(target)
})

test('DNS on the client agent answers from the catalog and follows it', async () => {
  const resolver = new Resolver({ timeout: 2000, tries: 1 })
  resolver.setServers([`${CLIENT_HOST}:${client.agent.dnsPort}`])
  const [s0] = servers
  assert.equal((await put(s0!, '/v1/agent/service/register', JSON.stringify({ Name: 'dns-web', Port: 8080 }))).status, 200)
  const srv = await until('dns-web on the client agent\'s DNS', async () => {
    const r = await resolver.resolveSrv('dns-web.service.consul').catch(() => [])
    return r.length ? r : undefined
  })
  assert.deepEqual(srv.map((r) => r.port), [8080])
  assert.deepEqual(await resolver.resolve4('dns-web.service.consul'), [s0!.host])
  assert.deepEqual(await resolver.resolve4(`${client.name}.node.consul`), [CLIENT_HOST])
  assert.equal((await put(s0!, '/v1/agent/service/deregister/dns-web', '')).status, 200)
  await until('dns-web gone from the client agent\'s DNS', async () => ((await resolver.resolveSrv('dns-web.service.consul').catch(() => [])).length === 0 ? true : undefined))
})

test('the client agent moves to another server when the one it uses dies: the first read after each kill -9 is answered, and writes go on', async () => {
  for (const victim of [...servers]) {
    await victim.agent.kill9()
    try {
      // Whichever server the client agent was using, a read is answered: a dead server is passed over.
      const read = await get(client, '/v1/kv/early?stale&raw')
      assert.equal(read.status, 200, await read.clone().text())
      assert.equal(await read.text(), 'now')
      // A write caught on the dying connection is not retried (it may have been carried out, as in
      // Consul); the next one goes to a live server.
      await until(`a write through the client agent with ${victim.name} dead`, async () => {
        const res = await put(client, `/v1/kv/failover/${victim.name}`, 'ok')
        return res.status === 200 && (await res.text()) === 'true' ? true : (await res.arrayBuffer(), undefined)
      })
    } finally {
      victim.agent = await startServer(victim.host, victim.dataDir)
      await agreedLeader()
    }
  }
})

test('a new leader honours the lock-delay of a lock lost under the old one and runs the session TTLs again', async () => {
  const session = async (body: object): Promise<string> => ((await (await put(client, '/v1/session/create', JSON.stringify(body))).json()) as { ID: string }).ID
  const holder = await session({ Name: 'holder', LockDelay: '60s' })
  assert.equal(await (await put(client, `/v1/kv/delayed/lock?acquire=${holder}`, 'held')).text(), 'true')
  assert.equal((await put(client, `/v1/session/destroy/${holder}`, '')).status, 200)
  // Consul's shortest TTL: invalidated 20 s (twice the TTL) after the new leader takes over.
  const expiring = await session({ Name: 'expiring', TTL: '10s' })
  await acrossLeaderKill(async () => {
    await agreedLeader()
    const next = await session({ Name: 'next' })
    assert.equal(await (await put(client, `/v1/kv/delayed/lock?acquire=${next}`, 'mine')).text(), 'false', 'within the lock-delay, under the new leader too')
    // Never renewed: the new leader's timers invalidate it (after twice its TTL, as Consul).
    await until('the new leader to expire the TTL session', async () => {
      const info = (await (await get(client, `/v1/session/info/${expiring}`)).json()) as unknown[] | null
      return info === null || info.length === 0 ? true : undefined
    }, 60_000)
  })
})

test('concurrent puts, CAS and reads through every server and the client agent across a kill -9 of the leader: the history is linearizable', async () => {
  const vias = [...servers, client]
  let killedAt = 0
  let history: Awaited<ReturnType<typeof kvWorkload>> = []
  const workload = kvWorkload(vias, Date.now() + 6000, 'lin-clients/')
  await new Promise((r) => setTimeout(r, 1500))
  await acrossLeaderKill(async () => {
    killedAt = performance.now()
    history = await workload
  })
  const writes = history.filter((op) => op.input.op !== 'get' && op.output.kind === 'ok')
  assert.ok(history.length > 50 && writes.length > 10, `${history.length} operations, ${writes.length} answered writes`)
  assert.ok(writes.some((op) => op.callTime > killedAt && op.clientId >= 6), 'writes through the client agent resumed under the new leader')
  const verdict = checkOperations(kvModel, history, { timeoutMs: 60_000 })
  assert.equal(verdict.result, 'ok', verdict.explanation?.text)
})

test('consul lock through the client agent and a follower never has two holders across a leader failover', async () => {
  const log = join(dir, 'holders.log')
  writeFileSync(log, '')
  // Each child says when it holds and when it stops, also when consul lock stops it (TERM).
  const child = `trap 'echo out $$ >> ${log}; exit 0' TERM; echo in $$ >> ${log}; sleep 0.3 & wait $!; echo out $$ >> ${log}`
  let stop = false
  const contender = async (via: () => string): Promise<void> => {
    while (!stop) {
      await new Promise<void>((resolve) => {
        const p = spawn(process.execPath, [CONSUL_BIN, 'lock', `-http-addr=${via()}`, 'failover/lock', child], { stdio: 'ignore' })
        p.once('exit', () => resolve())
      })
    }
  }
  const leader = await agreedLeader()
  const follower = servers.find((s) => s !== leader)!
  const running = Promise.all([contender(() => client.agent.httpAddr), contender(() => follower.agent.httpAddr)])
  await new Promise((r) => setTimeout(r, 2000))
  const before = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('in')).length
  await acrossLeaderKill(async () => {
    await agreedLeader()
    await new Promise((r) => setTimeout(r, 3000))
  })
  stop = true
  await running
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean)
  let holders = 0
  for (const [i, line] of lines.entries()) {
    holders += line.startsWith('in') ? 1 : -1
    assert.ok(holders <= 1, `two holders at line ${i + 1}:\n${lines.slice(Math.max(0, i - 4), i + 1).join('\n')}`)
  }
  const total = lines.filter((l) => l.startsWith('in')).length
  assert.ok(before > 1 && total > before, `the lock was taken ${before} times before the failover and ${total - before} times after`)
})

test('consul-template through the client agent re-renders when the leader changes under it', async () => {
  const tpl = join(dir, 'in.ctmpl')
  const out = join(dir, 'out.txt')
  writeFileSync(tpl, 'value={{ key "ct/value" }}\n')
  assert.equal(await (await put(client, '/v1/kv/ct/value', 'one')).text(), 'true')
  const ct = startCt([`-consul-addr=${client.agent.httpAddr.replace('http://', '')}`, '-template', `${tpl}:${out}`])
  try {
    const read = (): string => {
      try {
        return readFileSync(out, 'utf8')
      } catch {
        return ''
      }
    }
    await until('the first render', async () => (read() === 'value=one\n' ? true : undefined))
    await acrossLeaderKill(async () => {
      const leader = await agreedLeader()
      assert.equal(await (await put(leader, '/v1/kv/ct/value', 'two')).text(), 'true')
      await until('the render after the failover', async () => (read() === 'value=two\n' ? true : undefined), 20_000)
    })
  } finally {
    await ct.stop()
  }
})

test('consul snapshot save on one cluster and restore through the client agent of another: every server ends with the same KV and catalog', async () => {
  // The source: a lone server with KV (flags, a lock held by a session), a catalog entry, a prepared query.
  const source = await startAgent({ node: 'src' })
  try {
    const at = (path: string, method = 'GET', body?: string) => fetch(`${source.httpAddr}${path}`, { method, body })
    const { ID: session } = (await (await at('/v1/session/create', 'PUT', JSON.stringify({ Name: 'holder', TTL: '60s' }))).json()) as { ID: string }
    for (let i = 0; i < 20; i++) assert.equal(await (await at(`/v1/kv/snap/k${i}?flags=${i}`, 'PUT', `value ${i}`)).text(), 'true')
    assert.equal(await (await at(`/v1/kv/snap/lock?acquire=${session}`, 'PUT', 'held')).text(), 'true')
    assert.equal((await at('/v1/catalog/register', 'PUT', JSON.stringify({ Node: 'ext', Address: '10.1.2.3', Service: { Service: 'db', Port: 5432, Tags: ['primary'] } }))).status, 200)
    assert.equal((await at('/v1/query', 'POST', JSON.stringify({ Name: 'db-query', Service: { Service: 'db' } }))).status, 200)
    const file = join(dir, 'backup.snap')
    const cli = (httpAddr: string, ...args: string[]) => runCli(CONSUL_BIN, args, { env: { CONSUL_HTTP_ADDR: httpAddr } })
    const saved = await cli(source.httpAddr, 'snapshot', 'save', file)
    assert.equal(saved.code, 0, saved.stderr)
    assert.match(saved.stdout, /^Saved and verified snapshot to index \d+\n$/)
    const inspected = await cli(source.httpAddr, 'snapshot', 'inspect', file)
    assert.equal(inspected.code, 0, inspected.stderr)
    assert.match(inspected.stdout, /^ID\s+\d+-\d+-\d+\nSize\s+\d+\nIndex\s+\d+\nTerm\s+\d+\nVersion\s+1\n/)
    assert.match(inspected.stdout, /\nKVS\s+21\s+/)
    assert.match(inspected.stdout, /\nSession\s+1\s+/)
    assert.match(inspected.stdout, /\nPreparedQuery\s+1\s+/)

    const restored = await cli(client.agent.httpAddr, 'snapshot', 'restore', file)
    assert.deepEqual(restored, { code: 0, stdout: 'Restored snapshot\n', stderr: '' })
    const contents = async (httpAddr: string): Promise<string> => {
      const kv = (await (await fetch(`${httpAddr}/v1/kv/snap/?recurse&stale`)).json()) as Array<Record<string, unknown>>
      const db = (await (await fetch(`${httpAddr}/v1/catalog/service/db?stale`)).json()) as Array<Record<string, unknown>>
      const queries = (await (await fetch(`${httpAddr}/v1/query?stale`)).json()) as Array<Record<string, unknown>>
      return JSON.stringify({
        kv: kv.map(({ Key, Flags, Value, Session, LockIndex }) => ({ Key, Flags, Value, Session, LockIndex })),
        db: db.map(({ Node, Address, ServiceName, ServicePort, ServiceTags }) => ({ Node, Address, ServiceName, ServicePort, ServiceTags })),
        queries: queries.map(({ ID, Name }) => ({ ID, Name })),
      })
    }
    const want = await contents(source.httpAddr)
    assert.match(want, /"Session":"[0-9a-f-]{36}"/)
    for (const s of servers) await until(`the restored state on ${s.name}`, async () => ((await contents(s.agent.httpAddr)) === want ? true : undefined))
    assert.equal(await contents(client.agent.httpAddr), want)

    const bad = await fetch(`${client.agent.httpAddr}/v1/snapshot`, { method: 'PUT', body: 'not a snapshot' })
    assert.equal(bad.status, 500)
    assert.match(await bad.text(), /^failed to read snapshot: not a gzip archive/)
  } finally {
    await source.stop()
    removeDir(source.dataDir)
  }
})
