import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { nearSource, serverRead, withOptions } from './blocking.js'
import { applyFilter, checkFilter } from './filtering.js'
import { agentServiceJson, checkJson, nodeJson } from './views.js'
import { nodeMetaFilter, tagFilter } from './catalog.js'
import { badRequest } from '../lib/errors.js'

export function registerHealthRoutes(router: Router, ctx: ApiContext): void {
  router.prefix('/v1/health/node/', { GET: (req) => nodeChecks(req, ctx) })
  router.prefix('/v1/health/checks/', { GET: (req) => serviceChecks(req, ctx) })
  router.prefix('/v1/health/service/', { GET: (req) => serviceHealth(req, ctx) })
  router.prefix('/v1/health/state/', { GET: (req) => stateChecks(req, ctx) })
}


/** Consul's getBoolQueryParam: present and empty means true, otherwise Go's ParseBool. */
export function boolParam(req: ApiRequest, name: string): boolean {
  if (!req.has(name)) return false
  const v = req.param(name) ?? ''
  if (v === '') return true
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw badRequest(`Invalid value for ?${name}: ${JSON.stringify(v)} is not a boolean`)
}

async function nodeChecks(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const node = req.pathArg('/v1/health/node/', 'node name')
  checkFilter(req, 'check')
  const checks = await serverRead(req, ctx, (opts, call) => ctx.server.health.nodeChecks(withOptions({ node }, opts), call))
  return applyFilter(req, checks.map(checkJson), 'check')
}

async function serviceChecks(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/health/checks/', 'service name')
  const nodeMeta = nodeMetaFilter(req)
  checkFilter(req, 'check')
  const checks = await serverRead(req, ctx, (opts, call) => ctx.server.health.serviceChecks(withOptions({ service: name, nodeMeta, source: nearSource(req, ctx) }, opts), call))
  return applyFilter(req, checks.map(checkJson), 'check')
}

async function serviceHealth(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/health/service/', 'service name')
  const request = { service: name, passingOnly: boolParam(req, 'passing'), tags: tagFilter(req), nodeMeta: nodeMetaFilter(req), source: nearSource(req, ctx) }
  checkFilter(req, 'serviceEntry')
  const rows = await serverRead(req, ctx, (opts, call) => ctx.server.health.serviceNodes(withOptions(request, opts), call))
  const entries = rows.map(({ node, service, checks }) => ({
    Node: nodeJson(node),
    Service: { ...agentServiceJson(service), Proxy: { MeshGateway: {}, Expose: {} }, Connect: {} },
    Checks: checks.map(checkJson),
  }))
  return applyFilter(req, entries, 'serviceEntry')
}

const STATES = ['any', 'passing', 'warning', 'critical'] as const

async function stateChecks(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const state = req.pathArg('/v1/health/state/', 'check state')
  if (!(STATES as readonly string[]).includes(state)) throw badRequest('Invalid check state')
  const nodeMeta = nodeMetaFilter(req)
  checkFilter(req, 'check')
  const checks = await serverRead(req, ctx, (opts, call) => ctx.server.health.checksInState(withOptions({ state: state as (typeof STATES)[number], nodeMeta, source: nearSource(req, ctx) }, opts), call))
  return applyFilter(req, checks.map(checkJson), 'check')
}
