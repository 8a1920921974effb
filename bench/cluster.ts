/**
 * Cluster benchmark: a 3-server cluster of our agents against a 3-member etcd cluster, both on
 * loopback on this machine, in the same run. KV PUT req/s and p50/p99 at 1 and 64 connections
 * through the leader (etcd through its JSON gateway with wrk, as ours, and through its own Go
 * gRPC client); GET at 64 connections, default consistency and stale (ours ?stale on the leader
 * and on a follower; etcd serializable=true); then failover: kill -9 of our leader to the first
 * acknowledged write, median of 10 kills, at raft_multiplier 1 and 5.
 * Targets: PUT at 64 >= 1.5x etcd JSON and >= 1x etcd gRPC; GET >= 3x etcd; failover < 2 s at 1.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, cpuSeconds, firstLine, installSignalHandlers, machineBusy, onCleanup, removeTempDir, tempDir, which } from './lib/procs.js'
import { killWrk, randomRequestScript, runWrk, wrkThreads, type LoadResult, type LuaRequest } from './lib/wrk.js'
import { runNodeLoad } from './lib/node-load.js'
import { ourRoles, startOurCluster, stopOurCluster, tryFetch, type OurCluster } from './cluster/ours.js'
import { buildEtcdLoad, debVersion, etcdGet, etcdPut, etcdRoles, GO_DEB_PACKAGES, killEtcdLoad, runEtcdLoad, startEtcdCluster, stopEtcdCluster, type EtcdCluster, type GrpcResult } from './cluster/etcd.js'
import { measureFailover, WRITE_TIMEOUT_MS, type FailoverSummary } from './cluster/failover.js'

/** Repository root: this file runs as dist/bench/cluster.js. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CONSUL_BIN = join(ROOT, 'bin', 'consul.js')
const GO_MAIN = join(ROOT, 'bench', 'cluster', 'go', 'etcdload.go')
const ETCD_BIN = process.env.BENCH_ETCD_BIN ?? (existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : which('etcd') ?? '/usr/bin/etcd')
const INSTALL_HINT = `apt-get install -y etcd-server wrk ${GO_DEB_PACKAGES.join(' ')}`

const KEY_COUNT = 1000
/**
 * No open phase (bench/lib/wrk.ts): with at most 64 connections they are all open within a few
 * milliseconds, which moves no percentile, while wrk's delay() hook costs two epoll_ctl calls per
 * request on this machine (a fifth of wrk's throughput, measured), CPU taken from the servers it drives.
 */
const OPEN_S = 0
const MAX_ERROR_RATE = 0.01
const FAILOVER_TARGET_MS = 2000
const MULTIPLIERS = [1, 5] as const
/** The cells' cluster runs at raft_multiplier 1, the production recommendation (and etcd's defaults are as quick). */
const CELL_MULTIPLIER = 1
/** gRPC connections for the Go client: 1 per 8 clients (etcd's own benchmark shares few connections among many clients). */
const grpcConns = (clients: number): number => Math.max(1, Math.ceil(clients / 8))
const TMPFS_MAGIC = 0x01021994
/** Other processes' CPU above this (in cores) during a cell: its figures are flagged as disturbed. */
const MAX_OTHER_CORES = 0.15

/**
 * User + nice + system CPU seconds of the whole machine, from /proc/stat (USER_HZ 100); undefined
 * off Linux. Not irq/softirq/steal: no process is charged those, so loopback traffic would read as "other".
 */
function machineBusySeconds(): number | undefined {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 4).map(Number)
    return (v[0]! + v[1]! + v[2]!) / 100
  } catch {
    return undefined
  }
}

/** This process's CPU seconds plus its reaped children's (wrk and etcdload exit within each cell). */
function selfAndReapedSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime, stime, cutime, cstime: fields 14-17 of stat(5), 11-14 after the name.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100
  } catch {
    return undefined
  }
}

/** The kv bench's 100 bytes, also written by etcdload.go. */
const VALUE = Array.from({ length: 100 }, (_, i) => String.fromCharCode(33 + ((i * 37) % 90))).join('')
const KEYS = Array.from({ length: KEY_COUNT }, (_, i) => `bench/key-${String(i).padStart(3, '0')}`)
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const JSON_HEADERS = { 'Content-Type': 'application/json' }

