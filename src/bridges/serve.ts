/**
 * The bridges' own small HTTP endpoint: `/health` for a load balancer or Marathon's health check,
 * `/metrics` in the Prometheus text format (what they registered, polls, events), and the routes a
 * bridge adds (marathon-consul's `/events` callback). Also the shared metrics registry and the
 * duration and host:port parsing of their flags.
 */
import http from 'node:http'
import { Metrics } from '../lib/metrics.js'
import { parseDurationMs } from '../lib/duration.js'

export type Route = (req: http.IncomingMessage, body: Buffer) => { status: number; body: string } | Promise<{ status: number; body: string }>

export function bridgeMetrics(prefix: string): Metrics {
  return new Metrics({ clock: { now: () => performance.now(), wall: () => Date.now() }, prefix, prometheusRetentionMs: 3_600_000 })
}

/** Most bytes a posted event may have (Marathon's largest, a deployment plan, is far smaller). */
const MAX_BODY = 8 << 20

export async function serveBridge(listen: { host: string; port: number }, metrics: Metrics, routes: Record<string, Route> = {}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) req.destroy()
      else chunks.push(c)
    })
    req.on('end', async () => {
      const path = (req.url ?? '/').split('?')[0]!
      let out: { status: number; body: string }
      try {
        if (path === '/health') out = { status: 200, body: 'OK\n' }
        else if (path === '/metrics') out = { status: 200, body: metrics.prometheus() }
        else if (routes[path]) out = await routes[path]!(req, Buffer.concat(chunks))
        else out = { status: 404, body: 'not found\n' }
      } catch (err) {
        out = { status: 500, body: `${(err as Error).message}\n` }
      }
      res.writeHead(out.status, { 'Content-Type': path === '/metrics' ? 'text/plain; version=0.0.4' : 'text/plain; charset=utf-8' })
      res.end(out.body)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port, listen.host, () => resolve())
  })
  return server
}

/** `:4000`, `0.0.0.0:4000`, `[::1]:4000`. */
export function parseListen(text: string, defaultHost = '0.0.0.0'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || !(port >= 0 && port < 65536)) throw new Error(`bad address ${JSON.stringify(text)}: want host:port or :port`)
  return { host: m[1] ?? (m[2] || defaultHost), port }
}

/** A Go duration flag (`1m`, `30s`) that must be positive. */
export function positiveDuration(flag: string, text: string): number {
  const ms = parseDurationMs(text)
  if (!(ms > 0)) throw new Error(`--${flag}=${text}: must be a positive duration such as 30s or 1m`)
  return ms
}
