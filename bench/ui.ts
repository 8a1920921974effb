/**
 * `npm run bench -- ui [--quick]` (issue 18): the web UI in headless Chromium against a server
 * holding 100, 1,000 and 10,000 services (10,000 on 5,000 nodes). Per size: navigation to the
 * services page's first rows, a search answered (typed, filtered by the agent's ?filter=, rows
 * shown), a registration seen on the open page; the nodes page's first rows; requests per minute
 * from an idle page (the agent's own count); the bundle's gzipped size. Targets, from the issue:
 * first rows under 1 s and filtering under 200 ms at 10,000 services, one request per view per
 * blocking wait idle, under 150 KiB gzipped.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanupAll, freePort, installSignalHandlers, startServer, tempDir } from './lib/procs.js'
import { textTable } from './lib/table.js'
import { launch, noBrowser } from '../test/helpers/browser.js'
import { apiRequestCount } from '../test/helpers/prometheus.js'
import { median as medianOf } from './cluster/failover.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SIZES = [100, 1000, 10_000]
const NODES_AT_MAX = 5000

const median = (xs: readonly number[]): number => medianOf(xs)!

async function registerServices(base: string, from: number, to: number, nodes: number): Promise<void> {
  let next = from
  const worker = async (): Promise<void> => {
    while (next < to) {
      const i = next++
      const node = `node-${i % nodes}`
      const res = await fetch(`${base}/v1/catalog/register`, {
        method: 'PUT',
        body: JSON.stringify({ Node: node, Address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, Service: { Service: `svc-${String(i).padStart(5, '0')}`, Port: 8000 + (i % 1000), Tags: ['v1', `shard-${i % 10}`] }, Check: { CheckID: `svc-${i}-check`, Name: 'check', Status: i % 50 === 0 ? 'critical' : 'passing', ServiceID: `svc-${String(i).padStart(5, '0')}` } }),
      })
      if (!res.ok) throw new Error(`register ${i}: ${res.status} ${await res.text()}`)
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
}

function bundleGzipBytes(): number {
  const dir = join(ROOT, 'dist', 'ui', 'assets')
  return readdirSync(dir).filter((f) => f.endsWith('.gz')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
}

export async function runUiBench(args: readonly string[]): Promise<number> {
  const why = noBrowser()
  if (why) {
    process.stdout.write(`ui bench: ${why}\n`)
    return 1
  }
  installSignalHandlers()
  const quick = args.includes('--quick')
  const rounds = quick ? 3 : 7
  // The window: a page left open for 10 minutes (two of the agent's 5-minute waits, and their jitter).
  const idleS = quick ? 20 : 610
  const dir = tempDir('bench-ui-')
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const config = join(dir, 'agent.json')
  writeFileSync(config, JSON.stringify({ telemetry: { prometheus_retention_time: '1h' }, limits: { http_max_conns_per_client: 0 } }))
  await startServer({
    name: 'agent',
    cmd: process.execPath,
    // A server as operators run one (a dev agent also pretty-prints every answer, as Consul's does).
    args: [join(ROOT, 'bin', 'consul.js'), 'agent', '-server', '-bootstrap-expect=1', '-ui', `-data-dir=${join(dir, 'data')}`, '-bind=127.0.0.1', '-serf-lan-port=0', '-server-port=0', '-serf-wan-port=0', `-http-port=${port}`, '-dns-port=-1', '-log-level=warn', `-config-file=${config}`],
    ready: async () => (await fetch(`${base}/v1/status/leader`).catch(() => undefined))?.ok === true,
  })
  const browser = await launch()
  const rows: string[][] = []
  const verdicts: string[] = []
  let failed = false
  const target = (what: string, ok: boolean, detail: string): void => {
    verdicts.push(`${ok ? 'PASS' : 'FAIL'} ${what}: ${detail}`)
    if (!ok) failed = true
  }
  try {
    let registered = 0
    for (const size of SIZES) {
      await registerServices(base, registered, size, size === 10_000 ? NODES_AT_MAX : size)
      registered = size
      const firstRows: number[] = []
      const filters: number[] = []
      const lives: number[] = []
      const nodesFirst: number[] = []
      const frames: number[] = []
      for (let r = 0; r < rounds; r++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
        const page = await context.newPage()
        let t = performance.now()
        await page.goto(`${base}/ui/dc1/services`)
        await page.waitForSelector('[data-service="svc-00001"]')
        firstRows.push(performance.now() - t)
        // A search that matches ten services, typed as a user types it.
        const want = `svc-000${r}`
        t = performance.now()
        await page.fill('input[type="search"]', want)
        // Run in the page (a function: the UI's CSP refuses eval); the bench's own types have no DOM.
        await page.waitForFunction((w: string) => {
          type Doc = { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }> }
          const names = Array.from((globalThis as unknown as { document: Doc }).document.querySelectorAll('[data-service]'), (e) => e.getAttribute('data-service') ?? '')
          return names.length > 0 && names.every((n) => n.includes(w))
        }, want)
        filters.push(performance.now() - t)
        await page.fill('input[type="search"]', '')
        await page.waitForSelector('[data-service="svc-00001"]')
        // Scrolling: 60 jumps of 1,500 px down the list, a frame each; the mean frame time (60 Hz: 16.7 ms).
        frames.push(await page.evaluate(async () => {
          type El = { scrollTop: number }
          const g = globalThis as unknown as { document: { querySelector(s: string): El | null }; requestAnimationFrame(f: () => void): void }
          const el = g.document.querySelector('.vlist')!
          const t0 = performance.now()
          for (let i = 0; i < 60; i++) {
            el.scrollTop += 1500
            await new Promise<void>((r) => g.requestAnimationFrame(() => r()))
          }
          const mean = (performance.now() - t0) / 60
          el.scrollTop = 0
          await new Promise<void>((r) => g.requestAnimationFrame(() => r()))
          return mean
        }))
        // A registration sorted first shows on the open page.
        const name = `aaa-live-${size}-${r}`
        t = performance.now()
        await fetch(`${base}/v1/catalog/register`, { method: 'PUT', body: JSON.stringify({ Node: 'node-0', Address: '10.0.0.0', Service: { Service: name } }) })
        await page.waitForSelector(`[data-service="${name}"]`)
        lives.push(performance.now() - t)
        // Gone again, so the next round's first rows are the same ones.
        await fetch(`${base}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Node: 'node-0', ServiceID: name }) })
        t = performance.now()
        await page.goto(`${base}/ui/dc1/nodes`)
        await page.waitForSelector('[data-node="node-0"]')
        nodesFirst.push(performance.now() - t)
        await context.close()
      }
      const nodes = size === 10_000 ? NODES_AT_MAX : size
      rows.push([String(size), String(nodes), median(firstRows).toFixed(0), median(filters).toFixed(0), median(frames).toFixed(1), median(lives).toFixed(0), median(nodesFirst).toFixed(0)])
      if (size === 10_000) {
        target('nodes page first rows at 5,000 nodes < 1000 ms', median(nodesFirst) < 1000, `${median(nodesFirst).toFixed(0)} ms`)
        target('scrolling 10,000 services: mean frame < 34 ms (two 60 Hz frames)', median(frames) < 34, `${median(frames).toFixed(1)} ms`)
        target('first rows at 10,000 services < 1000 ms', median(firstRows) < 1000, `${median(firstRows).toFixed(0)} ms`)
        target('filter by name at 10,000 services < 200 ms', median(filters) < 200, `${median(filters).toFixed(0)} ms`)
      }
    }
    // Idle: one services page open at 10,000 services, nothing changing.
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${base}/ui/dc1/services`)
    await page.waitForSelector('[data-service="svc-00001"]')
    const before = await apiRequestCount(base, 'v1.internal.ui.services')
    await new Promise((r) => setTimeout(r, idleS * 1000))
    const idle = (await apiRequestCount(base, 'v1.internal.ui.services')) - before
    await context.close()
    // The agent's default wait is 5 min: one request per view per 5 min (plus one that may be under way).
    target('idle requests ≤ one per view per blocking wait', idle <= Math.ceil(idleS / 300) + 1, `${idle} in ${idleS} s (${((idle * 60) / idleS).toFixed(1)}/min)`)
    const gz = bundleGzipBytes()
    target('bundle < 150 KiB gzipped', gz < 150 * 1024, `${(gz / 1024).toFixed(1)} KiB`)
    process.stdout.write(`\nweb UI in headless Chromium (${rounds} rounds per size, medians, ms)\n`)
    process.stdout.write(textTable(['services', 'nodes', 'first rows', 'filter', 'scroll frame', 'live update', 'nodes page'], rows, new Set()))
    process.stdout.write(`\nidle page: ${idle} requests in ${idleS} s; bundle ${(gz / 1024).toFixed(1)} KiB gzipped (target 150)\n${verdicts.join('\n')}\n`)
    if (!quick) {
      const results = join(ROOT, 'bench', 'results')
      mkdirSync(results, { recursive: true })
      const out = join(results, `ui-${new Date().toISOString().slice(0, 10)}.json`)
      writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rounds, columns: ['services', 'nodes', 'firstRowsMs', 'filterMs', 'scrollFrameMs', 'liveUpdateMs', 'nodesPageMs'], rows, idle: { requests: idle, seconds: idleS }, bundleGzipBytes: gz, verdicts }, null, 2))
      process.stdout.write(`results: ${out}\n`)
    }
  } finally {
    await browser.close()
    await cleanupAll()
  }
  return failed ? 1 : 0
}
