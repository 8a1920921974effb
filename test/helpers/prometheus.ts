/**
 * Debian's Prometheus as a real scraper of agents' /v1/agent/metrics?format=prometheus: started
 * on loopback with its own storage, scraping every second, queried through its HTTP API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './agent.js'
import { until } from './poll.js'

export const PROMETHEUS_BIN = '/usr/bin/prometheus'

/** The agent's own count of API requests to one route (`v1.kv._`), from its cumulative Prometheus summary. */
export async function apiRequestCount(base: string, path: string, opts: { method?: string; token?: string } = {}): Promise<number> {
  const res = await fetch(`${base}/v1/agent/metrics?format=prometheus`, { headers: opts.token ? { 'X-Consul-Token': opts.token } : {} })
  let n = 0
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('consul_api_http_count{') && line.includes(`method="${opts.method ?? 'GET'}"`) && line.includes(`path="${path}"`)) n += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return n
}

/** Whether the binary is here; CI installs it (.ci/run), so there a missing one is a failure. */
export function havePrometheus(): boolean {
  const ok = spawnSync(PROMETHEUS_BIN, ['--version']).status === 0
  if (!ok && process.env.CI) throw new Error(`${PROMETHEUS_BIN} is missing: .ci/run installs Debian's prometheus`)
  return ok
}

export interface Series {
  metric: Record<string, string>
  value: number
}

export class Prometheus {
  readonly url: string
  readonly #proc: ChildProcess
  #out = ''

  private constructor(proc: ChildProcess, url: string) {
    this.#proc = proc
    this.url = url
    proc.stdout!.on('data', (d: Buffer) => (this.#out += d.toString()))
    proc.stderr!.on('data', (d: Buffer) => (this.#out += d.toString()))
  }

  /** Scrapes `targets` (`host:port` of agents' HTTP APIs) every second. */
  static async start(targets: readonly string[]): Promise<Prometheus> {
    const dir = tempDir('prometheus-')
    const config = join(dir, 'prometheus.yml')
    writeFileSync(config, [
      'global: { scrape_interval: 1s, scrape_timeout: 900ms }',
      'scrape_configs:',
      '  - job_name: consul',
      '    metrics_path: /v1/agent/metrics',
      '    params: { format: [prometheus] }',
      `    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]`,
      '',
    ].join('\n'))
    const port = 30000 + Math.floor(Math.random() * 20000)
    const proc = spawn(PROMETHEUS_BIN, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const p = new Prometheus(proc, `http://127.0.0.1:${port}`)
    await until('Prometheus to be ready', async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${p.#out}`)
      const res = await fetch(`${p.url}/-/ready`).catch(() => undefined)
      return res?.status === 200 ? true : undefined
    })
    return p
  }

  /** An instant query's vector. */
  async query(q: string): Promise<Series[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(10_000) })
    const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }
    if (body.status !== 'success') throw new Error(`prometheus query ${q}: ${body.error}`)
    return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
  }

  /** Scrape health per target: `up` is 1 when the last scrape parsed. */
  async targets(): Promise<Array<{ instance: string; health: string; lastError: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ labels: { instance: string }; health: string; lastError: string }> } }
    return body.data.activeTargets.map((t) => ({ instance: t.labels.instance, health: t.health, lastError: t.lastError }))
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode !== null) return
    const exited = new Promise((resolve) => this.#proc.once('exit', resolve))
    this.#proc.kill('SIGTERM')
    await exited
  }
}