/** One measured load against one system, whichever tool drove it. */
interface Measured {
  tool: 'wrk' | 'node' | 'clientv3'
  url: string
  requests: number
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  /** Cluster CPU (all three members, user + system) per request in microseconds. */
  cpuUsPerReq: number | undefined
  /** CPU (in cores) used during the cell by processes that are neither the bench, its load generator nor a cluster member. */
  otherCores: number | undefined
  raw: LoadResult | GrpcResult
}

interface Row {
  metric: string
  connections: number
  reference: string
  ours: Measured
  ref: Measured | undefined
  /** Minimum ours/reference req/s ratio, or undefined for an informational row. */
  target: number | undefined
}

const errorRate = (m: Measured): number => m.errors / Math.max(1, m.requests + m.errors)

const disturbed = (r: Row): boolean => [r.ours, r.ref].some((m) => (m?.otherCores ?? 0) > MAX_OTHER_CORES)

function verdict(r: Row): string {
  if (!r.ref) return 'n/a (no reference)'
  if (errorRate(r.ours) > MAX_ERROR_RATE || errorRate(r.ref) > MAX_ERROR_RATE) return 'INVALID (errors)'
  const result = r.target === undefined ? 'info' : r.ours.rps / r.ref.rps >= r.target ? 'PASS' : 'FAIL'
  return disturbed(r) ? `${result} (disturbed)` : result
}

function failoverVerdict(f: FailoverSummary): string {
  if (f.failedRounds > 0) return `INVALID (${f.failedRounds} rounds without an ack)`
  if (f.multiplier !== 1) return 'info'
  return f.medianMs !== null && f.medianMs < FAILOVER_TARGET_MS ? 'PASS' : 'FAIL'
}

const fmtRps = (n: number): string => Math.round(n).toLocaleString('en-US')
const fmtMs = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0))
const fmtLat = (m: Measured | undefined): string => (m ? `${fmtMs(m.p50Ms)} / ${fmtMs(m.p99Ms)}` : '-')
const fmtCpu = (m: Measured | undefined): string => (m?.cpuUsPerReq === undefined ? '-' : m.cpuUsPerReq.toFixed(0))

function table(rows: readonly Row[], failovers: readonly FailoverSummary[]): string {
  const head = ['metric', 'conns', 'reference', 'ours', 'reference', 'ratio', 'ours p50/p99 ms', 'ref p50/p99 ms', 'cpu us/req ours/ref', 'errors ours/ref', 'target', 'result']
  const lines = rows.map((r) => [
    r.metric,
    String(r.connections),
    r.reference,
    `${fmtRps(r.ours.rps)} req/s`,
    r.ref ? `${fmtRps(r.ref.rps)} req/s` : '-',
    r.ref ? `${(r.ours.rps / r.ref.rps).toFixed(2)}x` : '-',
    fmtLat(r.ours),
    fmtLat(r.ref),
    `${fmtCpu(r.ours)} / ${fmtCpu(r.ref)}`,
    `${r.ours.errors} / ${r.ref?.errors ?? '-'}`,
    r.target === undefined ? '-' : `>= ${r.target}x`,
    verdict(r),
  ])
  for (const f of failovers) {
    lines.push([
      `failover m=${f.multiplier}`,
      '1',
      '-',
      f.medianMs === null ? '-' : `${Math.round(f.medianMs).toLocaleString('en-US')} ms`,
      '-',
      '-',
      f.minMs === null ? '-' : `min ${Math.round(f.minMs)} max ${Math.round(f.maxMs!)}`,
      '-',
      '-',
      `${f.failedRounds} / -`,
      f.multiplier === 1 ? `< ${FAILOVER_TARGET_MS} ms` : '-',
      failoverVerdict(f),
    ])
  }
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((r) => r[i]!.length)))
  // Text columns left-aligned, numbers right-aligned, as a reader scans them.
  const left = new Set([0, 2, 10, 11])
  const line = (r: string[]): string => r.map((v, i) => (left.has(i) ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n')
}

function gitCommit(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

interface Options {
  quick: boolean
  seconds: number
  rounds: number
}

function parseArgs(args: readonly string[]): Options | string {
  const usage = 'usage: npm run bench -- cluster [--quick] [--rounds N]   (BENCH_SECONDS=<n> seconds per cell)'
  let quick = false
  let rounds: number | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--quick') quick = true
    else if (a === '--rounds' || a.startsWith('--rounds=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i]
      rounds = Number(v)
      if (!Number.isInteger(rounds) || rounds < 1) return `--rounds takes a whole number >= 1, got ${JSON.stringify(v)}`
    } else return `unknown argument ${JSON.stringify(a)}; ${usage}`
  }
  const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 2 : 10))
  if (!Number.isInteger(seconds) || seconds < 1) return `BENCH_SECONDS must be a whole number of seconds >= 1, got ${JSON.stringify(process.env.BENCH_SECONDS)}`
  return { quick, seconds, rounds: rounds ?? (quick ? 3 : 10) }
}

