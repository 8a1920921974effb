/** GET /v1/agent/metrics: the agent's telemetry in go-metrics' JSON shape, or Prometheus' text format. */
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { badRequest } from '../lib/errors.js'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export function registerMetricsRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/agent/metrics', { GET: (req) => metrics(req, ctx) })
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
