import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { checkDatacenter, serverRead, withOptions } from './blocking.js'
import { listField, readJsonBody, stringField, stringsField } from './body.js'
import { sessionJson } from './views.js'
import { badRequest, HttpError, notFound } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { parseDurationMs, formatDurationMs } from '../lib/duration.js'
import type { SessionBehavior, SessionRecord } from '../state/sessions.js'
import type { SessionInput } from '../server/session-endpoint.js'
import type { CallContext, QueryOptions, QueryReply } from '../server/types.js'
import { RejectedError } from '../server/errors.js'

/** Session TTL bounds (Consul: session_ttl_min 10s, max 24h). */
export const SESSION_TTL_MIN_MS = 10_000
export const SESSION_TTL_MAX_MS = 86_400_000
const DEFAULT_LOCK_DELAY_NS = 15e9

export function registerSessionRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/session/create', { PUT: (req) => create(req, ctx) })
  router.prefix('/v1/session/destroy/', { PUT: (req) => destroy(req, ctx) })
  router.prefix('/v1/session/renew/', { PUT: (req) => renew(req, ctx) })
  router.prefix('/v1/session/info/', {
    GET: (req) => {
      const id = req.pathArg('/v1/session/info/', 'session')
      return read(req, ctx, (opts, call) => ctx.server.session.get(withOptions({ id }, opts), call))
    },
  })
  router.prefix('/v1/session/node/', {
    GET: (req) => {
      const node = req.pathArg('/v1/session/node/', 'node name')
      return read(req, ctx, (opts, call) => ctx.server.session.nodeSessions(withOptions({ node }, opts), call))
    },
  })
  router.exact('/v1/session/list', { GET: (req) => read(req, ctx, (opts, call) => ctx.server.session.list(opts, call)) })
}


function durationField(body: unknown, name: string): number | undefined {
  const v = field(body, name)
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v === 'number') return v / 1e6
  if (typeof v !== 'string') throw badRequest(`Request decode failed: ${name} must be a duration`)
  try {
    // Consul accepts a bare number of seconds for LockDelay ("15" means 15s).
    return /^\d+$/.test(v) ? Number(v) * 1000 : parseDurationMs(v)
  } catch {
    throw badRequest(`Request decode failed: ${name}: invalid duration "${v}"`)
  }
}

async function create(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const body = (await readJsonBody(req)) ?? {}
  const ttlMs = durationField(body, 'TTL')
  if (ttlMs !== undefined && ttlMs !== 0 && (ttlMs < SESSION_TTL_MIN_MS || ttlMs > SESSION_TTL_MAX_MS))
    throw badRequest(`Invalid Session TTL '${formatDurationMs(ttlMs)}', must be between [10s=24h0m0s]`)
  const behavior = stringField(body, 'Behavior') || 'release'
  if (behavior !== 'release' && behavior !== 'delete') throw badRequest(`Invalid Behavior setting '${behavior}'`)
  const lockDelayMs = durationField(body, 'LockDelay')
  const checks = stringsField(body, 'Checks')
  const nodeChecks = stringsField(body, 'NodeChecks')
  const serviceChecks = listField(body, 'ServiceChecks')?.map((c) => ({ ID: stringField(c, 'ID') ?? '' }))
  const session: SessionInput = {
    Name: stringField(body, 'Name') ?? '',
    Node: stringField(body, 'Node') || ctx.nodeName,
    LockDelay: lockDelayMs === undefined ? DEFAULT_LOCK_DELAY_NS : Math.round(lockDelayMs * 1e6),
    Behavior: behavior as SessionBehavior,
    TTL: ttlMs ? formatDurationMs(ttlMs) : '',
    NodeChecks: nodeChecks ?? checks ?? (serviceChecks ? [] : ['serfHealth']),
    ServiceChecks: serviceChecks ?? [],
  }
  try {
    const { value: id } = await ctx.server.session.apply({ op: 'create', session, datacenter, token: req.token })
    return { ID: id }
  } catch (err) {
    if (err instanceof RejectedError) throw new HttpError(500, `Failed to create session: ${err.message}`)
    throw err
  }
}

async function destroy(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const sid = req.pathArg('/v1/session/destroy/', 'session')
  await ctx.server.session.apply({ op: 'destroy', id: sid, datacenter, token: req.token })
  return true
}

async function renew(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const sid = req.pathArg('/v1/session/renew/', 'session')
  const { value } = await ctx.server.session.renew({ id: sid, datacenter, token: req.token })
  if (value.length === 0) throw notFound(`Session id '${sid}' not found`)
  return value.map(sessionJson)
}

async function read(req: ApiRequest, ctx: ApiContext, call: (opts: QueryOptions, call: CallContext) => Promise<QueryReply<SessionRecord[]>>): Promise<unknown> {
  return (await serverRead(req, ctx, call)).map(sessionJson)
}
