import { AGENT_TOKEN_ALIASES } from '../acl/agent-tokens.js'
import type { Need } from '../acl/authorizer.js'
import type { Resource } from '../acl/rules.js'
import { denied } from '../acl/errors.js'
import { createHash } from 'node:crypto'
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { readJsonBody } from './body.js'
import { blockingParams } from './request.js'
import { applyFilterToMap } from './filtering.js'
import { agentServiceJson } from './views.js'
import { boolParam } from './health.js'
import { badRequest, HttpError, notFound } from '../lib/errors.js'
import { field, toJson } from '../lib/json.js'
import { parseCheck, parseService } from '../agent/definitions.js'
import type { LocalCheck, LocalService } from '../agent/local-state.js'
import { STATUS_RANK, type CheckStatus } from '../checks/types.js'

export function registerAgentRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/agent/self', { GET: () => ctx.agentSelf() })
  // Nomad's readiness answer (Consul has none): 200 when every role is ok, 500 otherwise, for load balancers and containers.
  router.exact('/v1/agent/health', {
    GET: async () => {
      const r = await ctx.readiness()
      return new Reply(Object.values(r).every((h: { ok: boolean }) => h.ok) ? 200 : 500, JSON.stringify(r))
    },
  })
  router.exact('/v1/agent/members', { GET: (req) => ctx.members(boolParam(req, 'wan')).filter((m) => may(req, 'node', String(m.Name), 'read')) })
  router.prefix('/v1/agent/join/', {
    PUT: async (req) => {
      await ctx.join(req.pathArg('/v1/agent/join/', 'address'), boolParam(req, 'wan'))
      return undefined
    },
  })
  router.prefix('/v1/agent/force-leave/', {
    PUT: (req) => {
      ctx.forceLeave(req.pathArg('/v1/agent/force-leave/', 'node name'), boolParam(req, 'prune'), boolParam(req, 'wan'))
      return undefined
    },
  })
  router.exact('/v1/agent/leave', {
    PUT: () => {
      ctx.leave()
      return undefined
    },
  })
  router.exact('/v1/agent/reload', {
    PUT: async () => {
      // Consul answers with an empty body; ours says what changed (Go and npm clients ignore it).
      try {
        const report = await ctx.reload()
        return { Applied: report.applied, RestartRequired: report.restartRequired }
      } catch (err) {
        throw new HttpError(500, `Failed reloading: ${(err as Error).message}`)
      }
    },
  })
  router.exact('/v1/agent/services', { GET: (req) => applyFilterToMap(req, servicesMap(ctx, req), 'agentService') })
  router.prefix('/v1/agent/service/register', { PUT: (req) => registerService(req, ctx) })
  // GET on these writes is what Consul before 1.0 took and Debian's python3-consul 0.7.1 still sends.
  router.prefix('/v1/agent/service/deregister/', { PUT: (req) => deregisterService(req, ctx), GET: (req) => deregisterService(req, ctx) })
  router.prefix('/v1/agent/service/maintenance/', { PUT: (req) => serviceMaintenance(req, ctx) })
  router.prefix('/v1/agent/service/', { GET: (req) => service(req, ctx) })
  router.prefix('/v1/agent/health/service/id/', { GET: (req) => healthById(req, ctx) })
  router.prefix('/v1/agent/health/service/name/', { GET: (req) => healthByName(req, ctx) })
  router.exact('/v1/agent/checks', { GET: (req) => applyFilterToMap(req, checksMap(ctx, req), 'check') })
  router.exact('/v1/agent/check/register', { PUT: (req) => registerCheck(req, ctx) })
  router.prefix('/v1/agent/check/deregister/', { PUT: (req) => deregisterCheck(req, ctx), GET: (req) => deregisterCheck(req, ctx) })
  for (const [verb, status] of [['pass', 'passing'], ['warn', 'warning'], ['fail', 'critical']] as const) {
    const handler = (req: ApiRequest): Promise<unknown> => ttl(req, ctx, `/v1/agent/check/${verb}/`, status, req.param('note') ?? '')
    router.prefix(`/v1/agent/check/${verb}/`, { PUT: handler, GET: handler })
  }
  router.prefix('/v1/agent/check/update/', { PUT: (req) => ttlUpdate(req, ctx) })
  router.exact('/v1/agent/maintenance', { PUT: (req) => nodeMaintenance(req, ctx) })
  router.prefix('/v1/agent/token/', {
    PUT: async (req) => {
      const name = req.pathArg('/v1/agent/token/', 'token name')
      const kind = AGENT_TOKEN_ALIASES[name]
      if (!kind) throw notFound(`Token "${name}" is unknown`)
      if (!ctx.acl.enabled) throw new HttpError(401, 'ACL support disabled')
      const body = await readJsonBody(req)
      const token = field(body, 'Token')
      if (typeof token !== 'string') throw badRequest('Request decode failed: Token must be a string')
      ctx.acl.setToken(kind, token)
      return undefined
    },
  })
}


