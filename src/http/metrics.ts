/**
 * GET /v1/agent/metrics: the agent's telemetry in go-metrics' JSON shape, or Prometheus' text
 * format; GET /v1/agent/monitor: the agent's log, streamed as it is written.
 */
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply, StreamReply } from './reply.js'
import { badRequest } from '../lib/errors.js'
import { parseLogLevel } from '../lib/log-level.js'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export function registerMetricsRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/agent/metrics', { GET: (req) => metrics(req, ctx) })
  router.exact('/v1/agent/monitor', { GET: (req) => monitor(req, ctx) })
}

/** Lines a monitor holds while its reader is slow; past them lines are dropped and counted. */
export const MONITOR_BUFFER_LINES = 512

/**
 * Streams log lines at `?loglevel` (default info), as text or `?logjson`, until the client goes.
 * A reader that does not keep up never slows the agent: its lines queue up to a bound, then
 * are dropped, and it is told how many (Consul's "Monitor dropped N logs") once it catches up.
 */
function monitor(req: ApiRequest, ctx: ApiContext): StreamReply {
  const asked = req.param('loglevel') || 'info'
  const json = req.has('logjson')
  // Checked before the headers go out: an unknown level is a 400, not an empty stream.
  const level = parseLogLevel(asked)
  if (!level) throw badRequest(`Unknown log level: ${asked}`)
  return new StreamReply('text/plain; charset=utf-8', (res) => {
    let queue: string[] = []
    let dropped = 0
    let blocked = false
    const send = (line: string): void => {
      if (blocked) {
        if (queue.length < MONITOR_BUFFER_LINES) queue.push(line)
        else dropped++
        return
      }
      if (!res.write(line)) blocked = true
    }
    const drain = (): void => {
      blocked = false
      const lines = queue
      queue = []
      if (dropped > 0) lines.push(`${new Date().toISOString()} [WARN]  agent.http: Monitor dropped ${dropped} logs during monitor request\n`)
      dropped = 0
      for (const line of lines) send(line)
    }
    res.on('drain', drain)
    const stop = ctx.subscribeLog(level, json, send)
    return () => {
      stop()
      res.off('drain', drain)
    }
  })
}

function metrics(req: ApiRequest, ctx: ApiContext): unknown {
  const format = req.param('format') ?? ''
  if (format === 'prometheus') {
    // Consul's answer, word for word: scrapers show it when the operator forgot the retention time.
    if (ctx.metrics.prometheusRetentionMs <= 0) return new Reply(415, 'Prometheus is not enabled since its retention time is not positive', 'text/plain')
    return new Reply(200, ctx.metrics.prometheus(), PROMETHEUS_CONTENT_TYPE)
  }
  // Consul falls back to JSON for any other value; a typo then looks like a broken scrape, so say so.
  if (format !== '' && format !== 'json') throw badRequest(`Invalid format "${format}": leave format out for JSON, or use format=prometheus`)
  return ctx.metrics.summary()
}
