/**
 * `npm run bench -- ctemplate` (issue 6): one consul-template process with 100 templates watching
 * 100 services. Measures the delay from a catalog change (a check flips) to the rewritten file
 * (median and p99), and, through a counting proxy between consul-template and the agent, the
 * requests per minute when nothing changes and the most blocking queries open at once for one
 * dependency. Targets: p99 under 200 ms; at most one open blocking query per distinct dependency.
 */
import http from 'node:http'
import { watch, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, freePort, installSignalHandlers, machineBusy, noConnLimitFlag, startServer, tempDir } from './lib/procs.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SERVICES = 100
const CHANGES = 200
/** A change not seen within this long counts as lost (and fails the run). */
const CHANGE_TIMEOUT_MS = 10_000
/** The idle window covers one 60 s blocking wait plus Consul's up-to-wait/16 jitter. */
const IDLE_WINDOW_MIN_S = 70

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function put(base: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(base + path, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) })
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`)
}

/** A pass-through HTTP proxy that counts requests and tracks open blocking queries per dependency. */
function countingProxy(target: number): { server: http.Server; requests: () => number; maxOpenPerDep: () => number } {
  let requests = 0
  let maxOpen = 0
  const open = new Map<string, number>()
  const server = http.createServer((req, res) => {
    requests++
    const url = new URL(req.url ?? '/', 'http://x')
    const blocking = url.searchParams.has('index')
    url.searchParams.delete('index')
    url.searchParams.delete('wait')
    const dep = url.pathname + '?' + url.searchParams.toString()
    if (blocking) {
      const n = (open.get(dep) ?? 0) + 1
      open.set(dep, n)
      maxOpen = Math.max(maxOpen, n)
    }
    const done = (): void => {
      if (blocking) open.set(dep, (open.get(dep) ?? 1) - 1)
    }
    const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
      r.on('end', done)
    })
    up.on('error', () => {
      done()
      res.destroy()
    })
    req.pipe(up)
    res.on('close', () => up.destroy())
  })
  return { server, requests: () => requests, maxOpenPerDep: () => maxOpen }
}

export async function runCtemplateBench(_args: readonly string[]): Promise<number> {
  installSignalHandlers()
  const busy = await machineBusy(500)
  if (busy !== undefined && busy > 0.5) process.stdout.write(`note: the machine was ${(busy * 100).toFixed(0)}% busy before the run\n`)
  const dir = tempDir('bench-ctemplate-')
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  await startServer({
    name: 'agent',
    cmd: process.execPath,
    args: [join(ROOT, 'bin', 'consul.js'), 'agent', '-dev', `-http-port=${port}`, '-dns-port=-1', '-log-level=warn', noConnLimitFlag(dir)],
    ready: async () => {
      try {
        return (await fetch(`${base}/v1/status/leader`)).ok
      } catch {
        return false
      }
    },
  })
  const proxy = countingProxy(port)
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r))
  const proxyPort = (proxy.server.address() as { port: number }).port
  const rows: Array<[string, string, string]> = []
  try {
    for (let i = 0; i < SERVICES; i++) {
      await put(base, '/v1/agent/service/register', { Name: `svc-${i}`, ID: `svc-${i}`, Port: 10_000 + i, Check: { CheckID: `svc-${i}-ttl`, TTL: '10m', Status: 'passing' } })
    }
    const outDir = join(dir, 'out')
    mkdirSync(outDir)
    const templates = Array.from({ length: SERVICES }, (_, i) => ({
      contents: `{{ range service "svc-${i}|any" }}{{ .ID }} {{ .Address }}:{{ .Port }} {{ .Status }}\n{{ end }}`,
      destination: join(outDir, `svc-${i}.txt`),
    }))
    const config = join(dir, 'ct.json')
    writeFileSync(config, JSON.stringify({ consul: { address: `127.0.0.1:${proxyPort}` }, template: templates, log_level: 'err' }))
    const file = (i: number): string => {
      try {
        return readFileSync(join(outDir, `svc-${i}.txt`), 'utf8')
      } catch {
        return ''
      }
    }
    const ct = await startServer({
      name: 'consul-template',
      cmd: process.execPath,
      args: [join(ROOT, 'bin', 'consul-template.js'), '-config', config],
      ready: () => Array.from({ length: SERVICES }, (_, i) => file(i)).every((t) => t.endsWith('passing\n')),
      timeoutMs: 60_000,
    })

    // 1. Change → rewritten file. inotify tells us when a rename lands in the folder.
    const waiters = new Map<number, { want: string; resolve: (t: number) => void }>()
    const watcher = watch(outDir, (_ev, name) => {
      const m = name ? /^svc-(\d+)\.txt$/.exec(name) : null
      if (!m) return
      const w = waiters.get(Number(m[1]))
      if (w && file(Number(m[1])).includes(w.want)) {
        waiters.delete(Number(m[1]))
        w.resolve(performance.now())
      }
    })
    const delays: number[] = []
    try {
      for (let n = 0; n < CHANGES; n++) {
        const i = n % SERVICES
        const want = Math.floor(n / SERVICES) % 2 === 0 ? 'critical' : 'passing'
        const seen = new Promise<number>((resolve, reject) => {
          waiters.set(i, { want, resolve })
          setTimeout(() => reject(new Error(`svc-${i} did not become ${want} within ${CHANGE_TIMEOUT_MS} ms`)), CHANGE_TIMEOUT_MS).unref()
        })
        const sent = performance.now()
        await put(base, `/v1/agent/check/${want === 'critical' ? 'fail' : 'pass'}/svc-${i}-ttl`)
        delays.push((await seen) - sent)
        await sleep(5)
      }
    } finally {
      watcher.close()
    }
    delays.sort((a, b) => a - b)
    const p50 = percentile(delays, 50)
    const p99 = percentile(delays, 99)
    rows.push([`check change → rewritten file (${CHANGES} changes, ${SERVICES} templates)`, `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`, p99 < 200 ? 'PASS (p99 < 200 ms)' : 'FAIL (p99 >= 200 ms)'])

    // 2. Idle: requests per minute with nothing changing (each view re-asks when its 60 s wait ends).
    // At least one full 60 s blocking wait (plus the agent's jitter), or the window can see none.
    const seconds = Math.max(IDLE_WINDOW_MIN_S, Number(process.env.BENCH_SECONDS ?? 10) * 3)
    await sleep(1000)
    const r0 = proxy.requests()
    await sleep(seconds * 1000)
    const perMin = ((proxy.requests() - r0) / seconds) * 60
    rows.push([`HTTP requests per minute while idle (${seconds}s window)`, `${perMin.toFixed(0)} (one per view per 60 s wait ≈ ${SERVICES})`, '-'])
    const maxOpen = proxy.maxOpenPerDep()
    rows.push(['most blocking queries open at once for one dependency', String(maxOpen), maxOpen <= 1 ? 'PASS (<= 1)' : 'FAIL (> 1)'])
    await ct.stop()

    const width = Math.max(...rows.map((r) => r[0].length))
    process.stdout.write('\nconsul-template benchmark (our agent and our consul-template; no reference binary on this machine)\n')
    for (const [what, value, verdict] of rows) process.stdout.write(`${what.padEnd(width)}  ${value.padEnd(40)}  ${verdict}\n`)
    const resultsDir = join(ROOT, 'bench', 'results')
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(
      join(resultsDir, `ctemplate-${new Date().toISOString().slice(0, 10)}.json`),
      JSON.stringify({ date: new Date().toISOString(), templates: SERVICES, changes: CHANGES, p50Ms: p50, p99Ms: p99, idleRequestsPerMinute: perMin, maxOpenBlockingPerDependency: maxOpen, machineBusyBefore: busy }, null, 2) + '\n',
    )
    return rows.some((r) => r[2].startsWith('FAIL')) ? 1 : 0
  } finally {
    proxy.server.close()
    proxy.server.closeAllConnections()
    await cleanupAll()
  }
}
