/**
 * DNS benchmark (issue 4): queries/s and p99 latency of a 10-instance service lookup (A and SRV)
 * at 1 and 64 concurrent clients, against our agent and, in the same run, against Debian's
 * dnsmasq serving the same static records. Target: at least 0.8x dnsmasq's queries/s.
 *
 * Load generator: a closed-loop UDP client written here in Node (dns-packet): each client sends
 * its next query as soon as the previous answer arrives, and every latency is recorded, so p99
 * is exact. On a small machine it may be the bottleneck for both servers; when `dnsperf`
 * (Debian) is installed, a second table gives each server's queries/s under dnsperf at 64
 * outstanding queries, which pushes harder (dnsperf reports averages, not percentiles), and a
 * third the same against our agent with one UDP worker process (`dns_config.udp_workers`).
 */
import { spawnSync } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import dnsPacket, { type RecordType } from 'dns-packet'
import { cleanupAll, cpuSeconds, firstLine, freePort, installSignalHandlers, machineBusy, removeTempDir, startServer, tempDir, which, type Server } from './lib/procs.js'
import { textTable } from './lib/table.js'

/** Repository root: this file runs as dist/bench/dns.js. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CONSUL_BIN = join(ROOT, 'bin', 'consul.js')
const INSTALL_HINT = 'apt-get install -y dnsmasq dnsperf'

const INSTANCES = 10
const CLIENTS = [1, 64] as const
const TYPES = ['A', 'SRV'] as const
const QNAME = 'web.service.consul'
const TARGET_RATIO = 0.8
/** A query unanswered after this is counted lost and the client moves on. */
const QUERY_TIMEOUT_MS = 1000
/** A cell with more lost queries than this measures loss, not the server. */
const MAX_LOSS_RATE = 0.01
/** EDNS size both servers are asked with, so all 10 SRV answers and their glue fit in one datagram. */
const EDNS_SIZE = 4096

type Side = 'ours' | 'dnsmasq'
type QType = (typeof TYPES)[number]

interface Measured {
  queries: number
  lost: number
  qps: number
  p50Ms: number
  p99Ms: number
  /** The server's user+system CPU over the cell per answered query: disturbed least by other load. */
  cpuUsPerQuery?: number
}

interface Cell {
  type: QType
  clients: number
  ours: Measured
  dnsmasq: Measured | undefined
}

const address = (i: number): string => `10.0.0.${i + 10}`
const nodeName = (i: number): string => `node-${i}`

function encodeQuery(id: number, type: QType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: QNAME, type: type as RecordType }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  })
}

/** One query, for readiness and verification; the decoded answer or undefined on timeout. */
async function queryOnce(port: number, type: QType, timeoutMs = 500): Promise<dnsPacket.DecodedPacket | undefined> {
  const socket = dgram.createSocket('udp4')
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs)
      socket.on('message', (m) => {
        clearTimeout(timer)
        try {
          resolve(dnsPacket.decode(m))
        } catch {
          resolve(undefined)
        }
      })
      socket.on('error', () => resolve(undefined))
      socket.send(encodeQuery(7, type), port, '127.0.0.1')
    })
  } finally {
    socket.close()
  }
}

/** Both servers must give the same 10 addresses and 10 SRV targets, or the comparison is void. */
async function verify(side: Side, port: number): Promise<void> {
  const a = await queryOnce(port, 'A', 2000)
  const srv = await queryOnce(port, 'SRV', 2000)
  const addrs = (a?.answers ?? []).filter((r) => r.type === 'A').length
  const srvs = (srv?.answers ?? []).filter((r) => r.type === 'SRV').length
  if (addrs !== INSTANCES || srvs !== INSTANCES) throw new Error(`${side}: expected ${INSTANCES} A and ${INSTANCES} SRV answers for ${QNAME}, got ${addrs} and ${srvs}`)
}

/**
 * Closed-loop load: `clients` UDP sockets, each with one query outstanding at a time, for
 * `seconds`. Latency is measured per query with the monotonic clock.
 */