function serviceView(ctx: ApiContext, s: LocalService): Record<string, unknown> {
  return agentServiceJson(s.def, ctx.datacenter)
}

/** With ACLs on, whether the caller may (route-acl.ts set `req.identity` for these routes); always with them off. */
function may(req: ApiRequest, resource: Resource, name: string, need: Need): boolean {
  return !req.identity || req.identity.authorizer.allowed(resource, name, need)
}

function must(req: ApiRequest, resource: Resource, name: string, need: Need): void {
  if (req.identity && !may(req, resource, name, need)) throw denied(req.identity, resource, name, need)
}

/** What changing a local check takes: its service's write, or the node's for a node check. */
function mustWriteCheck(req: ApiRequest, ctx: ApiContext, serviceId: string): void {
  const service = serviceId ? ctx.local.services.get(serviceId)?.def.Service : undefined
  if (service !== undefined) must(req, 'service', service, 'write')
  else must(req, 'node', ctx.nodeName, 'write')
}

function checkVisible(req: ApiRequest, ctx: ApiContext, c: LocalCheck): boolean {
  const service = c.spec.record.ServiceID ? ctx.local.services.get(c.spec.record.ServiceID)?.def.Service : undefined
  return service !== undefined ? may(req, 'service', service, 'read') : may(req, 'node', ctx.nodeName, 'read')
}

function servicesMap(ctx: ApiContext, req: ApiRequest): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const id of [...ctx.local.services.keys()].sort()) {
    const s = ctx.local.services.get(id)!
    if (may(req, 'service', s.def.Service, 'read')) out[id] = serviceView(ctx, s)
  }
  return out
}

/** A local check as /v1/agent/checks shows it. */
export function localCheckJson(ctx: ApiContext, c: LocalCheck): Record<string, unknown> {
  const svc = c.spec.record.ServiceID ? ctx.local.services.get(c.spec.record.ServiceID) : undefined
  return {
    Node: ctx.nodeName,
    CheckID: c.spec.record.CheckID,
    Name: c.spec.record.Name,
    Status: c.status,
    Notes: c.spec.record.Notes,
    Output: c.output,
    ServiceID: c.spec.record.ServiceID,
    ServiceName: svc?.def.Service ?? '',
    ServiceTags: svc?.def.Tags ?? [],
    Type: c.spec.record.Type,
    Interval: c.spec.record.Interval,
    Timeout: c.spec.record.Timeout,
    ExposedPort: 0,
    Definition: c.spec.record.Definition,
    CreateIndex: 0,
    ModifyIndex: 0,
  }
}

function checksMap(ctx: ApiContext, req: ApiRequest): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const id of [...ctx.local.checks.keys()].sort()) {
    const c = ctx.local.checks.get(id)!
    if (checkVisible(req, ctx, c)) out[id] = localCheckJson(ctx, c)
  }
  return out
}

