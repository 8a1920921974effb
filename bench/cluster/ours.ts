/**
 * A 3-server cluster of our agents on loopback for `npm run bench -- cluster`: server N binds
 * 127.0.0.N and serves HTTP there, all on the same ports (one LAN port they retry-join through
 * 127.0.0.1), with raft_multiplier from a config file, as an operator would start them.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, removeTempDir, startServer, tempDir, type Server } from '../lib/procs.js'

export interface OurNode {
  name: string
  ip: string
  url: string
  args: string[]
  server: Server | undefined
}

export interface OurCluster {
  nodes: OurNode[]
  multiplier: number
  /** Raft's address of each node as /v1/status/leader names it ("127.0.0.N:port"). */
  serverPort: number
  root: string
}

export interface Roles<T> {
  leader: T
  followers: T[]
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** GET/PUT with a timeout; undefined on any network error, so pollers just try again. */
export async function tryFetch(url: string, init: RequestInit = {}, timeoutMs = 1000): Promise<{ status: number; text: string; headers: Headers } | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    return { status: res.status, text: await res.text(), headers: res.headers }
  } catch {
    return undefined
  }
}

export async function startOurCluster(bin: string, multiplier: number, size = 3): Promise<OurCluster> {
  const root = tempDir(`consul-bench-cluster-m${multiplier}-`)
  const configFile = join(root, 'performance.json')
  writeFileSync(configFile, JSON.stringify({ performance: { raft_multiplier: multiplier } }))
  // freePort asks 127.0.0.1 only; the same numbers on .2 and .3 are free unless something odd binds them.
  const [lan, http, serverPort] = [await freePort(), await freePort(), await freePort()]
  const nodes: OurNode[] = Array.from({ length: size }, (_, i) => {
    const ip = `127.0.0.${i + 1}`
    const name = `s${i + 1}`
    const dataDir = join(root, name)
    const args = [
      bin, 'agent', '-server', `-bootstrap-expect=${size}`, `-data-dir=${dataDir}`, `-node=${name}`,
      `-bind=${ip}`, `-client=${ip}`, `-serf-lan-port=${lan}`, `-retry-join=127.0.0.1:${lan}`, '-retry-interval=200ms',
      `-http-port=${http}`, `-server-port=${serverPort}`, '-dns-port=-1', `-config-file=${configFile}`,
    ]
    return { name, ip, url: `http://${ip}:${http}`, args, server: undefined }
  })
  const cluster: OurCluster = { nodes, multiplier, serverPort, root }
  await Promise.all(nodes.map((n) => startNode(n)))
  return cluster
}

/** (Re)starts one server with its original arguments and data dir. */
export async function startNode(node: OurNode): Promise<void> {
  node.server = await startServer({ name: `consul ${node.name}`, cmd: process.execPath, args: node.args, ready: (out) => /agent: started/.test(out) })
}

export function alive(node: OurNode): boolean {
  const p = node.server?.proc
  return p !== undefined && p.exitCode === null && p.signalCode === null
}

/** Waits until every live server names the same leader, which is one of them; returns the roles. */
export async function ourRoles(cluster: OurCluster, timeoutMs: number): Promise<Roles<OurNode>> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const live = cluster.nodes.filter(alive)
    const answers = await Promise.all(live.map(async (n) => (await tryFetch(`${n.url}/v1/status/leader`))?.text.trim()))
    last = answers.join(' ')
    const first = answers[0]
    if (first && first !== '""' && answers.every((a) => a === first)) {
      const addr = JSON.parse(first) as string
      const leader = live.find((n) => addr === `${n.ip}:${cluster.serverPort}`)
      if (leader) return { leader, followers: live.filter((n) => n !== leader) }
    }
    if (Date.now() > deadline) throw new Error(`no agreed leader after ${timeoutMs} ms (answers: ${last})`)
    await sleep(50)
  }
}

/**
 * Waits until `node` has applied a write made through the leader after it came back, and the
 * leader is agreed again: only then is the next kill a failover of a full 3-server cluster.
 */
export async function waitCaughtUp(cluster: OurCluster, node: OurNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const { leader } = await ourRoles(cluster, timeoutMs)
  const key = `${leader.url}/v1/kv/bench/catch-up`
  const put = await tryFetch(key, { method: 'PUT', body: String(Date.now()) }, 5000)
  if (put?.status !== 200) throw new Error(`catch-up marker PUT on ${leader.name}: ${put ? `${put.status} ${put.text}` : 'no answer'}`)
  const index = Number((await tryFetch(key, {}, 5000))?.headers.get('x-consul-index'))
  for (;;) {
    const r = await tryFetch(`${node.url}/v1/kv/bench/catch-up?stale`)
    if (r?.status === 200 && Number(r.headers.get('x-consul-index')) >= index) break
    if (Date.now() > deadline) throw new Error(`${node.name} did not catch up to index ${index} within ${timeoutMs} ms`)
    await sleep(50)
  }
  await ourRoles(cluster, Math.max(1000, deadline - Date.now()))
}

export async function stopOurCluster(cluster: OurCluster): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => n.server?.stop()))
  removeTempDir(cluster.root)
}
