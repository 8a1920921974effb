/**
 * `npm run bench -- telemetry` (issue 17): what metrics cost. Two -dev agents of ours (in-memory
 * raft: the figures are the request path's), one with telemetry off (`filter_default = false`:
 * every series a no-op) and one with it on as an operator runs it (Prometheus format enabled, and
 * scraped once a second during the load). KV GET and PUT at 64 clients (wrk), interleaved rounds
 * judged on CPU per request (lib/ab.ts); then, with 10,000 services registered, the metrics
 * endpoint's answer time in both formats. Targets: on at most 3% slower; the endpoint under 50 ms.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, firstLine, freePort, installSignalHandlers, startServer, tempDir, which } from './lib/procs.js'
import type { LuaRequest } from './lib/wrk.js'
import { compare, type AbSide } from './lib/ab.js'
import { textTable } from './lib/table.js'
import { median } from './cluster/failover.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(ROOT, 'bin', 'consul.js')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = 64
const KEYS = 1000
const SERVICES = 10_000
const TARGET_SLOWDOWN = 0.03
const TARGET_ENDPOINT_MS = 50
/** The registry and its collectors: the profile's samples through them are what telemetry costs directly. */
const METRICS_CODE = /\/src\/(lib\/metrics|agent\/telemetry|raft\/metrics)\.js/

type Side = AbSide & { name: 'off' | 'on' }

/** `aa`: the "on" agent is configured as the "off" one and not scraped (an A/A run: what the harness alone shows). */
async function startAgent(name: Side['name'], dir: string, aa = false): Promise<Side> {
  const port = await freePort()
  const file = join(dir, `telemetry-${name}.json`)
  const on = name === 'on' && !aa
  writeFileSync(file, JSON.stringify({ telemetry: on ? { prometheus_retention_time: '1m' } : { filter_default: false } }))
  const server = await startServer({ name: `agent (telemetry ${name})`, cmd: process.execPath, args: [BIN, 'agent', '-dev', `-http-port=${port}`, '-dns-port=-1', `-config-file=${file}`], ready: (out) => /agent: started/.test(out) })
  const side: Side = { name, server, url: `http://127.0.0.1:${port}` }
  // The "on" agent is scraped as Prometheus would, once a second, while it serves the load.
  if (on) {
    side.during = () => {
      const t = setInterval(() => void call(side, 'GET', '/v1/agent/metrics?format=prometheus').catch(() => {}), 1000)
      return () => clearInterval(t)
    }
  }
  return side
}