/** GET /v1/agent/service/:id, with hash-based blocking (?hash= and X-Consul-ContentHash). */
async function service(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const id = req.pathArg('/v1/agent/service/', 'service ID')
  const known = ctx.local.services.get(id)
  if (known) must(req, 'service', known.def.Service, 'read')
  const render = (): { body: Record<string, unknown>; hash: string } | undefined => {
    const s = ctx.local.services.get(id)
    if (!s || !may(req, 'service', s.def.Service, 'read')) return undefined
    const view = serviceView(ctx, s)
    const hash = createHash('sha256').update(toJson(view)).digest('hex').slice(0, 16)
    return { body: { ...view, ContentHash: hash }, hash }
  }
  let current = render()
  const wantHash = req.param('hash')
  if (wantHash && current?.hash === wantHash) {
    // ?wait applies to hash blocking as to index blocking (default 5m, max 10m).
    const { waitMs } = blockingParams(req, { defaultWaitMs: ctx.limits.defaultQueryTimeMs, maxWaitMs: ctx.limits.maxQueryTimeMs })
    // The agent's own registrations, through the endpoint layer's blocking loop: index 1 while the
    // hash is the one the caller has, 2 once it changed.
    const reply = await ctx.server.localRead({ minQueryIndex: 1, maxQueryTimeMs: waitMs }, { signal: req.signal }, (ws) => {
      ws?.key(ctx.local.watches, 'local')
      const now = render()
      return { index: now?.hash === wantHash ? 1 : 2, value: now }
    })
    current = reply.value
  }
  if (!current) throw notFound(`unknown service ID: ${id}`)
  return new Reply(200, toJson(current.body, ctx.prettyByDefault || req.has('pretty')), 'application/json', { 'X-Consul-ContentHash': current.hash })
}

/** The aggregated status of a local service: the worst of its checks and the node's. */
function aggregate(ctx: ApiContext, serviceId: string): { status: string; checks: Array<Record<string, unknown>> } {
  const checks = [...ctx.local.checks.values()].filter((c) => c.spec.record.ServiceID === serviceId || c.spec.record.ServiceID === '')
  let status = 'passing'
  for (const c of checks) {
    const s = c.spec.record.Type === 'maintenance' ? 'maintenance' : c.status
    if ((STATUS_RANK[s] ?? 0) > (STATUS_RANK[status] ?? 0)) status = s
  }
  return { status, checks: checks.map((c) => localCheckJson(ctx, c)) }
}

const HTTP_STATUS: Record<string, number> = { passing: 200, warning: 429, critical: 503, maintenance: 503 }

async function healthById(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const id = req.pathArg('/v1/agent/health/service/id/', 'service ID')
  const svc = ctx.local.services.get(id)
  if (!svc) return new Reply(404, `ServiceId ${id} not found`, 'text/plain')
  must(req, 'service', svc.def.Service, 'read')
  const { status, checks } = aggregate(ctx, id)
  if (req.param('format') === 'text') return new Reply(HTTP_STATUS[status]!, status, 'text/plain')
  return new Reply(HTTP_STATUS[status]!, toJson({ AggregatedStatus: status, Service: serviceView(ctx, svc), Checks: checks }, ctx.prettyByDefault || req.has('pretty')))
}

async function healthByName(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const name = req.pathArg('/v1/agent/health/service/name/', 'service name')
  must(req, 'service', name, 'read')
  const services = [...ctx.local.services.values()].filter((s) => s.def.Service === name)
  if (services.length === 0) return new Reply(404, `ServiceName ${name} Not Found`, 'text/plain')
  let worst = 'passing'
  const entries = services.map((s) => {
    const { status, checks } = aggregate(ctx, s.def.ID)
    if ((STATUS_RANK[status] ?? 0) > (STATUS_RANK[worst] ?? 0)) worst = status
    return { AggregatedStatus: status, Service: serviceView(ctx, s), Checks: checks }
  })
  if (req.param('format') === 'text') return new Reply(HTTP_STATUS[worst]!, worst, 'text/plain')
  return new Reply(HTTP_STATUS[worst]!, toJson(entries, ctx.prettyByDefault || req.has('pretty')))
}

