import { encodeCommand } from '../state/commands.js'
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { blockingQuery, checkDatacenter } from './blocking.js'
import { readJsonBody } from './body.js'
import { applyFilter, checkFilter } from './filtering.js'
import { agentServiceJson, catalogServiceJson, nodeJson } from './views.js'
import { badRequest } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { parseCheck, parseService } from '../agent/definitions.js'
import type { NodeInput } from '../state/catalog.js'
import type { Command } from '../state/commands.js'

export function registerCatalogRoutes(router: Router, ctx: ApiContext): void {
  // Only the local datacenter is known until WAN gossip exists.
  router.exact('/v1/catalog/datacenters', { GET: () => [ctx.datacenter] })
  router.exact('/v1/catalog/register', { PUT: (req) => register(req, ctx) })
  router.exact('/v1/catalog/deregister', { PUT: (req) => deregister(req, ctx) })
  router.exact('/v1/catalog/nodes', { GET: (req) => nodes(req, ctx) })
  router.exact('/v1/catalog/services', { GET: (req) => services(req, ctx) })
  router.prefix('/v1/catalog/service/', { GET: (req) => service(req, ctx) })
  router.prefix('/v1/catalog/node/', { GET: (req) => node(req, ctx, false) })
  router.prefix('/v1/catalog/node-services/', { GET: (req) => node(req, ctx, true) })
}

/** `?node-meta=k:v` (repeatable): every pair must match. */
export function nodeMetaFilter(req: ApiRequest): (meta: Record<string, string>) => boolean {
  const pairs = req.query.getAll('node-meta').map((kv) => {
    const at = kv.indexOf(':')
    return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)]
  })
  return (meta) => pairs.every(([k, v]) => meta[k!] === v)
}

export function tagFilter(req: ApiRequest): (tags: readonly string[]) => boolean {
  const wanted = req.query.getAll('tag')
  return (tags) => wanted.every((t) => tags.includes(t))
}


async function nodes(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const metaOk = nodeMetaFilter(req)
  const list = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, 'nodes')
    return { index: ctx.state.catalog.index.nodes, value: ctx.state.catalog.nodes.valuesArray().filter((n) => metaOk(n.Meta)).map(nodeJson) }
  })
  return applyFilter(req, list, 'node')
}

async function services(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const metaOk = nodeMetaFilter(req)
  // Consul evaluates ?filter= here against each instance (ServiceNode fields), then groups.
  const filtered = req.param('filter') !== undefined
  checkFilter(req, 'catalogService')
  return blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, 'services', 'nodes')
    const { catalog } = ctx.state
    const out: Record<string, Set<string>> = {}
    catalog.services.forEach((s) => {
      const node = catalog.node(s.Node)
      if (!node || !metaOk(node.Meta)) return
      if (filtered && applyFilter(req, [catalogServiceJson(node, s)], 'catalogService').length === 0) return
      const tags = (out[s.Service] ??= new Set())
      for (const t of s.Tags) tags.add(t)
    })
    const value = Object.fromEntries(Object.keys(out).sort().map((k) => [k, [...out[k]!].sort()]))
    return { index: Math.max(catalog.index.services, 1), value }
  })
}

async function service(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/catalog/service/', 'service name')
  const tagsOk = tagFilter(req)
  const metaOk = nodeMetaFilter(req)
  const list = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, `service:${name}`)
    const { catalog } = ctx.state
    const rows = catalog
      .instances(name)
      .filter((s) => tagsOk(s.Tags))
      .flatMap((s) => {
        const n = catalog.node(s.Node)
        return n && metaOk(n.Meta) ? [catalogServiceJson(n, s)] : []
      })
    return { index: catalog.serviceIndexOf(name), value: rows }
  })
  return applyFilter(req, list, 'catalogService')
}

async function node(req: ApiRequest, ctx: ApiContext, asList: boolean): Promise<unknown> {
  const name = req.pathArg(asList ? '/v1/catalog/node-services/' : '/v1/catalog/node/', 'node name')
  const value = await blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, `node:${name}`)
    const { catalog } = ctx.state
    const n = catalog.node(name)
    if (!n) return { index: catalog.nodeIndexOf(name), value: null }
    const svcs = catalog.nodeServices(name).map((s) => agentServiceJson(s))
    return { index: catalog.nodeIndexOf(name), value: { Node: nodeJson(n), Services: svcs } }
  })
  if (value === null) return null
  const services = applyFilter(req, value.Services, 'agentService') as Array<Record<string, unknown>>
  return { Node: value.Node, Services: asList ? services : Object.fromEntries(services.map((s) => [s.ID, s])) }
}

/** PUT /v1/catalog/register: a node with an optional service and checks (Consul's RegisterRequest). */
async function register(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const body = await readJsonBody(req)
  checkDatacenter(req, ctx, field(body, 'Datacenter'))
  const nodeName = field(body, 'Node')
  const address = field(body, 'Address')
  if (typeof nodeName !== 'string' || !nodeName) throw badRequest('Must provide node')
  if (typeof address !== 'string' || !address) throw badRequest('Must provide address')
  const existing = ctx.state.catalog.node(nodeName)
  const node: NodeInput = {
    ID: String(field(body, 'ID') ?? existing?.ID ?? ''),
    Node: nodeName,
    Address: address,
    Datacenter: ctx.datacenter,
    TaggedAddresses: (field(body, 'TaggedAddresses') as Record<string, string> | undefined) ?? {},
    Meta: (field(body, 'NodeMeta') as Record<string, string> | undefined) ?? {},
  }
  const cmd: Command = { Type: 'register', Node: node, SkipNodeUpdate: field(body, 'SkipNodeUpdate') === true }
  const svc = field(body, 'Service')
  if (svc !== undefined && svc !== null) {
    const { checks: _c, token: _t, ...service } = parseService(svc, 'Service')
    cmd.Service = service
  }
  const rawChecks = [field(body, 'Check'), ...((field(body, 'Checks') as unknown[] | undefined) ?? [])].filter((c) => c !== undefined && c !== null)
  cmd.Checks = rawChecks.map((c, i) => {
    const spec = parseCheck(c, { where: `Checks[${i}]` })
    const status = spec.record.Status
    return { ...spec.record, Status: field(c, 'Status') === undefined ? 'passing' : status, Output: String(field(c, 'Output') ?? '') }
  })
  const { response } = await ctx.raft.apply(encodeCommand(cmd))
  if (response instanceof Error) throw badRequest(response.message)
  return true
}

async function deregister(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const body = await readJsonBody(req)
  checkDatacenter(req, ctx, field(body, 'Datacenter'))
  const node = field(body, 'Node')
  if (typeof node !== 'string' || !node) throw badRequest('Must provide node')
  const serviceId = field(body, 'ServiceID')
  const checkId = field(body, 'CheckID')
  await ctx.raft.apply(encodeCommand({
    Type: 'deregister',
    Node: node,
    ...(typeof serviceId === 'string' && serviceId ? { ServiceID: serviceId } : {}),
    ...(typeof checkId === 'string' && checkId ? { CheckID: checkId } : {}),
  }))
  return true
}
