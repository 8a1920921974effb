/**
 * The soak: a cluster of 3 servers and 20 client agents under a steady churn of services, checks,
 * KV, sessions and blocking queries, with every process's heap, RSS, descriptors and timers sampled
 * each interval. It fails on any error (a request that does not get the answer it should, a crash)
 * or on growth past BOUNDS between the end of the warm-up and the end of the run.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { Cluster, type Member } from './cluster.js'
import { call, sleep } from './http.js'

export interface SoakOptions {
  minutes: number
  servers: number
  clients: number
  /** Sample every this many ms (a minute by default). */
  sampleMs: number
  /** One churn round per client every this many ms. */
  roundMs: number
  net: number
  log?: (line: string) => void
}

export interface Sample {
  atMs: number
  member: string
  heapBytes: number
  rssBytes: number
  fds: number
  timers: number
  handles: number
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>
  rounds: number
  operations: number
  errors: string[]
  crashes: string[]
  samples: Sample[]
  /** Per member and measure: baseline, last, and whether it stayed within its bound. */
  growth: Array<{ member: string; measure: keyof typeof BOUNDS; baseline: number; last: number; ok: boolean }>
  ok: boolean
}

/**
 * How much a process may grow from its baseline (the first sample after warm-up) to the end: it
 * fails only past both the absolute allowance (plus, for descriptors, two per peer) and the relative one, so GC timing on a small heap or a
 * busy minute's sockets are not leaks, while a leak over an hour is.
 */
export const BOUNDS: Record<'heapBytes' | 'rssBytes' | 'fds' | 'timers', { abs: number; rel: number; perPeer?: number }> = {
  heapBytes: { abs: 32 * 2 ** 20, rel: 0.5 },
  rssBytes: { abs: 64 * 2 ** 20, rel: 0.5 },
  // Server RPC and gossip keep one pooled connection to each peer they have talked to, each way: a
  // mesh that fills in over the hour as push-pulls pick random peers. Bounded by the cluster, not time.
  fds: { abs: 32, rel: 0.5, perPeer: 2 },
  timers: { abs: 64, rel: 0.5 },
}

/** A measure's allowance in a cluster of `members`. */
export function allowance(measure: keyof typeof BOUNDS, members: number): number {
  const b = BOUNDS[measure]
  return b.abs + (b.perPeer ?? 0) * Math.max(0, members - 1)
}

/** What one client does each round, on its own names: nothing it does collides with another. */
async function round(m: Member, n: number, errors: string[]): Promise<number> {
  const me = m.name
  let ops = 0
  const expect = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body: string | undefined, ok: (status: number, text: string) => boolean): Promise<string> => {
    ops++
    const out = await call(m, method, path, body, 10_000)
    const a = out.sent ? out.answer : undefined
    if (a && ok(a.status, a.text)) return a.text
    errors.push(`${me} ${method} ${path}: ${a ? `${a.status} ${a.text.slice(0, 200)}` : out.sent ? 'no answer' : 'refused'}`)
    return ''
  }
  const is200 = (s: number): boolean => s === 200
  const svc = `soak-${me}-${n % 5}`
  // A service with a TTL check: registered, passed, and the one from two rounds ago removed.
  await expect('PUT', '/v1/agent/service/register', JSON.stringify({ Name: svc, ID: svc, Port: 1000 + n, Tags: [`r${n}`], Check: { CheckID: `${svc}-ttl`, TTL: '30s' } }), is200)
  await expect('PUT', `/v1/agent/check/pass/${svc}-ttl?note=round-${n}`, undefined, is200)
  if (n >= 2) await expect('PUT', `/v1/agent/service/deregister/soak-${me}-${(n - 2) % 5}`, undefined, is200)
  // KV: a write, a consistent read of it, a delete of an older key.
  await expect('PUT', `/v1/kv/soak/${me}/${n % 50}`, `value-${n}`, (s, t) => s === 200 && t === 'true')
  await expect('GET', `/v1/kv/soak/${me}/${n % 50}?consistent&raw`, undefined, (s, t) => s === 200 && t === `value-${n}`)
  await expect('DELETE', `/v1/kv/soak/${me}/${(n + 25) % 50}`, undefined, (s, t) => s === 200 && t === 'true')
  // A session holding a lock, released and destroyed.
  const created = await expect('PUT', '/v1/session/create', JSON.stringify({ Name: `soak-${me}`, TTL: '15s', Behavior: 'release' }), is200)
  const id = created ? (JSON.parse(created) as { ID?: string }).ID : undefined
  if (id) {
    await expect('PUT', `/v1/kv/soak/lock/${me}?acquire=${id}`, 'held', (s, t) => s === 200 && t === 'true')
    await expect('PUT', `/v1/kv/soak/lock/${me}?release=${id}`, undefined, (s, t) => s === 200 && t === 'true')
    await expect('PUT', `/v1/session/destroy/${id}`, undefined, is200)
  }
  // Reads the catalog and health as templates and DNS would.
  await expect('GET', `/v1/health/service/${svc}?passing&stale`, undefined, is200)
  await expect('GET', '/v1/catalog/services', undefined, is200)
  return ops
}

