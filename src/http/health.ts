import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { blockingQuery } from './blocking.js'
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
  const checks = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, `node:${node}`)
    return { index: ctx.state.catalog.nodeIndexOf(node), value: ctx.state.catalog.nodeChecks(node).map(checkJson) }
  })
  return applyFilter(req, checks, 'check')
}

async function serviceChecks(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/health/checks/', 'service name')
  const metaOk = nodeMetaFilter(req)
  checkFilter(req, 'check')
  const checks = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, `service:${name}`)
    const { catalog } = ctx.state
    const rows = catalog
      .instances(name)
      .filter((s) => metaOk(catalog.node(s.Node)?.Meta ?? {}))
      .flatMap((s) => catalog.nodeChecks(s.Node).filter((c) => c.ServiceID === s.ID))
      .map(checkJson)
    return { index: catalog.serviceIndexOf(name), value: rows }
  })
  return applyFilter(req, checks, 'check')
}

async function serviceHealth(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/health/service/', 'service name')
  const passingOnly = boolParam(req, 'passing')
  const tagsOk = tagFilter(req)
  const metaOk = nodeMetaFilter(req)
  checkFilter(req, 'serviceEntry')
  const entries = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, `service:${name}`)
    const { catalog } = ctx.state
    const rows = catalog.instances(name).flatMap((s) => {
      const node = catalog.node(s.Node)
      if (!node || !tagsOk(s.Tags) || !metaOk(node.Meta)) return []
      const checks = catalog.instanceChecks(s)
      if (passingOnly && checks.some((c) => c.Status !== 'passing')) return []
      return [{ Node: nodeJson(node), Service: { ...agentServiceJson(s), Proxy: { MeshGateway: {}, Expose: {} }, Connect: {} }, Checks: checks.map(checkJson) }]
    })
    return { index: catalog.serviceIndexOf(name), value: rows }
  })
  return applyFilter(req, entries, 'serviceEntry')
}

const STATES = ['any', 'passing', 'warning', 'critical'] as const

async function stateChecks(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const state = req.pathArg('/v1/health/state/', 'check state')
  if (!(STATES as readonly string[]).includes(state)) throw badRequest('Invalid check state')
  const metaOk = nodeMetaFilter(req)
  checkFilter(req, 'check')
  const checks = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, 'checks')
    const { catalog } = ctx.state
    const rows = catalog.checks.valuesArray().filter((c) => (state === 'any' || c.Status === state) && metaOk(catalog.node(c.Node)?.Meta ?? {}))
    return { index: Math.max(catalog.index.checks, 1), value: rows.map(checkJson) }
  })
  return applyFilter(req, checks, 'check')
}
