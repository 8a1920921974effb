/**
 * A network partition between real server processes. Server i binds 127.0.0.i and advertises
 * 127.0.0.1i, where fault proxies the test controls forward its server and LAN ports; servers
 * dial from their bind address, so blocking source addresses at the proxies cuts exactly the
 * links the test names. The leader is cut off from the other two: the majority elects and takes
 * writes; the cut-off server serves ?stale with a growing X-Consul-LastContact, answers default
 * reads and writes with 500 "No cluster leader", never elects, and rejoins cleanly when healed.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { FaultProxy } from '../helpers/fault-proxy.js'
import { until } from '../helpers/poll.js'

const IDS = [1, 2, 3]
const bindIp = (i: number): string => `127.0.0.${i}`
const advertiseIp = (i: number): string => `127.0.0.${10 + i}`
const SERVER_PORT = 20000 + Math.floor(Math.random() * 20000)
const LAN_PORT = SERVER_PORT + 1

interface Node {
  i: number
  agent: RunningAgent
  proxies: FaultProxy[]
}
const nodes: Node[] = []

const get = (n: Node, path: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { signal: AbortSignal.timeout(15_000) })
const put = (n: Node, path: string, body: string): Promise<Response> => fetch(`${n.agent.httpAddr}${path}`, { method: 'PUT', body, signal: AbortSignal.timeout(15_000) })
const leaderOf = async (n: Node): Promise<string> => (await (await get(n, '/v1/status/leader')).json()) as string

async function agreedLeader(live: Node[]): Promise<Node> {
  return until('one leader all servers agree on', async () => {
    const seen = await Promise.all(live.map(leaderOf))
    if (seen[0] === '' || seen.some((l) => l !== seen[0])) return undefined
    return live.find((n) => seen[0] === `${advertiseIp(n.i)}:${SERVER_PORT}`)
  })
}

/** Cuts `n` off from every other server, both ways. */
function isolate(n: Node): void {
  for (const other of nodes) {
    if (other === n) continue
    for (const p of n.proxies) p.block(bindIp(other.i))
    for (const p of other.proxies) p.block(bindIp(n.i))
  }
}

function heal(): void {
  for (const n of nodes) for (const p of n.proxies) for (const other of nodes) p.unblock(bindIp(other.i))
}

before(async () => {
  const config = join(tempDir(), 'perf.json')
  writeFileSync(config, JSON.stringify({ performance: { raft_multiplier: 1 } }))
  for (const i of IDS) {
    const proxies = await Promise.all([SERVER_PORT, LAN_PORT].map((port) => FaultProxy.start({ host: advertiseIp(i), port }, { host: bindIp(i), port })))
    nodes.push({ i, proxies, agent: undefined as unknown as RunningAgent })
  }
  await Promise.all(nodes.map(async (n) => {
    n.agent = await startAgent({
      bootstrapExpect: 3,
      node: `p${n.i}`,
      args: [`-bind=${bindIp(n.i)}`, `-advertise=${advertiseIp(n.i)}`, `-client=${bindIp(n.i)}`, `-server-port=${SERVER_PORT}`, `-serf-lan-port=${LAN_PORT}`, `-retry-join=${advertiseIp(1)}:${LAN_PORT}`, '-retry-interval=200ms', `-config-file=${config}`],
    })
  }))
})

after(async () => {
  await Promise.all(nodes.map((n) => n.agent.stop()))
  await Promise.all(nodes.flatMap((n) => n.proxies.map((p) => p.close())))
})

test('the leader cut off from the others: the majority goes on, the minority serves only stale reads and never elects; healed, it rejoins', async () => {
  const old = await agreedLeader(nodes)
  assert.equal(await (await put(old, '/v1/kv/p/before', 'x')).text(), 'true')
  isolate(old)
  const rest = nodes.filter((n) => n !== old)
  const next = await agreedLeader(rest)
  assert.notEqual(next, old)
  assert.equal(await (await put(rest.find((n) => n !== next)!, '/v1/kv/p/during', 'majority')).text(), 'true')

  await until('the cut-off server to lose its leader', async () => ((await leaderOf(old)) === '' ? true : undefined))
  const contact = async (): Promise<number> => {
    const res = await get(old, '/v1/kv/p/before?stale')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-consul-knownleader'), 'false')
    return Number(res.headers.get('x-consul-lastcontact'))
  }
  const first = await contact()
  await new Promise((r) => setTimeout(r, 300))
  assert.ok((await contact()) > first, 'X-Consul-LastContact grows')
  const dflt = await get(old, '/v1/kv/p/before')
  assert.equal(dflt.status, 500)
  assert.equal(await dflt.text(), 'No cluster leader')
  const consistent = await get(old, '/v1/kv/p/before?consistent')
  assert.equal(consistent.status, 500)
  const write = await put(old, '/v1/kv/p/minority', 'lost')
  assert.equal(write.status, 500, 'no write is acknowledged on the minority side')
  // It campaigned all along (pre-votes nobody answers): still no leader, and never itself.
  const stats = (await (await get(old, '/v1/agent/self')).json()) as { Stats: { raft: { state: string } } }
  assert.notEqual(stats.Stats.raft.state, 'Leader')

  heal()
  await agreedLeader(nodes)
  await until('the healed server to have the majority\'s write', async () => ((await get(old, '/v1/kv/p/during?stale')).status === 200 ? true : undefined))
  for (const n of nodes) {
    assert.equal((await get(n, '/v1/kv/p/minority')).status, 404, `p${n.i}: the write refused on the minority side is nowhere`)
    assert.equal((await get(n, '/v1/kv/p/before')).status, 200)
  }
  assert.equal(await (await put(old, '/v1/kv/p/after', 'y')).text(), 'true')
})
