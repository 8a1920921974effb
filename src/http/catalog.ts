import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { nearSource, nodeWriteBody, serverRead, withOptions } from './blocking.js'
import { listField, stringField, stringMapField } from './body.js'
import { applyFilter, checkFilter } from './filtering.js'
import { agentServiceJson, catalogServiceJson, nodeJson } from './views.js'
import { badRequest } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { parseCheck, parseService } from '../agent/definitions.js'
import type { CheckInput } from '../state/catalog.js'
import type { RegisterRequest, NodeMetaFilter } from '../server/catalog-endpoint.js'
import { RejectedError } from '../server/errors.js'

export function registerCatalogRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/catalog/datacenters', { GET: () => ctx.server.catalog.listDatacenters({}) })
  router.exact('/v1/catalog/register', { PUT: (req) => register(req, ctx) })
  router.exact('/v1/catalog/deregister', { PUT: (req) => deregister(req, ctx) })
  router.exact('/v1/catalog/nodes', { GET: (req) => nodes(req, ctx) })
  router.exact('/v1/catalog/services', { GET: (req) => services(req, ctx) })
  router.prefix('/v1/catalog/service/', { GET: (req) => service(req, ctx) })
  router.prefix('/v1/catalog/node/', { GET: (req) => node(req, ctx, false) })
  router.prefix('/v1/catalog/node-services/', { GET: (req) => node(req, ctx, true) })
}

/** `?node-meta=k:v` (repeatable): every pair must match. */
export function nodeMetaFilter(req: ApiRequest): NodeMetaFilter | undefined {
  const values = req.query.getAll('node-meta')
  if (values.length === 0) return undefined
  return values.map((kv) => {
    const at = kv.indexOf(':')
    return at < 0 ? ([kv, ''] as const) : ([kv.slice(0, at), kv.slice(at + 1)] as const)
  })
}

/** `?tag=` (repeatable): every tag must be present. */
export function tagFilter(req: ApiRequest): string[] | undefined {
  const wanted = req.query.getAll('tag')
  return wanted.length ? wanted : undefined
}

async function nodes(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const nodeMeta = nodeMetaFilter(req)
  const list = await serverRead(req, ctx, (opts, call) => ctx.server.catalog.listNodes(withOptions({ nodeMeta, source: nearSource(req, ctx) }, opts), call))
  return applyFilter(req, list.map(nodeJson), 'node')
}

async function services(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const nodeMeta = nodeMetaFilter(req)
  // Consul evaluates ?filter= against each instance (ServiceNode fields), then groups.
  if (req.param('filter') === undefined) return serverRead(req, ctx, (opts, call) => ctx.server.catalog.listServices(withOptions({ nodeMeta }, opts), call))
  checkFilter(req, 'catalogService')
  const rows = await serverRead(req, ctx, (opts, call) => ctx.server.catalog.listServiceInstances(withOptions({ nodeMeta }, opts), call))
  const out: Record<string, Set<string>> = {}
  for (const { node, service } of rows) {
    if (applyFilter(req, [catalogServiceJson(node, service)], 'catalogService').length === 0) continue
    const tags = (out[service.Service] ??= new Set())
    for (const t of service.Tags) tags.add(t)
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, [...out[k]!].sort()]))
}

async function service(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/catalog/service/', 'service name')
  const request = { service: name, tags: tagFilter(req), nodeMeta: nodeMetaFilter(req), source: nearSource(req, ctx) }
  const rows = await serverRead(req, ctx, (opts, call) => ctx.server.catalog.serviceNodes(withOptions(request, opts), call))
  return applyFilter(req, rows.map((r) => catalogServiceJson(r.node, r.service)), 'catalogService')
}

async function node(req: ApiRequest, ctx: ApiContext, asList: boolean): Promise<unknown> {
  const name = req.pathArg(asList ? '/v1/catalog/node-services/' : '/v1/catalog/node/', 'node name')
  const value = await serverRead(req, ctx, (opts, call) => ctx.server.catalog.nodeServices(withOptions({ node: name }, opts), call))
  if (value === null) return null
  const services = applyFilter(req, value.services.map((s) => agentServiceJson(s)), 'agentService') as Array<Record<string, unknown>>
  return { Node: nodeJson(value.node), Services: asList ? services : Object.fromEntries(services.map((s) => [s.ID, s])) }
}

/** PUT /v1/catalog/register: a node with an optional service and checks (Consul's RegisterRequest). */
async function register(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const { body, datacenter, node: nodeName } = await nodeWriteBody(req, ctx)
  const address = field(body, 'Address')
  if (typeof address !== 'string' || !address) throw badRequest('Must provide address')
  const id = stringField(body, 'ID')
  const request: RegisterRequest = {
    node: {
      // Absent: the catalog keeps the ID it has.
      ...(id === undefined ? {} : { ID: id }),
      Node: nodeName,
      Address: address,
      Datacenter: datacenter ?? ctx.datacenter,
      TaggedAddresses: stringMapField(body, 'TaggedAddresses') ?? {},
      Meta: stringMapField(body, 'NodeMeta') ?? {},
    },
    skipNodeUpdate: field(body, 'SkipNodeUpdate') === true,
    datacenter,
  }
  const svc = field(body, 'Service')
  if (svc !== undefined && svc !== null) {
    const { checks: _c, token: _t, ...service } = parseService(svc, 'Service')
    request.service = service
  }
  const rawChecks = [field(body, 'Check'), ...(listField(body, 'Checks') ?? [])].filter((c) => c !== undefined && c !== null)
  request.checks = rawChecks.map((c, i): CheckInput => {
    const spec = parseCheck(c, { where: `Checks[${i}]` })
    const status = spec.record.Status
    return { ...spec.record, Status: field(c, 'Status') === undefined ? 'passing' : status, Output: stringField(c, 'Output') ?? '' }
  })
  try {
    await ctx.server.catalog.register({ ...request, token: req.token })
  } catch (err) {
    if (err instanceof RejectedError) throw badRequest(err.message)
    throw err
  }
  return true
}

async function deregister(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const { body, datacenter, node } = await nodeWriteBody(req, ctx)
  const serviceId = stringField(body, 'ServiceID')
  const checkId = stringField(body, 'CheckID')
  await ctx.server.catalog.deregister({
    node,
    datacenter,
    token: req.token,
    ...(serviceId ? { serviceId } : {}),
    ...(checkId ? { checkId } : {}),
  })
  return true
}
