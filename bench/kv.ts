/**
 * KV benchmark (issue 2): PUT and GET throughput and latency of our durable single server
 * against a single etcd through its HTTP/JSON gateway, both driven by the same wrk scripts in
 * the same run on the same machine. Targets: GET >= 3x etcd's requests/s, PUT >= 1.5x.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, cpuSeconds, firstLine, freePort, installSignalHandlers, machineBusy, onCleanup, removeTempDir, startServer, tcpCounters, tcpCountersDelta, tempDir, which, type Server, type TcpCounters, noConnLimitFlag } from './lib/procs.js'
import { killWrk, randomRequestScript, runWrk, wrkThreads, type LoadResult, type LuaRequest } from './lib/wrk.js'
import { runNodeLoad } from './lib/node-load.js'

/** Repository root: this file runs as dist/bench/kv.js. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CONSUL_BIN = join(ROOT, 'bin', 'consul.js')
/** Debian's etcd-server path first; BENCH_ETCD_BIN points at another build (or at nothing, to test the no-etcd path). */
const ETCD_BIN = process.env.BENCH_ETCD_BIN ?? (existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : which('etcd') ?? '/usr/bin/etcd')
const INSTALL_HINT = 'apt-get install -y etcd-server wrk'

const KEY_COUNT = 1000
const CONNECTIONS = [1, 64, 256] as const
const TARGETS = { PUT: 1.5, GET: 3 } as const
type Op = keyof typeof TARGETS
/**
 * Seconds each wrk run spends opening its connections before the measured window (bench/lib/wrk.ts):
 * the cells measure serving, not connection set-up. How each server copes with all 256
 * connections opening under load is measured separately (OPEN_UNDER_LOAD) and reported beside.
 */
const OPEN_S = 1
const OPEN_UNDER_LOAD = { op: 'GET', connections: 256 } as const
/** A row whose error rate is above this measures error handling, not the KV store. */
const MAX_ERROR_RATE = 0.01

/** 100 bytes, identical on both sides; not all one letter so nothing can compress it away. */
const VALUE = Array.from({ length: 100 }, (_, i) => String.fromCharCode(33 + ((i * 37) % 90))).join('')
const keyName = (i: number): string => `bench/key-${String(i).padStart(3, '0')}`
const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** `before` is an older build of ours (--baseline=DIR), measured in the same run: "no slower than before". */
type Side = 'ours' | 'etcd' | 'before'

interface Target {
  side: Side
  url: string
  pid: number | undefined
  requests: Record<Op, LuaRequest[]>
  preload: () => Promise<void>
  /** Throws unless a GET of a preloaded key answers with VALUE: the GET cells must hit. */
  verify: () => Promise<void>
}

function oursTarget(url: string, pid: number | undefined, side: Side = 'ours'): Target {
  const keys = Array.from({ length: KEY_COUNT }, (_, i) => keyName(i))
  return {
    side,
    url,
    pid,
    requests: {
      PUT: keys.map((k) => ({ method: 'PUT', path: `/v1/kv/${k}`, body: VALUE })),
      GET: keys.map((k) => ({ method: 'GET', path: `/v1/kv/${k}` })),
    },
    preload: () =>
      inBatches(keys, async (k) => {
        const res = await fetch(`${url}/v1/kv/${k}`, { method: 'PUT', body: VALUE })
        const text = await res.text()
        if (res.status !== 200 || text.trim() !== 'true') throw new Error(`preload PUT ${k}: ${res.status} ${text}`)
      }),
    verify: async () => {
      const res = await fetch(`${url}/v1/kv/${keys[7]}`)
      const body = (await res.json()) as Array<{ Value: string }>
      if (res.status !== 200 || Buffer.from(body[0]!.Value, 'base64').toString() !== VALUE) throw new Error(`ours: GET ${keys[7]} did not return the preloaded value`)
    },
  }
}