async function call(side: Side, method: string, path: string, body?: string): Promise<string> {
  const res = await fetch(side.url + path, { method, body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${method} ${path} (telemetry ${side.name}): ${res.status} ${text}`)
  return text
}

/** Median ms of `rounds` answers of the metrics endpoint. */
async function endpoint(side: Side, query: string, rounds: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    await call(side, 'GET', `/v1/agent/metrics${query}`)
    times.push(performance.now() - t0)
  }
  return median(times)!
}

export async function runTelemetryBench(args: readonly string[]): Promise<number> {
  installSignalHandlers()
  if (!which('wrk')) {
    process.stderr.write('bench telemetry: needs wrk (apt-get install -y wrk)\n')
    return 2
  }
  const quick = args.includes('--quick')
  const dir = tempDir('consul-bench-telemetry-')
  const scratch = join(dir, 'scratch')
  mkdirSync(scratch, { recursive: true })
  const load0 = loadavg()[0]
  try {
    const aa = args.includes('--aa')
    const off = await startAgent('off', dir)
    const on = await startAgent('on', dir, aa)
    if (aa) process.stdout.write('A/A run: both agents have telemetry off; a ratio away from 1 is the harness\'s own bias.\n')
    process.stdout.write(`Telemetry benchmark: two -dev agents of ours, telemetry off (filter_default = false) and on (Prometheus enabled, scraped every second); wrk ${firstLine('wrk', ['--version']) ?? ''}, ${CONNECTIONS} connections, ${SECONDS}s per cell.\n`)
    for (const side of [off, on]) {
      for (let i = 0; i < KEYS; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => call(side, 'PUT', `/v1/kv/bench/k${i + j}`, 'x'.repeat(100))))
    }
    const rows: string[][] = []
    const cells: Array<Record<string, unknown>> = []
    let ok = true
    const loadRounds = quick ? 2 : 6
    for (const method of ['GET', 'PUT'] as const) {
      const requests = (): LuaRequest[] => Array.from({ length: KEYS }, (_, i) => ({ method, path: `/v1/kv/bench/k${i}`, ...(method === 'PUT' ? { body: 'y'.repeat(100) } : {}) }))
      const r = await compare(off, on, { requests, tag: `telemetry-${method}`, scratch, connections: CONNECTIONS, seconds: SECONDS, rounds: loadRounds, profile: { code: METRICS_CODE } })
      const share = r.featureShare ?? 0
      const [a, b] = r.rps
      const [ca, cb] = r.cpuUs
      const pass = r.cpuRatio >= 1 - TARGET_SLOWDOWN
      ok &&= pass
      cells.push({ metric: `KV ${method} c=${CONNECTIONS}`, off: a, on: b, unit: 'req/s', cpuUsPerRequestOff: ca, cpuUsPerRequestOn: cb, ratio: r.cpuRatio, judgedOn: 'CPU per request', metricsCodeShare: share, result: pass ? 'PASS' : 'FAIL' })
      rows.push([`KV ${method} c=${CONNECTIONS}`, `${Math.round(a).toLocaleString()} req/s, ${ca.toFixed(1)} us`, `${Math.round(b).toLocaleString()} req/s, ${cb.toFixed(1)} us`, `${r.rpsRatio.toFixed(3)}x / ${r.cpuRatio.toFixed(3)}x`, `${(share * 100).toFixed(1)}%`, `CPU >= ${(1 - TARGET_SLOWDOWN).toFixed(2)}x`, pass ? 'PASS' : 'FAIL'])
    }
    if (aa) {
      // The endpoint cells need telemetry on: an A/A run stops at the load cells.
      process.stdout.write(`\n${textTable(['cell', 'agent a (best req/s, CPU/req)', 'agent b (same config)', 'b vs a (req/s / CPU)', 'CPU in metrics code', 'target', 'result'], rows, new Set([0]))}\n`)
      return 0
    }
    // 10,000 services on 100 nodes in the catalog: the state gauges count them at every rendering.
    for (let i = 0; i < SERVICES; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => call(on, 'PUT', '/v1/catalog/register', JSON.stringify({ Node: `n${(i + j) % 100}`, Address: '10.0.0.1', Service: { ID: `s${i + j}`, Service: `svc-${(i + j) % 500}`, Port: 80 } }))))
    }
    const rounds = quick ? 5 : 21
    for (const [label, query] of [['JSON', ''], ['Prometheus', '?format=prometheus']] as const) {
      await endpoint(on, query, 3)
      const ms = await endpoint(on, query, rounds)
      const pass = ms < TARGET_ENDPOINT_MS
      ok &&= pass
      cells.push({ metric: `GET /v1/agent/metrics ${label}, ${SERVICES.toLocaleString()} services`, on: ms, unit: 'ms', result: pass ? 'PASS' : 'FAIL' })
      rows.push([`GET /v1/agent/metrics (${label}), ${SERVICES.toLocaleString()} services, median of ${rounds}`, '', `${ms.toFixed(1)} ms`, '', '', `< ${TARGET_ENDPOINT_MS} ms`, pass ? 'PASS' : 'FAIL'])
    }
    process.stdout.write(`\n${textTable(['cell', 'telemetry off (best req/s, CPU/req)', 'telemetry on', 'on vs off (req/s / CPU)', 'CPU in metrics code', 'target', 'result'], rows, new Set([0]))}\n`)
    const results = join(ROOT, 'bench', 'results')
    mkdirSync(results, { recursive: true })
    const out = join(results, `telemetry-${new Date().toISOString().slice(0, 10)}${aa ? '-aa' : ''}.json`)
    writeFileSync(out, `${JSON.stringify({ benchmark: 'telemetry', date: new Date().toISOString(), quick, secondsPerCell: SECONDS, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageBefore: load0, loadAverageAfter: loadavg()[0] }, cells }, null, 2)}\n`)
    process.stdout.write(`results: ${out}\n`)
    return ok ? 0 : 1
  } finally {
    await cleanupAll()
  }
}