async function runLoad(port: number, type: QType, clients: number, seconds: number): Promise<Measured> {
  const latencies: number[] = []
  let lost = 0
  const end = performance.now() + seconds * 1000
  const queries = Array.from({ length: 65536 }, (_, id) => id).filter((id) => id % 997 === 0).map((id) => encodeQuery(id, type))
  const client = async (n: number): Promise<void> => {
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    let seq = n
    try {
      while (performance.now() < end) {
        const q = queries[seq++ % queries.length]!
        const id = q.readUInt16BE(0)
        const t0 = performance.now()
        const ok = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            socket.off('message', onMessage)
            resolve(false)
          }, QUERY_TIMEOUT_MS)
          const onMessage = (m: Buffer): void => {
            if (m.length < 12 || m.readUInt16BE(0) !== id) return // a late answer to a lost query
            clearTimeout(timer)
            socket.off('message', onMessage)
            resolve(true)
          }
          socket.on('message', onMessage)
          socket.send(q, port, '127.0.0.1')
        })
        if (ok) latencies.push(performance.now() - t0)
        else lost++
      }
    } finally {
      socket.close()
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)))
  const elapsed = (performance.now() - start) / 1000
  latencies.sort((x, y) => x - y)
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN
  return { queries: latencies.length, lost, qps: latencies.length / elapsed, p50Ms: pct(0.5), p99Ms: pct(0.99) }
}

/** dnsperf at 64 outstanding queries: queries/s and average latency, as it reports them. */
function runDnsperf(dnsperf: string, port: number, type: QType, seconds: number, dir: string): { qps: number; avgMs: number; lostPct: number } | undefined {
  const file = join(dir, `queries-${type}.txt`)
  writeFileSync(file, `${QNAME} ${type}\n`)
  const r = spawnSync(dnsperf, ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '64', '-q', '64', '-e', '-b', '1024'], { encoding: 'utf8', timeout: (seconds + 30) * 1000 })
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`
  const qps = /Queries per second:\s+([\d.]+)/.exec(out)
  const avg = /Average Latency \(s\):\s+([\d.]+)/.exec(out)
  const lost = /Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(out)
  if (!qps || !avg) return undefined
  return { qps: Number(qps[1]), avgMs: Number(avg[1]) * 1000, lostPct: lost ? Number(lost[1]) : 0 }
}

/** Our agent in dev mode with the 10 instances registered; `udpWorkers` sets dns_config.udp_workers (default: the agent's own). */
async function startOurs(udpWorkers?: number): Promise<{ server: Server; port: number; dataDir: string }> {
  const httpPort = await freePort()
  const dnsPort = await freePort()
  const dataDir = tempDir('consul-bench-dns-')
  const extra: string[] = []
  if (udpWorkers !== undefined) {
    const file = join(dataDir, 'workers.json')
    writeFileSync(file, JSON.stringify({ dns_config: { udp_workers: udpWorkers } }))
    extra.push(`-config-file=${file}`)
  }
  const server = await startServer({
    name: udpWorkers === undefined ? 'our agent' : `our agent (udp_workers=${udpWorkers})`,
    cmd: process.execPath,
    args: [CONSUL_BIN, 'agent', '-dev', `-http-port=${httpPort}`, `-dns-port=${dnsPort}`, '-log-level=warn', ...extra],
    ready: async () => (await fetch(`http://127.0.0.1:${httpPort}/v1/status/leader`).then((r) => r.ok).catch(() => false)) && (await queryOnce(dnsPort, 'A')) !== undefined,
  })
  for (let i = 0; i < INSTANCES; i++) {
    const body = { Node: nodeName(i), Address: address(i), Service: { Service: 'web', Port: 8080 + i } }
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/catalog/register`, { method: 'PUT', body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`register ${nodeName(i)}: ${res.status} ${await res.text()}`)
  }
  return { server, port: dnsPort, dataDir }
}

/** dnsmasq in the foreground on loopback, with the same records from generated files; no system service. */
async function startDnsmasq(bin: string, dir: string): Promise<{ server: Server; port: number }> {
  const port = await freePort()
  const hosts: string[] = []
  const conf: string[] = []
  for (let i = 0; i < INSTANCES; i++) {
    hosts.push(`${address(i)} ${QNAME}`, `${address(i)} ${nodeName(i)}.node.dc1.consul`)
    conf.push(`srv-host=${QNAME},${nodeName(i)}.node.dc1.consul,${8080 + i},1,1`)
  }
  writeFileSync(join(dir, 'hosts'), `${hosts.join('\n')}\n`)
  writeFileSync(join(dir, 'srv.conf'), `${conf.join('\n')}\n`)
  const args = [
    '--keep-in-foreground',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${join(dir, 'hosts')}`,
    `--conf-file=${join(dir, 'srv.conf')}`,
    '--local=/consul/',
    '--pid-file=',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ]
  const server = await startServer({ name: 'dnsmasq', cmd: bin, args, ready: async () => (await queryOnce(port, 'A')) !== undefined })
  return { server, port }
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-')