/** A blocking query per client on its KV prefix, re-armed as it returns, as consul-template does. */
async function watch(m: Member, stop: { stopped: boolean }, errors: string[]): Promise<void> {
  let index = 0
  while (!stop.stopped) {
    const out = await call(m, 'GET', `/v1/kv/soak/${m.name}/?recurse&index=${index}&wait=5s`, undefined, 20_000)
    const a = out.sent ? out.answer : undefined
    if (!a || (a.status !== 200 && a.status !== 404)) {
      if (!stop.stopped) errors.push(`${m.name} watch: ${a ? `${a.status} ${a.text.slice(0, 200)}` : 'no answer'}`)
      await sleep(1000)
      continue
    }
    if (a.index < index) errors.push(`${m.name} watch: the index went back from ${index} to ${a.index}`)
    index = a.index
  }
}

function procStats(pid: number): { rssBytes: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
  return { rssBytes: rss, fds: readdirSync(`/proc/${pid}/fd`).length }
}

async function sample(c: Cluster, atMs: number): Promise<Sample[]> {
  const out: Sample[] = []
  for (const m of c.members) {
    const pid = m.agent?.proc.pid
    if (pid === undefined) continue
    const self = await call(m, 'GET', '/v1/agent/self', undefined, 10_000)
    const runtime = self.sent && self.answer?.status === 200 ? (JSON.parse(self.answer.text) as { Stats: { runtime: Record<string, string> } }).Stats.runtime : undefined
    if (!runtime) continue
    out.push({ atMs, member: m.name, heapBytes: Number(runtime.heap_used_bytes), ...procStats(pid), timers: Number(runtime.timers), handles: Number(runtime.goroutines) })
  }
  return out
}

export function judge(samples: readonly Sample[]): SoakReport['growth'] {
  const growth: SoakReport['growth'] = []
  const times = [...new Set(samples.map((s) => s.atMs))].sort((a, b) => a - b)
  // The first sample is the end of the warm-up: caches, pools and the raft log settle in the first interval.
  if (times.length < 2) return growth
  const [first, last] = [times[0], times.at(-1)]
  const members = new Set(samples.map((s) => s.member))
  for (const member of members) {
    const a = samples.find((s) => s.member === member && s.atMs === first)
    const b = samples.find((s) => s.member === member && s.atMs === last)
    if (!a || !b) continue
    for (const measure of Object.keys(BOUNDS) as Array<keyof typeof BOUNDS>) {
      const grew = b[measure] - a[measure]
      growth.push({ member, measure, baseline: a[measure], last: b[measure], ok: grew <= allowance(measure, members.size) || grew <= a[measure] * BOUNDS[measure].rel })
    }
  }
  return growth
}

