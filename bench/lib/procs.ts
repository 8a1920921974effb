/**
 * Process and temp-dir bookkeeping shared by the benchmarks. Everything a benchmark starts is
 * registered here so that a crash, an exception or ctrl-c still stops the servers and removes
 * their data dirs: a leftover etcd or agent would skew the next run's numbers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

export interface Server {
  name: string
  proc: ChildProcess
  /** Everything the process wrote to stdout and stderr so far (for error messages). */
  output: () => string
  stop: () => Promise<void>
}

const children = new Set<ChildProcess>()
const dirs = new Set<string>()

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.add(dir)
  return dir
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** Last resort on exit: nothing async runs here, so SIGKILL (no waiting) and remove dirs. */
function killAllNow(): void {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  children.clear()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs.clear()
}

let cleanups: Array<() => Promise<void>> = []

/** Registers extra cleanup work (e.g. killing a running load generator). */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn)
}

/** Runs every registered async cleanup (newest first), then the synchronous last resort. */
export async function cleanupAll(): Promise<void> {
  const list = cleanups.reverse()
  cleanups = []
  for (const c of list) await c().catch(() => undefined)
  killAllNow()
}

let handlersInstalled = false
/** ctrl-c and SIGTERM stop the servers politely before exiting; 'exit' catches the rest. */
export function installSignalHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', killAllNow)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping servers and removing temp dirs...\n`)
      void cleanupAll().finally(() => process.exit(130))
    })
  }
}

/** A free TCP port on loopback (the OS picks it; tiny race until the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const full = join(dir, cmd)
    try {
      accessSync(full, constants.X_OK)
      return full
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}

/** First line of `cmd args` (for version strings in the results), or undefined. */
export function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 })
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim()
  return text ? text.split('\n')[0] : undefined
}

export interface StartOptions {
  name: string
  cmd: string
  args: string[]
  /** Resolves true once the server is ready (polled every 50 ms until the timeout). */
  ready: (output: string) => boolean | Promise<boolean>
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/** Starts a server process, registers it for cleanup, and waits until `ready` says so. */
export async function startServer(opts: StartOptions): Promise<Server> {
  const proc = spawn(opts.cmd, opts.args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(proc)
  let out = ''
  // Keep only the tail: a server logging under load must not grow our heap for minutes.
  const append = (d: Buffer): void => {
    out += d.toString()
    if (out.length > 200_000) out = out.slice(-100_000)
  }
  proc.stdout!.on('data', append)
  proc.stderr!.on('data', append)
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.once('error', (err) => (out += `\nspawn error: ${err.message}\n`))

  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      // A server that ignores SIGTERM for a few seconds gets SIGKILL: the benchmark must end.
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    children.delete(proc)
  }
  cleanups.push(stop)

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${opts.name} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${out.slice(-4000)}`)
    }
    if (await opts.ready(out)) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${opts.name} was not ready after ${opts.timeoutMs ?? 30_000} ms:\n${out.slice(-4000)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { name: opts.name, proc, output: () => out, stop }
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc; undefined
 * off Linux. CPU per request is the figure other load on a shared machine disturbs least.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name (which may itself contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after the name; USER_HZ is 100 on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: idle and iowait are the not-busy part.
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
    return { busy: total - v[3]! - v[4]!, total }
  } catch {
    return undefined
  }
}

/**
 * Fraction of all cores busy over the next `ms` (0..1), or undefined off Linux. Unlike the load
 * average it does not lag: the build that `npm run bench` runs just before does not show up.
 */
export async function machineBusy(ms: number): Promise<number | undefined> {
  const a = cpuTimes()
  await new Promise((r) => setTimeout(r, ms))
  const b = cpuTimes()
  if (!a || !b || b.total === a.total) return undefined
  return (b.busy - a.busy) / (b.total - a.total)
}

/** Kernel TCP counters that show connections waiting or dropped at accept, and retransmits. */
export interface TcpCounters {
  listenOverflows: number
  listenDrops: number
  synRetrans: number
  retransSegs: number
}

/** Machine-wide (network namespace) TCP counters from /proc/net; undefined off Linux. */
export function tcpCounters(): TcpCounters | undefined {
  try {
    const table = (file: string, prefix: string): Map<string, number> => {
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith(`${prefix}:`))
      const names = lines[0]!.split(/\s+/).slice(1)
      const values = lines[1]!.split(/\s+/).slice(1).map(Number)
      return new Map(names.map((n, i) => [n, values[i]!]))
    }
    const ext = table('/proc/net/netstat', 'TcpExt')
    const tcp = table('/proc/net/snmp', 'Tcp')
    return {
      listenOverflows: ext.get('ListenOverflows') ?? 0,
      listenDrops: ext.get('ListenDrops') ?? 0,
      synRetrans: ext.get('TCPSynRetrans') ?? 0,
      retransSegs: tcp.get('RetransSegs') ?? 0,
    }
  } catch {
    return undefined
  }
}

export function tcpCountersDelta(a: TcpCounters | undefined, b: TcpCounters | undefined): TcpCounters | undefined {
  if (!a || !b) return undefined
  return {
    listenOverflows: b.listenOverflows - a.listenOverflows,
    listenDrops: b.listenDrops - a.listenDrops,
    synRetrans: b.synRetrans - a.synRetrans,
    retransSegs: b.retransSegs - a.retransSegs,
  }
}

/**
 * A -config-file flag lifting limits.http_max_conns_per_client (Consul's 200 by default): a
 * benchmark's load generator holds more connections from one address than any one client would.
 */
export function noConnLimitFlag(dir: string): string {
  const file = join(dir, 'no-conn-limit.json')
  writeFileSync(file, JSON.stringify({ limits: { http_max_conns_per_client: 0 } }))
  return `-config-file=${file}`
}
