/**
 * `consul debug`'s capture: what an agent says about itself for a while, in Consul's bundle
 * layout: `index.json`, `agent.json`, `host.json`, `members.json` at the top, `consul.log` (the
 * live log at debug for the whole run), one `<unix seconds>/metrics.json` per interval, and
 * `profile.cpuprofile` / `heap.heapprofile` (V8's, for DevTools) where Consul has Go's pprof files. Secrets are
 * redacted before anything is written. An interrupted run keeps what it has: the archive is
 * still written, marked partial.
 */
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'
import type { ConsulClient } from './client.js'

export const CAPTURE_TARGETS = ['agent', 'host', 'members', 'metrics', 'logs', 'pprof'] as const
export type CaptureTarget = (typeof CAPTURE_TARGETS)[number]

export interface CaptureOptions {
  client: ConsulClient
  dir: string
  durationMs: number
  intervalMs: number
  targets: readonly CaptureTarget[]
  signal: AbortSignal
  progress: (line: string) => void
}

export interface CaptureReport {
  files: string[]
  partial: boolean
  /** Parts the agent refused (profiles without enable_debug, ...), with its reason. */
  skipped: string[]
}

/** Keys whose values are secrets wherever they appear (tokens, the gossip key, TLS keys). */
const SECRET_KEY = /token|secret|encrypt|private|password|^key$|key_?file|keyfile/i

/** A copy with every secret-looking value replaced, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== '' && v !== null && typeof v !== 'object' && typeof v !== 'boolean' ? 'hidden' : redact(v)]))
}

export async function capture(o: CaptureOptions): Promise<CaptureReport> {
  mkdirSync(o.dir, { recursive: true })
  const report: CaptureReport = { files: [], partial: false, skipped: [] }
  const write = (name: string, data: string | Buffer): void => {
    const path = join(o.dir, name)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, data)
    report.files.push(name)
  }
  const json = async (path: string): Promise<unknown> => {
    const res = await o.client.call('GET', path, { signal: o.signal })
    return JSON.parse(res.body.toString('utf8'))
  }
  const want = (t: CaptureTarget): boolean => o.targets.includes(t)
  const self = (await json('/v1/agent/self')) as { Config?: { Version?: string; NodeName?: string } }
  write('index.json', `${JSON.stringify({ Version: 2, AgentVersion: self.Config?.Version ?? '', Interval: `${o.intervalMs / 1000}s`, Duration: `${o.durationMs / 1000}s`, Targets: o.targets, Node: self.Config?.NodeName ?? '' }, null, 2)}\n`)
  if (want('agent')) write('agent.json', `${JSON.stringify(redact(self), null, 2)}\n`)
  if (want('members')) write('members.json', `${JSON.stringify(await json('/v1/agent/members'), null, 2)}\n`)
  if (want('host')) {
    try {
      write('host.json', `${JSON.stringify(await json('/v1/agent/host'), null, 2)}\n`)
    } catch (err) {
      report.skipped.push(`host: ${(err as Error).message}`)
    }
  }
  const jobs: Array<Promise<void>> = []
  const stop = new AbortController()
  const both = AbortSignal.any([o.signal, stop.signal])
  if (want('logs')) {
    const out = createWriteStream(join(o.dir, 'consul.log'))
    report.files.push('consul.log')
    jobs.push(
      o.client
        .call('GET', '/v1/agent/monitor', { query: { loglevel: 'debug' }, signal: both, onData: (c) => out.write(c) })
        .then(() => undefined, () => undefined)
        .finally(() => new Promise<void>((resolve) => out.end(resolve))),
    )
  }
  if (want('pprof')) {
    // Both sample for the whole run, side by side.
    const seconds = Math.max(1, Math.floor(o.durationMs / 1000))
    for (const [path, file] of [['/debug/pprof/profile', 'profile.cpuprofile'], ['/debug/pprof/heap', 'heap.heapprofile']] as const) {
      jobs.push(
        o.client.call('GET', path, { query: { seconds }, signal: o.signal }).then(
          (res) => write(file, res.body),
          (err: Error) => void report.skipped.push(`${file}: ${err.message}`),
        ),
      )
    }
  }
  const start = Date.now()
  try {
    for (let n = 0; ; n++) {
      if (want('metrics')) write(join(String(Math.floor(Date.now() / 1000)), 'metrics.json'), `${JSON.stringify(await json('/v1/agent/metrics'), null, 2)}\n`)
      const next = start + (n + 1) * o.intervalMs
      if (next > start + o.durationMs) break
      o.progress(`Capture ${n + 1}: waiting ${Math.round((next - Date.now()) / 1000)}s for the next interval`)
      await sleep(next - Date.now(), o.signal)
    }
    await sleep(start + o.durationMs - Date.now(), o.signal)
  } catch (err) {
    if (!o.signal.aborted) throw err
  }
  report.partial = o.signal.aborted
  stop.abort()
  await Promise.all(jobs)
  return report
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The capture directory as `<dir>.tar.gz` (its name as the top folder), then the directory removed. */
export async function archive(dir: string): Promise<string> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  pack.on('data', (c: unknown) => chunks.push(c as Buffer))
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve)
    pack.on('error', reject)
  })
  const top = dir.split('/').filter(Boolean).at(-1)!
  const walk = (at: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name)
      if (statSync(path).isDirectory()) walk(path)
      else pack.entry({ name: join(top, relative(dir, path)), mode: 0o600 }, readFileSync(path))
    }
  }
  walk(dir)
  pack.finalize()
  await done
  const file = `${dir.replace(/\/+$/, '')}.tar.gz`
  writeFileSync(file, gzipSync(Buffer.concat(chunks)))
  rmSync(dir, { recursive: true, force: true })
  return file
}
