import { encodeCommand } from '../state/commands.js'
import { randomUUID } from 'node:crypto'
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { blockingQuery, checkDatacenter } from './blocking.js'
import { readJsonBody } from './body.js'
import { sessionJson } from './views.js'
import { badRequest, HttpError, notFound } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { parseDurationMs, formatDurationMs } from '../lib/duration.js'
import type { SessionBehavior, SessionRecord } from '../state/sessions.js'

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
      return read(req, ctx, (s) => s.ID === id)
    },
  })
  router.prefix('/v1/session/node/', {
    GET: (req) => {
      const node = req.pathArg('/v1/session/node/', 'node name')
      return read(req, ctx, (s) => s.Node === node)
    },
  })
  router.exact('/v1/session/list', { GET: (req) => read(req, ctx, () => true) })
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
  checkDatacenter(req, ctx)
  const body = (await readJsonBody(req)) ?? {}
  const ttlMs = durationField(body, 'TTL')
  if (ttlMs !== undefined && ttlMs !== 0 && (ttlMs < SESSION_TTL_MIN_MS || ttlMs > SESSION_TTL_MAX_MS))
    throw badRequest(`Invalid Session TTL '${formatDurationMs(ttlMs)}', must be between [10s=24h0m0s]`)
  const behavior = (field(body, 'Behavior') as string | undefined) || 'release'
  if (behavior !== 'release' && behavior !== 'delete') throw badRequest(`Invalid Behavior setting '${behavior}'`)
  const lockDelayMs = durationField(body, 'LockDelay')
  const checks = field(body, 'Checks') as string[] | undefined
  const nodeChecks = field(body, 'NodeChecks') as string[] | undefined
  const serviceChecks = (field(body, 'ServiceChecks') as Array<Record<string, string>> | undefined)?.map((c) => ({ ID: String(field(c, 'ID') ?? '') }))
  const session: Omit<SessionRecord, 'CreateIndex' | 'ModifyIndex'> = {
    ID: randomUUID(),
    Name: String(field(body, 'Name') ?? ''),
    Node: String(field(body, 'Node') || ctx.nodeName),
    LockDelay: lockDelayMs === undefined ? DEFAULT_LOCK_DELAY_NS : Math.round(lockDelayMs * 1e6),
    Behavior: behavior as SessionBehavior,
    TTL: ttlMs ? formatDurationMs(ttlMs) : '',
    NodeChecks: nodeChecks ?? checks ?? (serviceChecks ? [] : ['serfHealth']),
    ServiceChecks: serviceChecks ?? [],
  }
  const { response } = await ctx.raft.apply(encodeCommand({ Type: 'session', Op: 'create', Session: session }))
  if (response instanceof Error) throw new HttpError(500, `Failed to create session: ${response.message}`)
  ctx.sessionTimers.reset(session.ID)
  return { ID: session.ID }
}

async function destroy(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const sid = req.pathArg('/v1/session/destroy/', 'session')
  ctx.sessionTimers.clear(sid)
  await ctx.raft.apply(encodeCommand({ Type: 'session', Op: 'destroy', ID: sid }))
  return true
}

async function renew(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const sid = req.pathArg('/v1/session/renew/', 'session')
  const session = ctx.state.sessions.get(sid)
  if (!session) throw notFound(`Session id '${sid}' not found`)
  ctx.sessionTimers.reset(sid)
  return [sessionJson(session)]
}

async function read(req: ApiRequest, ctx: ApiContext, keep: (s: SessionRecord) => boolean): Promise<unknown> {
  return blockingQuery(req, ctx, (ws) => {
    ctx.state.watchCatalog(ws, 'sessions')
    return { index: Math.max(ctx.state.sessions.index, 1), value: ctx.state.sessions.list().filter(keep).map(sessionJson) }
  })
}