function etcdTarget(url: string, pid: number | undefined): Target {
  const keys = Array.from({ length: KEY_COUNT }, (_, i) => keyName(i))
  const json = { 'Content-Type': 'application/json' }
  const putBody = (k: string): string => JSON.stringify({ key: b64(k), value: b64(VALUE) })
  return {
    side: 'etcd',
    url,
    pid,
    requests: {
      PUT: keys.map((k) => ({ method: 'POST', path: '/v3/kv/put', headers: json, body: putBody(k) })),
      GET: keys.map((k) => ({ method: 'POST', path: '/v3/kv/range', headers: json, body: JSON.stringify({ key: b64(k) }) })),
    },
    preload: () =>
      inBatches(keys, async (k) => {
        const res = await fetch(`${url}/v3/kv/put`, { method: 'POST', headers: json, body: putBody(k) })
        if (res.status !== 200) throw new Error(`preload etcd put ${k}: ${res.status} ${await res.text()}`)
        await res.arrayBuffer()
      }),
    verify: async () => {
      const res = await fetch(`${url}/v3/kv/range`, { method: 'POST', headers: json, body: JSON.stringify({ key: b64(keys[7]!) }) })
      const body = (await res.json()) as { kvs?: Array<{ value: string }> }
      if (res.status !== 200 || Buffer.from(body.kvs?.[0]?.value ?? '', 'base64').toString() !== VALUE) throw new Error('etcd: range did not return the preloaded value')
    },
  }
}

/** Preloading 16 at a time: fast, and without flooding either server before the clock starts. */
async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(fn))
}

async function startAgent(bin = CONSUL_BIN): Promise<Server & { url: string; dataDir: string }> {
  const dataDir = tempDir('consul-bench-agent-')
  const port = await freePort()
  // The system picks the cluster ports (a baseline build older than membership has no -serf-lan-port).
  const clusterPorts = bin === CONSUL_BIN ? ['-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0'] : ['-server-port=0']
  const args = [bin, 'agent', '-server', '-bootstrap-expect=1', ...clusterPorts, `-data-dir=${dataDir}`, '-node=bench', '-bind=127.0.0.1', `-http-port=${port}`, '-dns-port=-1', noConnLimitFlag(dataDir)]
  const server = await startServer({ name: 'consul agent', cmd: process.execPath, args, ready: (out) => /agent: started/.test(out) })
  return { ...server, url: `http://127.0.0.1:${port}`, dataDir }
}

async function startEtcd(): Promise<Server & { url: string; dataDir: string }> {
  const dataDir = tempDir('consul-bench-etcd-')
  const client = await freePort()
  const peer = await freePort()
  const url = `http://127.0.0.1:${client}`
  const peerUrl = `http://127.0.0.1:${peer}`
  const args = [
    '--name', 'bench',
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `bench=${peerUrl}`,
    // zap at warn: etcd's default info logging would cost it CPU that ours does not spend.
    '--logger', 'zap',
    '--log-level', 'warn',
  ]
  const ready = async (): Promise<boolean> => {
    try {
      const res = await fetch(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64('ready') }), signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      return res.status === 200
    } catch {
      return false
    }
  }
  const server = await startServer({ name: 'etcd', cmd: ETCD_BIN, args, ready })
  return { ...server, url, dataDir }
}

/** wrk's figures plus the server's own CPU time over the cell. */
interface Measured extends LoadResult {
  /** Server CPU (user + system, all threads) per request in microseconds; undefined off Linux. */
  cpuUsPerReq: number | undefined
  /** Kernel TCP counters over the run (accept-queue overflows, retransmits); undefined off Linux. */
  tcp: TcpCounters | undefined
}

interface Cell {
  op: Op
  connections: number
  ours: Measured
  etcd: Measured | undefined
  before: Measured | undefined
}

const errorCount = (r: LoadResult): number => r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout
const errorRate = (r: LoadResult): number => errorCount(r) / Math.max(1, r.requests)

function verdict(c: Cell): string {
  if (!c.etcd) return 'n/a (no etcd)'
  if (errorRate(c.ours) > MAX_ERROR_RATE || errorRate(c.etcd) > MAX_ERROR_RATE) return 'INVALID (errors)'
  return c.ours.rps / c.etcd.rps >= TARGETS[c.op] ? 'PASS' : 'FAIL'
}

const fmtRps = (n: number): string => Math.round(n).toLocaleString('en-US')
const fmtMs = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0))
const fmtCpu = (r: Measured | undefined): string => (r?.cpuUsPerReq === undefined ? '-' : r.cpuUsPerReq.toFixed(0))
const fmtLat = (r: LoadResult | undefined): string => (r ? `${fmtMs(r.p50Ms)} / ${fmtMs(r.p99Ms)}` : '-')