const ourRequests = (query = ''): Record<'PUT' | 'GET', LuaRequest[]> => ({
  PUT: KEYS.map((k) => ({ method: 'PUT', path: `/v1/kv/${k}`, body: VALUE })),
  GET: KEYS.map((k) => ({ method: 'GET', path: `/v1/kv/${k}${query}` })),
})
const etcdRequests = (serializable: boolean): Record<'PUT' | 'GET', LuaRequest[]> => ({
  PUT: KEYS.map((k) => ({ method: 'POST', path: '/v3/kv/put', headers: JSON_HEADERS, body: JSON.stringify({ key: b64(k), value: b64(VALUE) }) })),
  GET: KEYS.map((k) => ({ method: 'POST', path: '/v3/kv/range', headers: JSON_HEADERS, body: JSON.stringify(serializable ? { key: b64(k), serializable: true } : { key: b64(k) }) })),
})

/** Preloading 16 at a time: fast, without flooding either cluster before the clock starts. */
async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(fn))
}

export async function runClusterBench(args: readonly string[]): Promise<number> {
  const opts = parseArgs(args)
  if (typeof opts === 'string') {
    process.stderr.write(`${opts}\n`)
    return 2
  }
  const { seconds, rounds } = opts
  const startedAt = performance.now()
  installSignalHandlers()
  onCleanup(async () => killWrk())
  onCleanup(async () => killEtcdLoad())
  const out = (s: string): void => void process.stdout.write(`${s}\n`)

  const wrk = process.env.BENCH_WRK_BIN !== undefined ? process.env.BENCH_WRK_BIN || undefined : which('wrk')
  const etcdVersion = spawnSync(ETCD_BIN, ['--version']).status === 0 ? firstLine(ETCD_BIN, ['--version']) : undefined
  const cores = cpus().length
  const warmupS = Math.min(2, seconds)
  const estimateS = 12 * (seconds + OPEN_S + 1) + 6 * warmupS + rounds * 12 + 40
  out(
    `Cluster benchmark${opts.quick ? ' (--quick)' : ''}: 3 servers of ours (node bin/consul.js agent -server -bootstrap-expect=3, 127.0.0.1-3) against 3 etcd members (127.0.0.1-3), both fsyncing, in the same run; ${seconds}s per cell (BENCH_SECONDS), ${rounds} failover rounds per raft_multiplier (${MULTIPLIERS.join(' and ')}), about ${Math.ceil(estimateS / 60)} min.\n` +
      `Workload: PUT a 100-byte value / GET, random key of ${KEY_COUNT} (preloaded); PUT and default GET through the leader, stale GET through the leader and a follower.\n` +
      `Load generator: ${wrk ? `wrk (${firstLine(wrk, ['--version']) ?? '?'}), threads = min(2, connections), ${OPEN_S}s to open connections before measuring` : 'built-in Node client (wrk not installed; figures not comparable with wrk runs)'}; etcd gRPC: bench/cluster/go/etcdload.go (clientv3, 1 connection per 8 clients).\n` +
      `Machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown'}), shared by the load generator and all three members of whichever cluster is measured (the other idles).`,
  )
  if (!etcdVersion) out(`NOTE: etcd (${ETCD_BIN}) is not installed: measuring ours only, no ratios. Install: ${INSTALL_HINT}`)
  let fsType: number | undefined
  try {
    fsType = statfsSync(tmpdir()).type
  } catch {
    fsType = undefined
  }
  if (fsType === TMPFS_MAGIC) out(`WARNING: ${tmpdir()} is tmpfs: fsync costs nothing there, so PUT cells do not measure durable writes. Set TMPDIR to a disk.`)
  const loadBefore = loadavg()[0]!
  const busyBefore = await machineBusy(1000)
  if (busyBefore !== undefined && busyBefore > 0.2) out(`WARNING: the machine was ${(busyBefore * 100).toFixed(0)}% busy in the second before the benchmark: other processes are using the CPU, so figures will be noisy.`)

  const scratch = tempDir('consul-bench-cluster-scripts-')
  let ours: OurCluster | undefined
  let etcd: EtcdCluster | undefined
  try {
    // The Go build overlaps the cluster start-ups (neither is measured).
    const goBuild = etcdVersion ? buildEtcdLoad(GO_MAIN) : Promise.resolve({ reason: 'no etcd' })
    ours = await startOurCluster(CONSUL_BIN, CELL_MULTIPLIER)
    const oursRoles = await ourRoles(ours, 30_000)
    out(`started our cluster (raft_multiplier ${CELL_MULTIPLIER}): leader ${oursRoles.leader.name} ${oursRoles.leader.url}, follower ${oursRoles.followers[0]!.name} ${oursRoles.followers[0]!.url}`)
    let etcdLeader: EtcdCluster['members'][number] | undefined
    let etcdFollower: EtcdCluster['members'][number] | undefined
    if (etcdVersion) {
      etcd = await startEtcdCluster(ETCD_BIN)
      const roles = await etcdRoles(etcd)
      etcdLeader = roles.leader
      etcdFollower = roles.followers[0]!
      out(`started etcd (${etcdVersion}): leader ${etcdLeader.name} ${etcdLeader.url}, follower ${etcdFollower.name} ${etcdFollower.url}`)
    }
    const built = await goBuild
    const grpcBin = typeof built === 'string' ? built : undefined
    if (etcdVersion && !grpcBin) out(`NOTE: etcd gRPC side not built (${(built as { reason: string }).reason}); no gRPC rows. Install: apt-get install -y ${GO_DEB_PACKAGES.join(' ')}`)

    const oLeader = oursRoles.leader.url
    const oFollower = oursRoles.followers[0]!.url
    await inBatches(KEYS, async (k) => {
      const r = await tryFetch(`${oLeader}/v1/kv/${k}`, { method: 'PUT', body: VALUE }, 10_000)
      if (r?.status !== 200 || r.text.trim() !== 'true') throw new Error(`preload PUT ${k}: ${r ? `${r.status} ${r.text}` : 'no answer'}`)
    })
    if (etcdLeader) await inBatches(KEYS, (k) => etcdPut(etcdLeader.url, k, VALUE))
    // Every GET cell must hit: the follower has the preloaded value too.
    const probe = KEYS[7]!
    for (const url of [oLeader, oFollower]) {
      const deadline = Date.now() + 10_000
      for (;;) {
        const r = await tryFetch(`${url}/v1/kv/${probe}?stale`)
        if (r?.status === 200 && Buffer.from((JSON.parse(r.text) as Array<{ Value: string }>)[0]!.Value, 'base64').toString() === VALUE) break
        if (Date.now() > deadline) throw new Error(`ours: ${url} does not serve the preloaded ${probe}`)
        await new Promise((res) => setTimeout(res, 50))
      }
    }
    if (etcdLeader && etcdFollower) {
      for (const [m, ser] of [[etcdLeader, false], [etcdFollower, true]] as const) {
        if ((await etcdGet(m.url, probe, ser)) !== VALUE) throw new Error(`etcd: ${m.name} does not serve the preloaded ${probe}`)
      }
    }

    const oursPids = (): Array<number | undefined> => ours!.nodes.map((n) => n.server?.proc.pid)
    const etcdPids = (): Array<number | undefined> => etcd?.members.map((m) => m.server.proc.pid) ?? []
    const clusterCpu = (pids: Array<number | undefined>): number | undefined => {
      const v = pids.map(cpuSeconds)
      return v.every((x) => x !== undefined) ? v.reduce((a, b) => a! + b!, 0) : undefined
    }
    const perReq = (a: number | undefined, b: number | undefined, n: number): number | undefined => (a !== undefined && b !== undefined && n > 0 ? ((b - a) * 1e6) / n : undefined)
    let scriptN = 0
    // Everything this run started: what the machine spent beyond it was someone else's.
    const ownCpu = (): number | undefined => {
      const parts = [selfAndReapedSeconds(), clusterCpu(oursPids()), etcd ? clusterCpu(etcdPids()) : 0]
      return parts.every((x) => x !== undefined) ? parts.reduce((a, b) => a! + b!, 0) : undefined
    }
    const otherWatch = (): (() => number | undefined) => {
      const [busy0, own0, t0] = [machineBusySeconds(), ownCpu(), performance.now()]
      return () => {
        const [busy1, own1] = [machineBusySeconds(), ownCpu()]
        if (busy0 === undefined || busy1 === undefined || own0 === undefined || own1 === undefined) return undefined
        return Math.max(0, busy1 - busy0 - (own1 - own0)) / ((performance.now() - t0) / 1000)
      }
    }
    const http = async (url: string, requests: LuaRequest[], pids: Array<number | undefined>, connections: number, secs = seconds, openS = OPEN_S): Promise<Measured> => {
      const other = otherWatch()
      const cpu0 = clusterCpu(pids)
      const r = wrk
        ? await runWrk({ wrk, url, script: randomRequestScript(requests, { openS }), scriptName: `cell-${++scriptN}.lua`, dir: scratch, connections, seconds: secs, openS })
        : await runNodeLoad({ url, requests, connections, seconds: secs })
      const errors = r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout
      return { tool: wrk ? 'wrk' : 'node', url, requests: r.requests, rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors, cpuUsPerReq: perReq(cpu0, clusterCpu(pids), r.requests), otherCores: other(), raw: r }
    }
    const grpc = async (url: string, clients: number): Promise<Measured> => {
      const other = otherWatch()
      const cpu0 = clusterCpu(etcdPids())
      // The Go client's own warm-up is inside the CPU window: count its puts too (approximately: at the measured rate).
      const r = await runEtcdLoad(grpcBin!, url, clients, grpcConns(clients), warmupS, seconds)
      const cpu = perReq(cpu0, clusterCpu(etcdPids()), Math.round(r.opsPerSec * (r.seconds + warmupS)))
      return { tool: 'clientv3', url, requests: r.requests, rps: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, cpuUsPerReq: cpu, otherCores: other(), raw: r }
    }
    const report = (label: string, m: Measured): void =>
      out(`  ${label.padEnd(52)} ${fmtRps(m.rps).padStart(7)} req/s  p50 ${fmtMs(m.p50Ms)} ms  p99 ${fmtMs(m.p99Ms)} ms  cpu ${fmtCpu(m)} us/req  errors ${m.errors}${(m.otherCores ?? 0) > MAX_OTHER_CORES ? `  DISTURBED: other processes used ${m.otherCores!.toFixed(2)} cores` : ''}`)

    // Warm-up (not recorded): V8 optimises our hot paths, etcd grows its buffers.
    for (const op of ['PUT', 'GET'] as const) {
      await http(oLeader, ourRequests()[op], oursPids(), 64, warmupS, 0)
      if (etcdLeader) await http(etcdLeader.url, etcdRequests(false)[op], etcdPids(), 64, warmupS, 0)
    }

    interface Plan {
      metric: string
      connections: number
      ours: () => Promise<Measured>
      refs: Array<{ name: string; target: number | undefined; run: () => Promise<Measured> }>
    }
    const eL = etcdLeader?.url
    const eF = etcdFollower?.url
    const refsIf = (cond: unknown, ref: Plan['refs'][number]): Plan['refs'] => (cond ? [ref] : [])
    const plans: Plan[] = [
      ...[1, 64].map((c): Plan => ({
        metric: 'PUT (leader)',
        connections: c,
        ours: () => http(oLeader, ourRequests().PUT, oursPids(), c),
        refs: [
          ...refsIf(eL, { name: 'etcd JSON gateway', target: c === 64 ? 1.5 : undefined, run: () => http(eL!, etcdRequests(false).PUT, etcdPids(), c) }),
          ...refsIf(eL && grpcBin, { name: 'etcd gRPC', target: c === 64 ? 1 : undefined, run: () => grpc(eL!, c) }),
        ],
      })),
      { metric: 'GET default (leader)', connections: 64, ours: () => http(oLeader, ourRequests().GET, oursPids(), 64), refs: refsIf(eL, { name: 'etcd JSON linearizable', target: 3, run: () => http(eL!, etcdRequests(false).GET, etcdPids(), 64) }) },
      { metric: 'GET stale (leader)', connections: 64, ours: () => http(oLeader, ourRequests('?stale').GET, oursPids(), 64), refs: refsIf(eL, { name: 'etcd JSON serializable', target: 3, run: () => http(eL!, etcdRequests(true).GET, etcdPids(), 64) }) },
      { metric: 'GET stale (follower)', connections: 64, ours: () => http(oFollower, ourRequests('?stale').GET, oursPids(), 64), refs: refsIf(eF, { name: 'etcd JSON serializable', target: 3, run: () => http(eF!, etcdRequests(true).GET, etcdPids(), 64) }) },
    ]
    const rows: Row[] = []
    for (const [i, p] of plans.entries()) {
      // Alternate who goes first, so drifting background load does not always land on one side.
      const refResults: Measured[] = []
      let oursResult: Measured | undefined
      const runOurs = async (): Promise<void> => {
        oursResult = await p.ours()
        report(`${p.metric} c=${p.connections} ours`, oursResult)
      }
      if (i % 2 === 0) await runOurs()
      for (const ref of p.refs) {
        const m = await ref.run()
        refResults.push(m)
        report(`${p.metric} c=${p.connections} ${ref.name}`, m)
      }
      if (i % 2 === 1) await runOurs()
      if (p.refs.length === 0) rows.push({ metric: p.metric, connections: p.connections, reference: '-', ours: oursResult!, ref: undefined, target: undefined })
      p.refs.forEach((ref, j) => rows.push({ metric: p.metric, connections: p.connections, reference: ref.name, ours: oursResult!, ref: refResults[j], target: ref.target }))
    }
    // Leadership must not have moved during the cells: they were meant to go through the leader.
    const after = await ourRoles(ours, 10_000)
    const leaderMoved = after.leader !== oursRoles.leader
    if (leaderMoved) out(`WARNING: our leader moved from ${oursRoles.leader.name} to ${after.leader.name} during the cells`)
    const etcdLeaderMoved = etcd ? (await etcdRoles(etcd)).leader !== etcdLeader : false
    if (etcdLeaderMoved) out('WARNING: the etcd leader moved during the cells')
    if (etcd) {
      await stopEtcdCluster(etcd)
      etcd = undefined
    }

    // Failover: the cells' cluster first (raft_multiplier 1), then a fresh one at 5.
    const failovers: FailoverSummary[] = []
    for (const m of MULTIPLIERS) {
      if (ours.multiplier !== m) {
        await stopOurCluster(ours)
        ours = await startOurCluster(CONSUL_BIN, m)
        await ourRoles(ours, 60_000 * m)
      }
      out(`failover at raft_multiplier ${m}: ${rounds} rounds of kill -9 of the leader, PUTs through a follower (${WRITE_TIMEOUT_MS} ms timeout each)`)
      failovers.push(await measureFailover(ours, rounds, out))
    }
    await stopOurCluster(ours)
    ours = undefined

    out(`\n${table(rows, failovers)}\n`)
    const loadAfter = loadavg()[0]!
    out(
      `ratio = ours req/s / reference req/s, both measured in this run. cpu us/req = user+system CPU of all three members over the cell / requests (etcd gRPC: including its client's ${warmupS}s warm-up). Errors = responses >= 400 plus socket errors (gRPC: failed puts); a row over ${MAX_ERROR_RATE * 100}% errors is INVALID.\n` +
        `wrk's percentiles are corrected for coordinated omission; etcdload.go's are plain closed-loop percentiles (nearest rank) and so read lower under queueing.\n` +
        `failover = kill -9 of the leader to the first acknowledged PUT through a surviving follower (median of ${rounds}; min/max in the p50/p99 column); the new leader was known to the survivor after a median of ${failovers.map((f) => `${f.leaderKnownMedianMs === null ? '-' : Math.round(f.leaderKnownMedianMs)} ms at m=${f.multiplier}`).join(', ')}.\n` +
        (rows.some(disturbed) ? `WARNING: other processes used more than ${MAX_OTHER_CORES} cores during ${rows.filter(disturbed).length} rows' cells ("disturbed"): rerun on a quiet machine.\n` : '') +
        `Load average ${loadAfter.toFixed(2)} at the end; the whole run took ${Math.round((performance.now() - startedAt) / 1000)} s.`,
    )

    const date = new Date().toISOString().slice(0, 10)
    const outDir = join(ROOT, 'bench', 'results')
    mkdirSync(outDir, { recursive: true })
    // A quick run's short cells read low: it never replaces the figures of a full run.
    const file = join(outDir, `cluster-${date}${opts.quick ? '-quick' : ''}.json`)
    const results = {
      benchmark: 'cluster',
      date: new Date().toISOString(),
      commit: gitCommit(),
      quick: opts.quick,
      secondsPerCell: seconds,
      warmupSeconds: warmupS,
      wallSeconds: (performance.now() - startedAt) / 1000,
      machine: { cores, cpu: cpus()[0]?.model, node: process.version, tmpdir: tmpdir(), tmpdirIsTmpfs: fsType === TMPFS_MAGIC, busyBeforeStart: busyBefore ?? null, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      loadGenerator: wrk ? { tool: 'wrk', version: firstLine(wrk, ['--version']), threads: 'min(2, connections)', openSecondsBeforeMeasuring: OPEN_S } : { tool: 'node' },
      etcd: etcdVersion ?? null,
      etcdGrpcClient: grpcBin ? { program: 'bench/cluster/go/etcdload.go', debian: Object.fromEntries(GO_DEB_PACKAGES.map((p) => [p, debVersion(p) ?? null])), connections: '1 per 8 clients' } : { missing: (built as { reason: string }).reason },
      clusters: {
        ours: `3 servers, node bin/consul.js agent -server -bootstrap-expect=3 on 127.0.0.1-3, raft_multiplier ${CELL_MULTIPLIER} for the cells`,
        etcd: '3 members on 127.0.0.1-3, default heartbeat 100 ms / election 1000 ms, default fsync',
      },
      workload: { keys: KEY_COUNT, valueBytes: Buffer.byteLength(VALUE), put: 'PUT /v1/kv/<key> vs POST /v3/kv/put (JSON) and clientv3 Put (gRPC), through the leader', get: 'GET /v1/kv/<key>[?stale] vs POST /v3/kv/range [serializable]' },
      targets: { put64: '>= 1.5x etcd JSON gateway and >= 1x etcd gRPC', get: '>= 3x etcd', failover: `< ${FAILOVER_TARGET_MS} ms median at raft_multiplier 1` },
      leaderMovedDuringCells: { ours: leaderMoved, etcd: etcdLeaderMoved },
      cells: rows.map((r) => ({
        metric: r.metric,
        connections: r.connections,
        threads: wrkThreads(r.connections),
        reference: r.reference,
        ours: r.ours,
        ref: r.ref ?? null,
        ratio: r.ref ? r.ours.rps / r.ref.rps : null,
        p99Ratio: r.ref ? r.ours.p99Ms / r.ref.p99Ms : null,
        target: r.target ?? null,
        disturbed: disturbed(r),
        result: verdict(r),
      })),
      failover: failovers.map((f) => ({ ...f, writeTimeoutMs: WRITE_TIMEOUT_MS, target: f.multiplier === 1 ? FAILOVER_TARGET_MS : null, result: failoverVerdict(f) })),
    }
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
    out(`results written to ${relative(process.cwd(), file) || file}`)
    return rows.some((r) => verdict(r).startsWith('INVALID')) || failovers.some((f) => f.failedRounds > 0) ? 1 : 0
  } finally {
    await cleanupAll()
    if (ours) removeTempDir(ours.root)
    if (etcd) removeTempDir(etcd.root)
    removeTempDir(scratch)
  }
}