function verdict(c: Cell): string {
  const lossy = (m: Measured | undefined): boolean => m !== undefined && m.lost > (m.queries + m.lost) * MAX_LOSS_RATE
  if (lossy(c.ours) || lossy(c.dnsmasq)) return 'INVALID (loss)'
  if (!c.dnsmasq) return 'no reference'
  return c.ours.qps / c.dnsmasq.qps >= TARGET_RATIO ? 'ok' : 'BELOW TARGET'
}

/** First and last column (names, verdicts) left-aligned. */
const table = (head: string[], rows: string[][]): string => textTable(head, rows, new Set([0, head.length - 1]))

type DnsperfResult = ReturnType<typeof runDnsperf>
interface DnsperfRow {
  type: QType
  ours: DnsperfResult
  dnsmasq: DnsperfResult
}

const perfRatio = (p: DnsperfRow): number | undefined => (p.ours && p.dnsmasq ? p.ours.qps / p.dnsmasq.qps : undefined)

function dnsperfTable(rows: readonly DnsperfRow[]): string {
  return table(
    ['type', 'q', 'ours q/s', 'ours avg ms', 'dnsmasq q/s', 'dnsmasq avg ms', 'ratio', 'target', 'result'],
    rows.map((p) => {
      const ratio = perfRatio(p)
      return [
        p.type,
        '64',
        fmt(p.ours?.qps ?? NaN),
        fmt(p.ours?.avgMs ?? NaN, 3),
        fmt(p.dnsmasq?.qps ?? NaN),
        fmt(p.dnsmasq?.avgMs ?? NaN, 3),
        ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
        `>= ${TARGET_RATIO}x`,
        ratio === undefined ? '-' : ratio >= TARGET_RATIO ? 'ok' : 'BELOW TARGET',
      ]
    }),
  )
}

