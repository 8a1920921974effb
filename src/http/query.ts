import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { checkDatacenter, nearSource, serverRead, withOptions } from './blocking.js'
import { readJsonBody } from './body.js'
import { agentServiceJson, checkJson, nodeJson } from './views.js'
import { badRequest, HttpError, notFound } from '../lib/errors.js'
import { field } from '../lib/json.js'
import type { PreparedQueryInput } from '../state/queries.js'
import type { PreparedQueryApplyRequest, PreparedQueryExecuteReply } from '../server/prepared-query-endpoint.js'
import { NotFoundError, RejectedError } from '../server/errors.js'
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

/** A refused write is the client's error; an unknown query is 404. */
async function apply(ctx: ApiContext, request: PreparedQueryApplyRequest): Promise<string> {
  try {
    return (await ctx.server.preparedQuery.apply(request)).value
  } catch (err) {
    if (err instanceof RejectedError) throw badRequest(err.message)
    throw notFoundAsHttp(err)
  }
}

function notFoundAsHttp(err: unknown): unknown {
  return err instanceof NotFoundError ? notFound(err.message) : err
}

async function create(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const { ID: _id, ...query } = parseQuery(await readJsonBody(req), '')
  if (query.Template.Type && query.Template.Type !== 'name_prefix_match') throw badRequest(`Bad Template.Type '${query.Template.Type}'`)
  return { ID: await apply(ctx, { op: 'create', query, datacenter, token: req.token }) }
}

async function list(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  return serverRead(req, ctx, (opts, call) => ctx.server.preparedQuery.list(opts, call))
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
    // No X-Consul-* meta on explain, as before the endpoint layer.
    const reply = await ctx.server.preparedQuery.explain({ idOrName: id, datacenter: checkDatacenter(req, ctx), token: req.token }).catch((err: unknown) => Promise.reject(notFoundAsHttp(err)))
    return { Query: reply.value }
  }
  if (action !== undefined) throw badRequest('Invalid URL path')
  return serverRead(req, ctx, (opts, call) => ctx.server.preparedQuery.get(withOptions({ id }, opts), call)).catch((err: unknown) => Promise.reject(notFoundAsHttp(err)))
}

/** The response of /execute: the service, its healthy instances as health/service entries, DNS TTL. */
export function executeResponse(reply: PreparedQueryExecuteReply): Record<string, unknown> {
  const { query, entries } = reply
  return {
    Service: query.Service.Service,
    Nodes: entries.map((e) => ({ Node: nodeJson(e.node), Service: agentServiceJson(e.service), Checks: e.checks.map(checkJson) })),
    DNS: query.DNS,
    Datacenter: reply.datacenter,
    Failovers: reply.failovers,
  }
}

async function execute(req: ApiRequest, ctx: ApiContext, idOrName: string): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const limitText = req.param('limit')
  const limit = limitText === undefined ? undefined : Number(limitText)
  const badLimit = limit !== undefined && (!Number.isInteger(limit) || limit < 0)
  // An unknown query is 404 whatever the limit says.
  const reply = await ctx.server.preparedQuery.execute({ idOrName, limit: badLimit ? 0 : limit, datacenter, token: req.token, source: nearSource(req, ctx), agent: { node: ctx.nodeName, datacenter: ctx.datacenter } }).catch((err: unknown) => Promise.reject(notFoundAsHttp(err)))
  if (badLimit) throw badRequest('Invalid limit')
  req.meta = reply.meta
  return executeResponse(reply.value)
}

async function update(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const { id, action } = pathParts(req)
  if (action !== undefined) throw new HttpError(405, `method PUT not allowed`, { Allow: 'GET' })
  // An unknown query is 404 before its new body is even read.
  await ctx.server.preparedQuery.get({ id, datacenter, token: req.token }).catch((err: unknown) => Promise.reject(notFoundAsHttp(err)))
  await apply(ctx, { op: 'update', query: parseQuery(await readJsonBody(req), id), datacenter, token: req.token })
  return undefined
}

async function remove(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const { id } = pathParts(req)
  await apply(ctx, { op: 'delete', id, datacenter, token: req.token })
  return undefined
}
