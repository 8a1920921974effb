/**
 * Watch fan-out (issue 11 item 19): N blocking GETs (`?index=N&wait=60s`, one connection each, as
 * Consul clients hold them) on one key or spread over 100 keys; one write to every key; the time
 * from the write to the last answer, and the server's CPU over it. Beside our agent, a minimal
 * Node long-poll server (bench/lib/long-poll-server.ts) on the same paths, measured in the same
 * run by the same watcher processes. Target: our time at most 1.0x the minimal server's.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, cpuSeconds, freePort, installSignalHandlers, machineBusy, startServer, tempDir, type Server, noConnLimitFlag } from './lib/procs.js'
import type { FromClient, ToClient } from './lib/watch-client.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CLIENT = fileURLToPath(new URL('./lib/watch-client.js', import.meta.url))
const REFERENCE = fileURLToPath(new URL('./lib/long-poll-server.js', import.meta.url))
const WATCHERS = [1000, 10_000] as const
const KEYS = [1, 100] as const
const TARGET = 1.0
/** Watcher processes: one Node process reading 10,000 answers would time itself, not the server. */
const CLIENTS = Number(process.env.BENCH_WATCH_CLIENTS ?? 2)
const REPEATS = Number(process.env.BENCH_WATCH_REPEATS ?? 3)

interface Target {
  side: 'ours' | 'minimal'
  server: Server
  port: number
  waiting: () => Promise<number>
}

interface Run {
  /** From just before the write(s) to the last answer, ms. */
  ms: number
  /** Server CPU (user + system) from the write to the last answer, ms (10 ms resolution). */
  cpuMs: number | undefined
  firstMs: number
  bad: number
}

interface Cell {
  watchers: number
  keys: number
  ours: Run[]
  minimal: Run[]
}

const keyName = (k: number): string => `watch/key-${String(k).padStart(3, '0')}`
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const now = (): number => performance.timeOrigin + performance.now()

async function put(port: number, key: string, value: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/kv/${key}`, { method: 'PUT', body: value })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${text}`)
}

async function indexOf(port: number, key: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/kv/${key}`)
  await res.arrayBuffer()
  return Number(res.headers.get('x-consul-index') ?? 0)
}

function request(child: ChildProcess, msg: ToClient, want: FromClient['type']): Promise<FromClient> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromClient): void => {
      if (m.type !== want) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(m)
    }
    const onExit = (code: number | null): void => reject(new Error(`watch client exited (${code}) waiting for ${want}`))
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.send(msg)
  })
}

async function measure(t: Target, watchers: number, keys: number, round: number): Promise<Run> {
  const names = Array.from({ length: keys }, (_, k) => keyName(k))
  const value = `round-${round}-${t.side}-${watchers}-${keys}`
  for (const k of names) await put(t.port, k, `before-${value}`)
  const indexes = await Promise.all(names.map((k) => indexOf(t.port, k)))
  const paths = Array.from({ length: watchers }, (_, i) => `/v1/kv/${names[i % keys]}?index=${indexes[i % keys]}&wait=60s`)
  const clients = Array.from({ length: CLIENTS }, () => fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }))
  try {
    await Promise.all(clients.map((c, n) => request(c, { type: 'open', port: t.port, paths: paths.filter((_, i) => i % CLIENTS === n) }, 'opened')))
    // Every GET parked in the server, then a breath so that no connection set-up is still running.
    const deadline = Date.now() + 60_000
    while ((await t.waiting()) < watchers) {
      if (Date.now() > deadline) throw new Error(`${t.side}: only ${await t.waiting()} of ${watchers} watchers waiting after 60 s`)
      await new Promise((r) => setTimeout(r, 50))
    }
    await new Promise((r) => setTimeout(r, 300))
    const cpu0 = cpuSeconds(t.server.proc.pid)
    const t0 = now()
    const collected = clients.map((c) => request(c, { type: 'collect', expect: Buffer.from(value).toString('base64'), minIndex: Math.min(...indexes) }, 'collected'))
    await Promise.all(names.map((k) => put(t.port, k, value)))
    const results = (await Promise.all(collected)) as Array<Extract<FromClient, { type: 'collected' }>>
    const cpu1 = cpuSeconds(t.server.proc.pid)
    const last = Math.max(...results.map((r) => r.lastMs))
    const first = Math.min(...results.map((r) => r.firstMs))
    const bad = results.reduce((n, r) => n + r.bad, 0)
    if (bad > 0) process.stdout.write(`  WARNING ${t.side}: ${bad} watchers got a wrong answer, e.g. ${results[0]!.sample}\n`)
    return { ms: last - t0, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) * 1000, firstMs: first - t0, bad }
  } finally {
    for (const c of clients) if (c.connected) c.send({ type: 'close' } satisfies ToClient)
    await Promise.all(clients.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
  }
}

async function startOurs(): Promise<Target> {
  const dataDir = tempDir('bench-watch-agent-')
  const port = await freePort()
  const args = [join(ROOT, 'bin', 'consul.js'), 'agent', '-server', '-bootstrap-expect=1', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', `-data-dir=${dataDir}`, '-node=bench', '-bind=127.0.0.1', `-http-port=${port}`, '-dns-port=-1', '-log-level=warn', noConnLimitFlag(dataDir)]
  const ready = async (): Promise<boolean> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/status/leader`, { signal: AbortSignal.timeout(1000) })
      return res.status === 200 && (await res.text()).length > 2
    } catch {
      return false
    }
  }
  const server = await startServer({ name: 'consul agent', cmd: process.execPath, args, ready })
  const waiting = async (): Promise<number> => {
    const self = (await (await fetch(`http://127.0.0.1:${port}/v1/agent/self`)).json()) as { Stats: { http: { blocking_queries: string } } }
    return Number(self.Stats.http.blocking_queries)
  }
  return { side: 'ours', server, port, waiting }
}