async function registerService(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  if (req.path !== '/v1/agent/service/register') throw badRequest('Invalid URL path')
  const body = await readJsonBody(req)
  if (body === null) throw badRequest('Request decode failed: empty body')
  const def = parseService(body)
  must(req, 'service', def.Service, 'write')
  // Replacing an instance registered under another name takes that name's write too.
  const existing = ctx.local.services.get(def.ID)
  if (existing && existing.def.Service !== def.Service) must(req, 'service', existing.def.Service, 'write')
  // Anti-entropy syncs the service (and its checks) with the token it was registered with, as Consul does.
  def.token ||= req.token
  for (const c of def.checks) c.token ||= def.token
  ctx.agentOps.registerService(def, { replaceExistingChecks: boolParam(req, 'replace-existing-checks') })
  return undefined
}

async function deregisterService(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const id = req.pathArg('/v1/agent/service/deregister/', 'service ID')
  const existing = ctx.local.services.get(id)
  if (existing) must(req, 'service', existing.def.Service, 'write')
  if (!ctx.agentOps.deregisterService(id)) throw notFound(`Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`)
  return undefined
}

async function registerCheck(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const body = await readJsonBody(req)
  if (body === null) throw badRequest('Request decode failed: empty body')
  const spec = parseCheck(body)
  mustWriteCheck(req, ctx, spec.record.ServiceID)
  spec.token ||= req.token
  ctx.agentOps.registerCheck(spec)
  return undefined
}

async function deregisterCheck(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const id = req.pathArg('/v1/agent/check/deregister/', 'check ID')
  const check = ctx.local.checks.get(id)
  if (check) mustWriteCheck(req, ctx, check.spec.record.ServiceID)
  if (!ctx.agentOps.deregisterCheck(id)) throw notFound(`Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`)
  return undefined
}

async function ttl(req: ApiRequest, ctx: ApiContext, prefix: string, status: CheckStatus, note: string): Promise<unknown> {
  const id = req.pathArg(prefix, 'check ID')
  const check = ctx.local.checks.get(id)
  if (check) mustWriteCheck(req, ctx, check.spec.record.ServiceID)
  ctx.agentOps.ttlUpdate(id, status, note)
  return undefined
}

async function ttlUpdate(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const id = req.pathArg('/v1/agent/check/update/', 'check ID')
  const check = ctx.local.checks.get(id)
  if (check) mustWriteCheck(req, ctx, check.spec.record.ServiceID)
  const body = await readJsonBody(req)
  const status = field(body, 'Status')
  if (status !== 'passing' && status !== 'warning' && status !== 'critical') throw badRequest(`Invalid check status: "${String(status ?? '')}"`)
  ctx.agentOps.ttlUpdate(id, status, String(field(body, 'Output') ?? ''))
  return undefined
}

function maintenanceParams(req: ApiRequest): { enable: boolean; reason: string } {
  const enable = req.param('enable')
  if (enable === undefined || enable === '') throw badRequest('Missing value for enable')
  if (!['true', 'false'].includes(enable)) throw badRequest(`Invalid value for enable: "${enable}"`)
  return { enable: enable === 'true', reason: req.param('reason') ?? '' }
}

async function nodeMaintenance(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const { enable, reason } = maintenanceParams(req)
  ctx.agentOps.nodeMaintenance(enable, reason)
  return undefined
}

async function serviceMaintenance(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const id = req.pathArg('/v1/agent/service/maintenance/', 'service ID')
  const { enable, reason } = maintenanceParams(req)
  const existing = ctx.local.services.get(id)
  if (existing) must(req, 'service', existing.def.Service, 'write')
  if (!ctx.agentOps.serviceMaintenance(id, enable, reason)) throw notFound(`No service registered with ID "${id}"`)
  return undefined
}