function table(cells: readonly Cell[]): string {
  const head = ['op', 'conns', 'ours req/s', 'etcd req/s', 'ratio', 'ours p50/p99 ms', 'etcd p50/p99 ms', 'p99 ours/etcd', 'cpu us/req ours/etcd', 'errors ours/etcd', 'target', 'result']
  const withBefore = cells.some((c) => c.before)
  if (withBefore) head.push('before req/s', 'ours/before', 'cpu us/req before')
  const rows = cells.map((c) => [
    c.op,
    String(c.connections),
    fmtRps(c.ours.rps),
    c.etcd ? fmtRps(c.etcd.rps) : '-',
    c.etcd ? `${(c.ours.rps / c.etcd.rps).toFixed(2)}x` : '-',
    fmtLat(c.ours),
    fmtLat(c.etcd),
    c.etcd ? `${(c.ours.p99Ms / c.etcd.p99Ms).toFixed(2)}x` : '-',
    `${fmtCpu(c.ours)} / ${fmtCpu(c.etcd)}`,
    `${errorCount(c.ours)} / ${c.etcd ? errorCount(c.etcd) : '-'}`,
    `>= ${TARGETS[c.op]}x`,
    verdict(c),
    ...(withBefore ? [c.before ? fmtRps(c.before.rps) : '-', c.before ? `${(c.ours.rps / c.before.rps).toFixed(2)}x` : '-', fmtCpu(c.before)] : []),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  // Text columns left-aligned, numbers right-aligned, as a reader scans them.
  const left = new Set([0, 10, 11])
  const line = (r: string[]): string => r.map((v, i) => (left.has(i) ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function gitCommit(dir = ROOT): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

export async function runKvBench(args: readonly string[]): Promise<number> {
  // --baseline=DIR: a built checkout of an older commit (npm ci && npm run build there), run as a third side.
  const baselineDir = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length)
  const baselineBin = baselineDir ? join(baselineDir, 'bin', 'consul.js') : undefined
  if (baselineBin && !existsSync(baselineBin)) {
    process.stderr.write(`--baseline: ${baselineBin} does not exist (expected a built checkout)\n`)
    return 2
  }
  const seconds = Number(process.env.BENCH_SECONDS ?? 10)
  if (!Number.isInteger(seconds) || seconds < 1) {
    process.stderr.write(`BENCH_SECONDS must be a whole number of seconds >= 1, got ${JSON.stringify(process.env.BENCH_SECONDS)}\n`)
    return 2
  }
  installSignalHandlers()
  onCleanup(async () => killWrk())

  // BENCH_WRK_BIN: another wrk build, or an empty string to force the Node fallback.
  const wrk = process.env.BENCH_WRK_BIN !== undefined ? process.env.BENCH_WRK_BIN || undefined : which('wrk')
  const haveEtcd = spawnSync(ETCD_BIN, ['--version']).status === 0
  if (!wrk) process.stdout.write(`NOTE: wrk is not installed; falling back to a Node load generator (slower; figures are not comparable with wrk runs). Install: ${INSTALL_HINT}\n`)
  if (!haveEtcd) process.stdout.write(`NOTE: etcd (${ETCD_BIN}) is not installed; measuring only our agent, no ratios. Install: ${INSTALL_HINT}\n`)

  const cores = cpus().length
  const warmupS = Math.min(2, seconds)
  const perServer = 2 * CONNECTIONS.length * (seconds + OPEN_S) + 2 * warmupS + (wrk ? seconds : 0)
  const estimate = perServer * ((haveEtcd ? 2 : 1) + (baselineBin ? 1 : 0))
  process.stdout.write(
    `KV benchmark: PUT (100-byte value, random key of ${KEY_COUNT}) and GET (random preloaded key), ${CONNECTIONS.join('/')} connections, ${seconds}s per cell (BENCH_SECONDS), about ${Math.ceil(estimate / 60)} min.\n` +
      `Load generator: ${wrk ? `wrk (${firstLine(wrk, ['--version']) ?? 'unknown version'}), threads = min(2, connections)` : 'built-in Node client'}.\n` +
      `Machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown'}); the load generator, etcd and our agent all share them, equally for both sides.\n` +
      `Ours: node bin/consul.js agent -server -bootstrap-expect=1 (raft log in SQLite, fsync per group commit).\n` +
      (haveEtcd ? `etcd: ${firstLine(ETCD_BIN, ['--version']) ?? 'unknown version'}, single member, HTTP/JSON gateway (/v3/kv/put, /v3/kv/range), default fsync.\n` : '') +
      (baselineDir ? `Before: the same agent from ${baselineDir} (${gitCommit(baselineDir) ?? 'not a git checkout'}), run the same way.\n` : ''),
  )

  // Other processes on the machine distort every req/s figure; say so up front rather than
  // let a noisy run pass for a clean one. CPU per request (from /proc) is disturbed much less.
  const loadBefore = loadavg()[0]!
  const busyBefore = await machineBusy(1000)
  if (busyBefore !== undefined && busyBefore > 0.2) {
    process.stdout.write(`WARNING: the machine was ${(busyBefore * 100).toFixed(0)}% busy in the second before the benchmark: other processes are using the CPU, so req/s will be noisy.\n`)
  }

  const scratch = tempDir('consul-bench-scripts-')
  const targets: Target[] = []
  const started: Array<Server & { dataDir: string }> = []
  try {
    const agent = await startAgent()
    started.push(agent)
    targets.push(oursTarget(agent.url, agent.proc.pid))
    process.stdout.write(`started our agent at ${agent.url} (data dir ${agent.dataDir})\n`)
    if (haveEtcd) {
      const etcd = await startEtcd()
      started.push(etcd)
      targets.push(etcdTarget(etcd.url, etcd.proc.pid))
      process.stdout.write(`started etcd at ${etcd.url} (data dir ${etcd.dataDir})\n`)
    }
    if (baselineBin) {
      const before = await startAgent(baselineBin)
      started.push(before)
      targets.push(oursTarget(before.url, before.proc.pid, 'before'))
      process.stdout.write(`started the baseline agent at ${before.url} (data dir ${before.dataDir})\n`)
    }
    for (const t of targets) {
      await t.preload()
      await t.verify()
    }

    const load = async (t: Target, op: Op, connections: number, secs: number, openS = OPEN_S): Promise<Measured> => {
      const tcp0 = tcpCounters()
      const cpu0 = cpuSeconds(t.pid)
      const script = randomRequestScript(t.requests[op], { openS })
      const r = wrk
        ? await runWrk({ wrk, url: t.url, script, scriptName: `${t.side}-${op.toLowerCase()}.lua`, dir: scratch, connections, seconds: secs, openS })
        : await runNodeLoad({ url: t.url, requests: t.requests[op], connections, seconds: secs })
      const cpu1 = cpuSeconds(t.pid)
      const cpuUsPerReq = cpu0 !== undefined && cpu1 !== undefined && r.requests > 0 ? ((cpu1 - cpu0) * 1e6) / r.requests : undefined
      return { ...r, cpuUsPerReq, tcp: tcpCountersDelta(tcp0, tcpCounters()) }
    }

    // Warm-up (not recorded): lets V8 optimise our hot paths and etcd grow its buffers, so the
    // first recorded cell does not measure start-up.
    for (const t of targets) for (const op of ['PUT', 'GET'] as const) await load(t, op, 64, warmupS, 0)

    const cells: Cell[] = []
    for (const op of ['PUT', 'GET'] as const) {
      for (const connections of CONNECTIONS) {
        const results: Partial<Record<Target['side'], Measured>> = {}
        // Alternate who goes first, so a change in background load over the run (or leftover
        // work such as a compaction after the previous cell) does not always land on one side.
        const order = cells.length % 2 === 0 ? targets : [...targets].reverse()
        for (const t of order) {
          results[t.side] = await load(t, op, connections, seconds)
          const r = results[t.side]!
          process.stdout.write(
            `  ${op} c=${String(connections).padEnd(3)} ${t.side.padEnd(6)}: ${fmtRps(r.rps).padStart(7)} req/s  p50 ${fmtMs(r.p50Ms)} ms  p99 ${fmtMs(r.p99Ms)} ms  cpu ${fmtCpu(r)} us/req  errors ${errorCount(r)}${r.tcp ? `  listen overflows ${r.tcp.listenOverflows}` : ''}\n`,
          )
        }
        cells.push({ op, connections, ours: results.ours!, etcd: results.etcd, before: results.before })
      }
    }
    // wrk's own way (connections open as the load starts), for the record: not a pass/fail cell.
    const openUnderLoad: Partial<Record<Target['side'], Measured>> = {}
    if (wrk) {
      for (const t of targets) {
        const r = (openUnderLoad[t.side] = await load(t, OPEN_UNDER_LOAD.op, OPEN_UNDER_LOAD.connections, seconds, 0))
        process.stdout.write(`  ${OPEN_UNDER_LOAD.op} c=${OPEN_UNDER_LOAD.connections} ${t.side.padEnd(4)} connections opened under load: ${fmtRps(r.rps)} req/s  p50 ${fmtMs(r.p50Ms)} ms  p99 ${fmtMs(r.p99Ms)} ms\n`)
      }
    }
    // Still serving the preloaded value after the PUT storm: the numbers came from a working store.
    for (const t of targets) await t.verify()

    process.stdout.write(`\n${table(cells)}\n\n`)
    if (openUnderLoad.ours) {
      process.stdout.write(
        `${OPEN_UNDER_LOAD.op} c=${OPEN_UNDER_LOAD.connections} with all connections opening as the load starts (wrk's default; not a target): ours p99 ${fmtMs(openUnderLoad.ours.p99Ms)} ms, etcd ${openUnderLoad.etcd ? `${fmtMs(openUnderLoad.etcd.p99Ms)} ms` : '-'}.\n` +
          `The cells above give connections ${OPEN_S}s to open before measuring: Node accepts one connection per event-loop iteration, so under load the last of 256 wait ~1 s for a first answer, which wrk's coordinated-omission correction counts hundreds of times over (bench/lib/wrk.ts).\n\n`,
      )
    }
    const loadAfter = loadavg()[0]!
    process.stdout.write(`Shared machine: ${cores} cores for wrk, etcd and our agent alike (${busyBefore === undefined ? '' : `${(busyBefore * 100).toFixed(0)}% busy just before the start; `}load average ${loadAfter.toFixed(2)} at the end, of which wrk plus one busy server account for about 2). cpu us/req = the server's user+system CPU over the cell / requests. Errors = responses >= 400 plus socket errors; a row over ${MAX_ERROR_RATE * 100}% errors is INVALID.\n`)

    const date = new Date().toISOString().slice(0, 10)
    const outDir = join(ROOT, 'bench', 'results')
    mkdirSync(outDir, { recursive: true })
    const file = join(outDir, `kv-${date}.json`)
    const results = {
      benchmark: 'kv',
      date: new Date().toISOString(),
      commit: gitCommit(),
      secondsPerCell: seconds,
      machine: { cores, cpu: cpus()[0]?.model, node: process.version, busyBeforeStart: busyBefore ?? null, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      loadGenerator: wrk ? { tool: 'wrk', version: firstLine(wrk, ['--version']), threads: 'min(2, connections)', openSecondsBeforeMeasuring: OPEN_S } : { tool: 'node' },
      etcd: haveEtcd ? firstLine(ETCD_BIN, ['--version']) : null,
      ...(baselineDir ? { baseline: { dir: baselineDir, commit: gitCommit(baselineDir) ?? null } } : {}),
      workload: { keys: KEY_COUNT, valueBytes: Buffer.byteLength(VALUE), put: 'PUT /v1/kv/<key> vs POST /v3/kv/put', get: 'GET /v1/kv/<key> vs POST /v3/kv/range' },
      targets: { GET: `>= ${TARGETS.GET}x etcd req/s`, PUT: `>= ${TARGETS.PUT}x etcd req/s` },
      cells: cells.map((c) => ({
        op: c.op,
        connections: c.connections,
        threads: wrkThreads(c.connections),
        ours: c.ours,
        etcd: c.etcd ?? null,
        ...(c.before ? { before: c.before, ratioToBefore: c.ours.rps / c.before.rps } : {}),
        ratio: c.etcd ? c.ours.rps / c.etcd.rps : null,
        p99Ratio: c.etcd ? c.ours.p99Ms / c.etcd.p99Ms : null,
        target: TARGETS[c.op],
        result: verdict(c),
      })),
      openUnderLoad: openUnderLoad.ours ? { ...OPEN_UNDER_LOAD, ours: openUnderLoad.ours, etcd: openUnderLoad.etcd ?? null, note: 'connections opened as the load starts, wrk default; informational' } : null,
    }
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
    process.stdout.write(`results written to ${relative(process.cwd(), file) || file}\n`)
    return cells.some((c) => verdict(c) === 'INVALID (errors)') ? 1 : 0
  } finally {
    await cleanupAll()
    for (const s of started) removeTempDir(s.dataDir)
    removeTempDir(scratch)
  }
}
