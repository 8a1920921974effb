/**
 * The web UI's read endpoints (Consul's /v1/internal/ui/*): the services list with instance and
 * check counts, and nodes with their services and checks, each one blocking read with `?filter=`.
 */
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { serverRead, withOptions } from './blocking.js'
import { applyFilter, checkFilter } from './filtering.js'
import { agentServiceJson, checkJson, nodeJson } from './views.js'
import { notFound } from '../lib/errors.js'
import type { NodeDumpEntry } from '../server/ui-summary.js'

export function registerUiInternalRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/internal/ui/services', { GET: (req) => services(req, ctx) })
  router.exact('/v1/internal/ui/nodes', { GET: (req) => nodes(req, ctx) })
  router.prefix('/v1/internal/ui/node/', { GET: (req) => node(req, ctx) })
}

async function services(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkFilter(req, 'serviceSummary')
  const rows = await serverRead(req, ctx, (opts, call) => ctx.server.internal.serviceSummary(opts, call))
  return applyFilter(req, rows, 'serviceSummary')
}

function nodeEntryJson(n: NodeDumpEntry): Record<string, unknown> {
  return { ...nodeJson(n), Services: n.Services.map((s) => agentServiceJson(s)), Checks: n.Checks.map(checkJson) }
}

async function nodes(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkFilter(req, 'nodeDump')
  const rows = await serverRead(req, ctx, (opts, call) => ctx.server.internal.nodeDump(opts, call))
  return applyFilter(req, rows.map(nodeEntryJson), 'nodeDump')
}

async function node(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/internal/ui/node/', 'node name')
  const info = await serverRead(req, ctx, (opts, call) => ctx.server.internal.nodeInfo(withOptions({ node: name }, opts), call))
  if (!info.node) throw notFound(`Node not found: ${name}`)
  return nodeEntryJson({ ...info.node, Services: info.services, Checks: info.checks })
}