async function startMinimal(): Promise<Target> {
  const port = await freePort()
  const server = await startServer({ name: 'minimal long-poll server', cmd: process.execPath, args: [REFERENCE, String(port)], ready: (out) => out.includes('listening') })
  const waiting = async (): Promise<number> => Number(await (await fetch(`http://127.0.0.1:${port}/waiting`)).text())
  return { side: 'minimal', server, port, waiting }
}

const fmt = (n: number): string => (n < 10 ? n.toFixed(1) : n.toFixed(0))

function table(cells: readonly Cell[]): string {
  const head = ['watchers', 'keys', 'ours ms', 'minimal ms', 'ratio', 'ours cpu ms', 'minimal cpu ms', 'target', 'result']
  const rows = cells.map((c) => {
    const o = median(c.ours.map((r) => r.ms))
    const m = median(c.minimal.map((r) => r.ms))
    const cpu = (runs: Run[]): string => (runs.every((r) => r.cpuMs !== undefined) ? fmt(median(runs.map((r) => r.cpuMs!))) : '-')
    const bad = c.ours.some((r) => r.bad > 0) || c.minimal.some((r) => r.bad > 0)
    return [c.watchers.toLocaleString('en-US'), String(c.keys), fmt(o), fmt(m), `${(o / m).toFixed(2)}x`, cpu(c.ours), cpu(c.minimal), `<= ${TARGET.toFixed(1)}x`, bad ? 'INVALID (wrong answers)' : o / m <= TARGET ? 'PASS' : 'FAIL']
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const left = new Set([7, 8])
  const line = (r: string[]): string => r.map((v, i) => (left.has(i) ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export async function runWatchBench(_args: readonly string[]): Promise<number> {
  installSignalHandlers()
  const cores = cpus().length
  process.stdout.write(
    `Watch fan-out: ${WATCHERS.join(' and ')} blocking GETs (?index=N&wait=60s, one connection each) on 1 key and on 100 keys; one write per key;\n` +
      `time from the write to the last answer and the server's CPU for it, median of ${REPEATS} (BENCH_WATCH_REPEATS), ${CLIENTS} watcher processes (BENCH_WATCH_CLIENTS).\n` +
      `Ours: node bin/consul.js agent -server -bootstrap-expect=1 (the write goes through raft and fsync). Minimal: bench/lib/long-poll-server.ts (node:http, no durability, one cached Buffer body per key).\n`,
  )
  const busyBefore = await machineBusy(1000)
  if (busyBefore !== undefined && busyBefore > 0.2) process.stdout.write(`WARNING: the machine was ${(busyBefore * 100).toFixed(0)}% busy in the second before the benchmark: times will be noisy.\n`)
  const loadBefore = loadavg()[0]!
  try {
    const targets = [await startOurs(), await startMinimal()]
    const cells: Cell[] = []
    let round = 0
    for (const keys of KEYS) {
      for (const watchers of WATCHERS) {
        const cell: Cell = { watchers, keys, ours: [], minimal: [] }
        for (let rep = 0; rep < REPEATS; rep++) {
          // Alternate who goes first, so drifting background load does not always land on one side.
          const order = (rep + cells.length) % 2 === 0 ? targets : [...targets].reverse()
          for (const t of order) {
            const r = await measure(t, watchers, keys, round++)
            cell[t.side].push(r)
            process.stdout.write(`  ${String(watchers).padStart(6)} watchers ${String(keys).padStart(3)} keys  ${t.side.padEnd(7)}: last answer ${fmt(r.ms)} ms (first ${fmt(r.firstMs)} ms)  cpu ${r.cpuMs === undefined ? '-' : fmt(r.cpuMs)} ms\n`)
          }
        }
        cells.push(cell)
      }
    }
    process.stdout.write(`\n${table(cells)}\n\n`)
    const loadAfter = loadavg()[0]!
    process.stdout.write(`ratio = ours / minimal (median times). cpu = the server process's user+system CPU from the write to the last answer. Machine: ${cores} cores shared by the server, the watcher processes and this driver.\n`)

    const date = new Date().toISOString().slice(0, 10)
    const outDir = join(ROOT, 'bench', 'results')
    mkdirSync(outDir, { recursive: true })
    const file = join(outDir, `watch-${date}.json`)
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          benchmark: 'watch',
          date: new Date().toISOString(),
          commit: commit.status === 0 ? commit.stdout.trim() : undefined,
          machine: { cores, cpu: cpus()[0]?.model, node: process.version, busyBeforeStart: busyBefore ?? null, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
          watcherProcesses: CLIENTS,
          repeats: REPEATS,
          workload: 'GET /v1/kv/<key>?index=<current>&wait=60s, one TCP connection each, spread evenly over the keys; then PUT /v1/kv/<key> for every key at once',
          reference: 'bench/lib/long-poll-server.ts',
          target: `ours <= ${TARGET}x minimal (median time from the write to the last answer)`,
          cells: cells.map((c) => {
            const o = median(c.ours.map((r) => r.ms))
            const m = median(c.minimal.map((r) => r.ms))
            return { watchers: c.watchers, keys: c.keys, oursMs: o, minimalMs: m, ratio: o / m, result: o / m <= TARGET ? 'PASS' : 'FAIL', ours: c.ours, minimal: c.minimal }
          }),
        },
        null,
        2,
      )}\n`,
    )
    process.stdout.write(`results written to ${relative(process.cwd(), file) || file}\n`)
    return cells.some((c) => c.ours.some((r) => r.bad > 0) || c.minimal.some((r) => r.bad > 0)) ? 1 : 0
  } finally {
    await cleanupAll()
  }
}