function gitCommit(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

export async function runDnsBench(_args: readonly string[]): Promise<number> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10)
  if (!Number.isInteger(seconds) || seconds < 1) {
    process.stderr.write(`BENCH_SECONDS must be a whole number of seconds >= 1, got ${JSON.stringify(process.env.BENCH_SECONDS)}\n`)
    return 2
  }
  installSignalHandlers()
  const dnsmasqBin = which('dnsmasq') ?? (spawnSync('/usr/sbin/dnsmasq', ['--version']).status === 0 ? '/usr/sbin/dnsmasq' : undefined)
  const dnsperf = which('dnsperf')
  if (!dnsmasqBin) process.stdout.write(`NOTE: dnsmasq is not installed; measuring only our agent, no ratios. Install: ${INSTALL_HINT}\n`)
  if (!dnsperf) process.stdout.write(`NOTE: dnsperf is not installed; only the Node load generator runs. Install: ${INSTALL_HINT}\n`)
  const cores = cpus().length
  process.stdout.write(
    `DNS benchmark: ${QNAME} (${INSTANCES} instances) A and SRV over UDP with EDNS ${EDNS_SIZE}, ${CLIENTS.join('/')} concurrent clients, ${seconds}s per cell (BENCH_SECONDS).\n` +
      `Load generator: closed-loop Node UDP clients (dns-packet), one socket each${dnsperf ? `; then ${firstLine(dnsperf, ['-h'])?.startsWith('Usage') ? 'dnsperf' : dnsperf} at 64 outstanding queries` : ''}.\n` +
      `Machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown'}); the load generator and both servers share them.\n` +
      `Ours: node bin/consul.js agent -dev. Reference: ${dnsmasqBin ? `${firstLine(dnsmasqBin, ['--version']) ?? 'dnsmasq'}, static hosts and srv-host records` : 'none'}.\n`,
  )
  const busyBefore = await machineBusy(1000)
  if (busyBefore !== undefined && busyBefore > 0.2) process.stdout.write(`WARNING: the machine was ${(busyBefore * 100).toFixed(0)}% busy before the start: figures will be noisy.\n`)

  const scratch = tempDir('consul-bench-dnsmasq-')
  let oursDir: string | undefined
  try {
    const ours = await startOurs()
    oursDir = ours.dataDir
    const ports: Partial<Record<Side, number>> = { ours: ours.port }
    const pids: Partial<Record<Side, number>> = { ours: ours.server.proc.pid }
    if (dnsmasqBin) {
      const dm = await startDnsmasq(dnsmasqBin, scratch)
      ports.dnsmasq = dm.port
      pids.dnsmasq = dm.server.proc.pid
    }
    for (const [side, port] of Object.entries(ports) as Array<[Side, number]>) await verify(side, port)
    // Warm-up (not recorded): V8 optimises the hot path, and the answer cache fills.
    for (const port of Object.values(ports)) for (const type of TYPES) await runLoad(port, type, 64, Math.min(2, seconds))

    const cells: Cell[] = []
    for (const type of TYPES) {
      for (const clients of CLIENTS) {
        const results: Partial<Record<Side, Measured>> = {}
        // Alternate who goes first so drifting background load does not always hit one side.
        const sides = (Object.keys(ports) as Side[])[cells.length % 2 === 0 ? 'slice' : 'reverse']()
        for (const side of sides) {
          const cpu0 = cpuSeconds(pids[side])
          const m = await runLoad(ports[side]!, type, clients, seconds)
          const cpu1 = cpuSeconds(pids[side])
          if (cpu0 !== undefined && cpu1 !== undefined && m.queries > 0) m.cpuUsPerQuery = ((cpu1 - cpu0) * 1e6) / m.queries
          results[side] = m
          process.stdout.write(`  ${type.padEnd(3)} c=${String(clients).padEnd(3)} ${side.padEnd(7)}: ${fmt(m.qps).padStart(7)} q/s  p50 ${fmt(m.p50Ms, 3)} ms  p99 ${fmt(m.p99Ms, 3)} ms  cpu ${fmt(m.cpuUsPerQuery ?? NaN, 1)} us/query  lost ${m.lost}\n`)
        }
        cells.push({ type, clients, ours: results.ours!, dnsmasq: results.dnsmasq })
      }
    }
    const perf: DnsperfRow[] = []
    if (dnsperf) {
      for (const type of TYPES) {
        const row = { type, ours: runDnsperf(dnsperf, ports.ours!, type, seconds, scratch), dnsmasq: ports.dnsmasq ? runDnsperf(dnsperf, ports.dnsmasq, type, seconds, scratch) : undefined }
        perf.push(row)
        process.stdout.write(`  dnsperf ${type.padEnd(3)} q=64: ours ${fmt(row.ours?.qps ?? NaN)} q/s, dnsmasq ${fmt(row.dnsmasq?.qps ?? NaN)} q/s\n`)
      }
    }
    for (const [side, port] of Object.entries(ports) as Array<[Side, number]>) await verify(side, port)

    // The same agent with one UDP worker process (dns_config.udp_workers; off by default):
    // under dnsperf, which leaves a core partly free, the second receiver lifts the per-process ceiling.
    // The Node generator is not rerun: it needs a whole core of its own, and a worker competes with it.
    const workerPerf: DnsperfRow[] = []
    if (dnsperf) {
      await ours.server.stop()
      const withWorker = await startOurs(1)
      try {
        await verify('ours', withWorker.port)
        runDnsperf(dnsperf, withWorker.port, 'A', Math.min(2, seconds), scratch)
        for (const type of TYPES) {
          const row = { type, ours: runDnsperf(dnsperf, withWorker.port, type, seconds, scratch), dnsmasq: perf.find((p) => p.type === type)?.dnsmasq }
          workerPerf.push(row)
          process.stdout.write(`  dnsperf ${type.padEnd(3)} q=64, ours with 1 UDP worker: ${fmt(row.ours?.qps ?? NaN)} q/s\n`)
        }
      } finally {
        await withWorker.server.stop()
        removeTempDir(withWorker.dataDir)
      }
    }

    const rows = cells.map((c) => [
      c.type,
      String(c.clients),
      fmt(c.ours.qps),
      fmt(c.ours.p99Ms, 3),
      c.dnsmasq ? fmt(c.dnsmasq.qps) : '-',
      c.dnsmasq ? fmt(c.dnsmasq.p99Ms, 3) : '-',
      `${fmt(c.ours.cpuUsPerQuery ?? NaN, 1)}/${c.dnsmasq ? fmt(c.dnsmasq.cpuUsPerQuery ?? NaN, 1) : '-'}`,
      c.dnsmasq ? `${(c.ours.qps / c.dnsmasq.qps).toFixed(2)}x` : '-',
      `>= ${TARGET_RATIO}x`,
      verdict(c),
    ])
    process.stdout.write(`\nNode load generator (closed loop, exact p99):\n${table(['type', 'clients', 'ours q/s', 'ours p99 ms', 'dnsmasq q/s', 'dnsmasq p99 ms', 'cpu us/q ours/dnsmasq', 'ratio', 'target', 'result'], rows)}\n`)
    if (perf.length) process.stdout.write(`\ndnsperf (64 outstanding queries; it reports average latency, not p99):\n${dnsperfTable(perf)}\n`)
    if (workerPerf.length) process.stdout.write(`\ndnsperf against ours with dns_config.udp_workers=1 (a second process answering on the same socket; off by default):\n${dnsperfTable(workerPerf)}\n`)
    const loadAfter = loadavg()[0]!
    process.stdout.write(`\nShared machine: ${cores} cores for the load generator and both servers (load average ${loadAfter.toFixed(2)} at the end). A cell with over ${MAX_LOSS_RATE * 100}% lost queries is INVALID.\n`)

    const date = new Date().toISOString().slice(0, 10)
    const outDir = join(ROOT, 'bench', 'results')
    mkdirSync(outDir, { recursive: true })
    const file = join(outDir, `dns-${date}.json`)
    const results = {
      benchmark: 'dns',
      date: new Date().toISOString(),
      commit: gitCommit(),
      secondsPerCell: seconds,
      machine: { cores, cpu: cpus()[0]?.model, node: process.version, busyBeforeStart: busyBefore ?? null, loadAverageAfter: loadAfter },
      loadGenerator: { tool: 'node closed-loop UDP (bench/dns.ts)', alsoDnsperf: dnsperf ? 'dnsperf -c 64 -q 64' : null },
      reference: dnsmasqBin ? firstLine(dnsmasqBin, ['--version']) : null,
      workload: { name: QNAME, instances: INSTANCES, types: TYPES, ednsSize: EDNS_SIZE },
      target: `>= ${TARGET_RATIO}x dnsmasq q/s`,
      cells: cells.map((c) => ({ ...c, dnsmasq: c.dnsmasq ?? null, ratio: c.dnsmasq ? c.ours.qps / c.dnsmasq.qps : null, result: verdict(c) })),
      dnsperf: perf.map((p) => ({ ...p, ratio: perfRatio(p) ?? null })),
      dnsperfWithOneUdpWorker: workerPerf.map((p) => ({ ...p, ratio: perfRatio(p) ?? null })),
    }
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
    process.stdout.write(`results written to ${relative(process.cwd(), file) || file}\n`)
    return cells.some((c) => verdict(c) === 'INVALID (loss)') ? 1 : 0
  } finally {
    await cleanupAll()
    if (oursDir) removeTempDir(oursDir)
    removeTempDir(scratch)
  }
}
