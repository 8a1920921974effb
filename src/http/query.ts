import { encodeCommand } from '../state/commands.js'
import { randomUUID } from 'node:crypto'
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { blockingQuery, checkDatacenter } from './blocking.js'
import { readJsonBody } from './body.js'
import { agentServiceJson, checkJson, nodeJson } from './views.js'
import { badRequest, HttpError, notFound } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { executeQuery, type PreparedQuery, type PreparedQueryInput } from '../state/queries.js'
import { parseDurationMs } from '../lib/duration.js'

export function registerQueryRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/query', { POST: (req) => create(req, ctx), GET: (req) => list(req, ctx) })
  router.prefix('/v1/query/', {
    GET: (req) => byIdPath(req, ctx),
    PUT: (req) => update(req, ctx),
    DELETE: (req) => remove(req, ctx),
  })
}

const strings = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest(`Request decode failed: ${what} must be a list of strings`)
  return v as string[]
}
const stringMap = (v: unknown, what: string): Record<string, string> => {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string')) throw badRequest(`Request decode failed: ${what} must be an object of strings`)
  return v as Record<string, string>
}

/** Parses a prepared-query body with Consul's validation messages. */
function parseQuery(body: unknown, id: string): PreparedQueryInput {
  if (body === null || typeof body !== 'object') throw badRequest('Request decode failed: a prepared query is a JSON object')
  const svc = field(body, 'Service') ?? {}
  const service = String(field(svc, 'Service') ?? '')
  if (!service) throw badRequest('Must provide a Service name to query')
  const dns = field(body, 'DNS') ?? {}
  const ttl = String(field(dns, 'TTL') ?? '')
  if (ttl) {
    try {
      if (parseDurationMs(ttl) < 0) throw new Error('negative')
    } catch {
      throw badRequest(`Bad DNS TTL '${ttl}': time: invalid duration "${ttl}"`)
    }
  }
  const failover = field(svc, 'Failover') ?? {}
  const template = field(body, 'Template') ?? {}
  return {
    ID: id,
    Name: String(field(body, 'Name') ?? ''),
    Session: String(field(body, 'Session') ?? ''),
    Token: String(field(body, 'Token') ?? ''),
    Service: {
      Service: service,
      Failover: { NearestN: Number(field(failover, 'NearestN') ?? 0), Datacenters: strings(field(failover, 'Datacenters'), 'Failover.Datacenters') },
      IgnoreCheckIDs: strings(field(svc, 'IgnoreCheckIDs'), 'IgnoreCheckIDs'),
      OnlyPassing: field(svc, 'OnlyPassing') === true,
      Near: String(field(svc, 'Near') ?? ''),
      Tags: strings(field(svc, 'Tags'), 'Tags'),
      NodeMeta: stringMap(field(svc, 'NodeMeta'), 'NodeMeta'),
      ServiceMeta: stringMap(field(svc, 'ServiceMeta'), 'ServiceMeta'),
      Connect: { Enabled: field(field(svc, 'Connect'), 'Enabled') === true },
    },
    DNS: { TTL: ttl },
    Template: { Type: String(field(template, 'Type') ?? ''), Regexp: String(field(template, 'Regexp') ?? ''), RemoveEmptyTags: field(template, 'RemoveEmptyTags') === true },
  }
}

async function apply(ctx: ApiContext, op: 'set' | 'delete', query: PreparedQueryInput): Promise<void> {
  const { response } = await ctx.raft.apply(encodeCommand({ Type: 'query', Op: op, Query: query }))
  if (response instanceof Error) throw badRequest(response.message)
}

async function create(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const query = parseQuery(await readJsonBody(req), randomUUID())
  if (query.Template.Type && query.Template.Type !== 'name_prefix_match') throw badRequest(`Bad Template.Type '${query.Template.Type}'`)
  await apply(ctx, 'set', query)
  return { ID: query.ID }
}

async function list(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  return blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, 'queries')
    return { index: Math.max(ctx.state.queries.index, 1), value: ctx.state.queries.list() }
  })
}

function pathParts(req: ApiRequest): { id: string; action: string | undefined } {
  const rest = req.path.slice('/v1/query/'.length)
  const [id, action, ...extra] = rest.split('/')
  if (!id || extra.length > 0) throw badRequest('Invalid URL path')
  return { id, action }
}

async function byIdPath(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const { id, action } = pathParts(req)
  if (action === 'execute') return execute(req, ctx, id)
  if (action === 'explain') {
    const q = ctx.state.queries.resolve(id)
    if (!q) throw notFound('Query not found')
    return { Query: q }
  }
  if (action !== undefined) throw badRequest('Invalid URL path')
  return blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, 'queries')
    const q = ctx.state.queries.get(id)
    if (!q) throw notFound('Query not found')
    return { index: q.ModifyIndex, value: [q] }
  })
}

/** The response of /execute: the service, its healthy instances as health/service entries, DNS TTL. */
export function executeResponse(ctx: ApiContext, q: PreparedQuery, limit: number | undefined): Record<string, unknown> {
  let entries = executeQuery(ctx.state.catalog, q)
  if (limit !== undefined && limit > 0) entries = entries.slice(0, limit)
  return {
    Service: q.Service.Service,
    Nodes: entries.map((e) => ({ Node: nodeJson(e.node), Service: agentServiceJson(e.service), Checks: e.checks.map(checkJson) })),
    DNS: q.DNS,
    Datacenter: ctx.datacenter,
    Failovers: 0,
  }
}

async function execute(req: ApiRequest, ctx: ApiContext, idOrName: string): Promise<unknown> {
  checkDatacenter(req, ctx)
  const q = ctx.state.queries.resolve(idOrName)
  if (!q) throw notFound('Query not found')
  const limitText = req.param('limit')
  const limit = limitText === undefined ? undefined : Number(limitText)
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw badRequest('Invalid limit')
  req.meta = { index: Math.max(ctx.state.catalog.serviceIndexOf(q.Service.Service), 1), knownLeader: true, lastContactMs: ctx.raft.lastContactMs(), consistency: 'leader' }
  return executeResponse(ctx, q, limit)
}

async function update(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const { id, action } = pathParts(req)
  if (action !== undefined) throw new HttpError(405, `method PUT not allowed`, { Allow: 'GET' })
  if (!ctx.state.queries.get(id)) throw notFound('Query not found')
  await apply(ctx, 'set', parseQuery(await readJsonBody(req), id))
  return undefined
}

async function remove(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const { id } = pathParts(req)
  const q = ctx.state.queries.get(id)
  if (q) await apply(ctx, 'delete', { ...q })
  return undefined
}