export async function soak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {})
  const { log: _l, ...options } = opts
  const c = await Cluster.start({ servers: opts.servers, clients: opts.clients, net: opts.net })
  const errors: string[] = []
  const samples: Sample[] = []
  const stop = { stopped: false }
  let rounds = 0
  let operations = 0
  try {
    log(`soak: ${opts.servers} servers, ${opts.clients} clients, ${opts.minutes} min, a round per client every ${opts.roundMs} ms`)
    // Before the clock starts the cluster serves a write and every agent's node is in the catalog
    // (a session needs its node registered: "Missing node registration" until anti-entropy's first sync).
    const everyone = opts.servers + opts.clients
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(200)) {
      const at = c.clients[0] ?? c.servers[0]!
      const out = await call(at, 'PUT', '/v1/kv/soak/ready', 'yes')
      if (!out.sent || out.answer?.status !== 200) continue
      const nodes = await call(at, 'GET', '/v1/catalog/nodes', undefined)
      if (nodes.sent && nodes.answer?.status === 200 && (JSON.parse(nodes.answer.text) as unknown[]).length >= everyone) break
    }
    const start = Date.now()
    const end = start + opts.minutes * 60_000
    const watchers = c.clients.map((m) => watch(m, stop, errors))
    const churn = c.clients.map(async (m, i) => {
      await sleep((opts.roundMs * i) / Math.max(1, c.clients.length))
      for (let n = 0; Date.now() < end; n++) {
        const t = Date.now()
        const ops = await round(m, n, errors)
        operations += ops
        rounds++
        await sleep(Math.max(0, opts.roundMs - (Date.now() - t)))
      }
    })
    for (let next = start + opts.sampleMs; next <= end + 1000; next += opts.sampleMs) {
      await sleep(Math.max(0, next - Date.now()))
      const s = await sample(c, next - start)
      samples.push(...s)
      const sum = (k: 'heapBytes' | 'rssBytes' | 'fds' | 'timers'): number => s.reduce((x, y) => x + y[k], 0)
      log(`soak: ${((next - start) / 60_000).toFixed(1)} min: ${rounds} rounds, ${operations} ops, ${errors.length} errors; heap ${(sum('heapBytes') / 2 ** 20).toFixed(0)} MB, rss ${(sum('rssBytes') / 2 ** 20).toFixed(0)} MB, fds ${sum('fds')}, timers ${sum('timers')} over ${s.length} agents`)
    }
    await Promise.all(churn)
    stop.stopped = true
    await Promise.all(watchers)
  } finally {
    stop.stopped = true
    await c.stop()
  }
  const growth = judge(samples)
  const crashes = c.crashes.map((x) => `${x.member} exited (${x.code ?? x.signal}):\n${x.tail}`)
  return { options, rounds, operations, errors, crashes, samples, growth, ok: errors.length === 0 && crashes.length === 0 && growth.every((g) => g.ok) }
}

const MB = 2 ** 20
const shown = (measure: keyof typeof BOUNDS, v: number): string => (measure.endsWith('Bytes') ? `${(v / MB).toFixed(1)} MB` : String(v))

/** The report as a table: per measure, the worst growth among servers and among clients, against its bound. */
export function summary(r: SoakReport): string {
  const lines = [`${r.rounds.toLocaleString()} rounds, ${r.operations.toLocaleString()} operations, ${r.errors.length} errors, ${r.crashes.length} crashes`]
  lines.push(`${'measure'.padEnd(11)} ${'kind'.padEnd(7)} ${'baseline'.padStart(10)} ${'last'.padStart(10)} ${'growth'.padStart(10)}  bound`)
  for (const measure of Object.keys(BOUNDS) as Array<keyof typeof BOUNDS>) {
    for (const kind of ['server', 'client']) {
      const rows = r.growth.filter((g) => g.measure === measure && g.member.startsWith(kind[0]!))
      if (rows.length === 0) continue
      const worst = rows.reduce((a, b) => (b.last - b.baseline > a.last - a.baseline ? b : a))
      const members = new Set(r.growth.map((g) => g.member)).size
      lines.push(`${measure.padEnd(11)} ${kind.padEnd(7)} ${shown(measure, worst.baseline).padStart(10)} ${shown(measure, worst.last).padStart(10)} ${shown(measure, worst.last - worst.baseline).padStart(10)}  ${shown(measure, allowance(measure, members))} or ${BOUNDS[measure].rel * 100}%: ${rows.every((g) => g.ok) ? 'ok' : `EXCEEDED by ${rows.filter((g) => !g.ok).map((g) => g.member).join(', ')}`}`)
    }
  }
  for (const e of r.errors.slice(0, 20)) lines.push(`error: ${e}`)
  for (const c of r.crashes) lines.push(`crash: ${c}`)
  return lines.join('\n')
}
