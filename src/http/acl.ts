/**
 * /v1/acl/*: bootstrap, tokens, policies, roles, and the legacy API (create, update, destroy,
 * info, clone, list) that Debian's python3-consul and node-consul's acl.legacy still call.
 */
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { checkDatacenter, serverRead, withOptions } from './blocking.js'
import { readJsonBody } from './body.js'
import { HttpError, badRequest } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { AclNotFoundError } from '../acl/errors.js'
import { RejectedError } from '../server/errors.js'
import type { LegacyAcl, PolicyFields, RoleFields, TokenFields } from '../server/acl-endpoint.js'

export function registerAclRoutes(router: Router, ctx: ApiContext): void {
  const s = () => ctx.server.acl
  router.exact('/v1/acl/bootstrap', { PUT: (req) => write(async () => (await s().bootstrap({ datacenter: checkDatacenter(req, ctx) })).value, true) })

  router.exact('/v1/acl/token', { PUT: async (req) => write(async () => (await s().tokenSet({ ...w(req, ctx), create: true, fields: tokenFields(await object(req)) })).value) })
  router.exact('/v1/acl/token/self', { GET: (req) => found(serverRead(req, ctx, (o, c) => s().tokenRead(withOptions({ id: '', self: true }, o), c))) })
  router.exact('/v1/acl/tokens', {
    GET: (req) => serverRead(req, ctx, (o, c) => s().tokenList(withOptions({ policy: req.param('policy') ?? '', role: req.param('role') ?? '' }, o), c)),
  })
  router.prefix('/v1/acl/token/', {
    GET: (req) => found(serverRead(req, ctx, (o, c) => s().tokenRead(withOptions({ id: req.pathArg('/v1/acl/token/', 'accessor ID') }, o), c))),
    PUT: async (req) => {
      const rest = req.pathArg('/v1/acl/token/', 'accessor ID')
      if (rest.endsWith('/clone')) {
        const body = await object(req)
        const description = field(body, 'Description')
        return write(async () => (await s().tokenClone({ ...w(req, ctx), id: rest.slice(0, -'/clone'.length), ...(typeof description === 'string' ? { description } : {}) })).value)
      }
      const fields = tokenFields(await object(req))
      if (fields.AccessorID && fields.AccessorID !== rest) throw badRequest('Token Accessor ID in URL and payload do not match')
      return write(async () => (await s().tokenSet({ ...w(req, ctx), create: false, fields: { ...fields, AccessorID: rest } })).value)
    },
    DELETE: (req) => write(async () => (await s().tokenDelete({ ...w(req, ctx), id: req.pathArg('/v1/acl/token/', 'accessor ID') })).value),
  })

  router.exact('/v1/acl/policy', { PUT: async (req) => write(async () => (await s().policySet({ ...w(req, ctx), create: true, policy: policyFields(await object(req)) })).value) })
  router.exact('/v1/acl/policies', { GET: (req) => serverRead(req, ctx, (o, c) => s().policyList(o, c)) })
  router.prefix('/v1/acl/policy/name/', {
    GET: (req) => found(serverRead(req, ctx, (o, c) => s().policyRead(withOptions({ id: req.pathArg('/v1/acl/policy/name/', 'policy name'), byName: true }, o), c))),
  })
  router.prefix('/v1/acl/policy/', {
    GET: (req) => found(serverRead(req, ctx, (o, c) => s().policyRead(withOptions({ id: req.pathArg('/v1/acl/policy/', 'policy ID') }, o), c))),
    PUT: async (req) => {
      const id = req.pathArg('/v1/acl/policy/', 'policy ID')
      const fields = policyFields(await object(req))
      if (fields.ID && fields.ID !== id) throw badRequest('Policy ID in URL and payload do not match')
      return write(async () => (await s().policySet({ ...w(req, ctx), create: false, policy: { ...fields, ID: id } })).value)
    },
    DELETE: (req) => write(async () => (await s().policyDelete({ ...w(req, ctx), id: req.pathArg('/v1/acl/policy/', 'policy ID') })).value),
  })

  router.exact('/v1/acl/role', { PUT: async (req) => write(async () => (await s().roleSet({ ...w(req, ctx), create: true, role: roleFields(await object(req)) })).value) })
  router.exact('/v1/acl/roles', { GET: (req) => serverRead(req, ctx, (o, c) => s().roleList(withOptions({ policy: req.param('policy') ?? '' }, o), c)) })
  router.prefix('/v1/acl/role/name/', {
    GET: (req) => found(serverRead(req, ctx, (o, c) => s().roleRead(withOptions({ id: req.pathArg('/v1/acl/role/name/', 'role name'), byName: true }, o), c))),
  })
  router.prefix('/v1/acl/role/', {
    GET: (req) => found(serverRead(req, ctx, (o, c) => s().roleRead(withOptions({ id: req.pathArg('/v1/acl/role/', 'role ID') }, o), c))),
    PUT: async (req) => {
      const id = req.pathArg('/v1/acl/role/', 'role ID')
      const fields = roleFields(await object(req))
      if (fields.ID && fields.ID !== id) throw badRequest('Role ID in URL and payload do not match')
      return write(async () => (await s().roleSet({ ...w(req, ctx), create: false, role: { ...fields, ID: id } })).value)
    },
    DELETE: (req) => write(async () => (await s().roleDelete({ ...w(req, ctx), id: req.pathArg('/v1/acl/role/', 'role ID') })).value),
  })

  // ---- legacy ----
  router.exact('/v1/acl/create', { PUT: async (req) => legacySet(req, ctx, true) })
  router.exact('/v1/acl/update', { PUT: async (req) => legacySet(req, ctx, false) })
  router.prefix('/v1/acl/destroy/', {
    PUT: (req) => write(async () => {
      await s().legacyApply({ ...w(req, ctx), op: 'delete', id: req.pathArg('/v1/acl/destroy/', 'ACL ID') })
      return true
    }),
  })
  router.prefix('/v1/acl/info/', { GET: (req) => serverRead(req, ctx, (o, c) => s().legacyGet(withOptions({ id: req.pathArg('/v1/acl/info/', 'ACL ID') }, o), c)) })
  router.prefix('/v1/acl/clone/', {
    PUT: (req) => write(async () => {
      const id = req.pathArg('/v1/acl/clone/', 'ACL ID')
      const { value } = await s().legacyGet({ id, token: req.token, consistency: 'consistent' })
      const source: LegacyAcl | undefined = value[0]
      if (!source) throw new AclNotFoundError()
      const { value: ID } = await s().legacyApply({ ...w(req, ctx), op: 'set', create: true, acl: { Name: source.Name, Type: source.Type, Rules: source.Rules } })
      return { ID }
    }),
  })
  router.exact('/v1/acl/list', { GET: (req) => serverRead(req, ctx, (o, c) => s().legacyList(o, c)) })
}

async function legacySet(req: ApiRequest, ctx: ApiContext, create: boolean): Promise<unknown> {
  const body = await object(req)
  const type = field(body, 'Type')
  const acl: Partial<LegacyAcl> = {
    ...(typeof field(body, 'ID') === 'string' && field(body, 'ID') !== '' ? { ID: field(body, 'ID') as string } : {}),
    Name: str(field(body, 'Name')),
    Type: (typeof type === 'string' && type !== '' ? type : 'client') as LegacyAcl['Type'],
    Rules: str(field(body, 'Rules')),
  }
  return write(async () => ({ ID: (await ctx.server.acl.legacyApply({ ...w(req, ctx), op: 'set', create, acl })).value }))
}

const w = (req: ApiRequest, ctx: ApiContext) => ({ datacenter: checkDatacenter(req, ctx), token: req.token })

/** A write's answer; the endpoint's refusals are 400s (bootstrap's, 403, as Consul answers it). */
async function write<T>(run: () => Promise<T>, bootstrap = false): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof RejectedError) throw new HttpError(bootstrap ? 403 : 400, err.message)
    throw err
  }
}

/** Consul answers a read of a token, policy or role that does not exist with 403 `ACL not found`. */
async function found<T>(read: Promise<T | undefined>): Promise<T> {
  const value = await read
  if (value === undefined) throw new AclNotFoundError()
  return value
}

async function object(req: ApiRequest): Promise<Record<string, unknown>> {
  const body = (await readJsonBody(req)) ?? {}
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Request decode failed: expected a JSON object')
  return body as Record<string, unknown>
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const opt = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

function links(v: unknown): Array<{ ID?: string; Name?: string }> | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw badRequest('Request decode failed: a list of links must be an array')
  return v.map((l) => {
    const ID = opt(field(l, 'ID'))
    const Name = opt(field(l, 'Name'))
    return { ...(ID ? { ID } : {}), ...(Name ? { Name } : {}) }
  })
}

function identities<T>(v: unknown, pick: (o: unknown) => T): T[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw badRequest('Request decode failed: identities must be an array')
  return v.map(pick)
}

const serviceIdentity = (o: unknown) => {
  const dcs = field(o, 'Datacenters')
  return { ServiceName: str(field(o, 'ServiceName')), ...(Array.isArray(dcs) ? { Datacenters: dcs.map(String) } : {}) }
}
const nodeIdentity = (o: unknown) => ({ NodeName: str(field(o, 'NodeName')), Datacenter: str(field(o, 'Datacenter')) })

function tokenFields(b: Record<string, unknown>): TokenFields {
  const ttl = field(b, 'ExpirationTTL')
  const f: TokenFields = {}
  const set = <K extends keyof TokenFields>(k: K, v: TokenFields[K] | undefined) => {
    if (v !== undefined) f[k] = v
  }
  set('AccessorID', opt(field(b, 'AccessorID')))
  set('SecretID', opt(field(b, 'SecretID')))
  set('Description', typeof field(b, 'Description') === 'string' ? (field(b, 'Description') as string) : undefined)
  set('Policies', links(field(b, 'Policies')))
  set('Roles', links(field(b, 'Roles')))
  set('ServiceIdentities', identities(field(b, 'ServiceIdentities'), serviceIdentity))
  set('NodeIdentities', identities(field(b, 'NodeIdentities'), nodeIdentity))
  set('Local', typeof field(b, 'Local') === 'boolean' ? (field(b, 'Local') as boolean) : undefined)
  set('ExpirationTime', opt(field(b, 'ExpirationTime')))
  set('ExpirationTTL', typeof ttl === 'string' || typeof ttl === 'number' ? ttl : undefined)
  return f
}

function policyFields(b: Record<string, unknown>): PolicyFields {
  const dcs = field(b, 'Datacenters')
  return {
    ...(opt(field(b, 'ID')) ? { ID: opt(field(b, 'ID')) } : {}),
    Name: str(field(b, 'Name')),
    Description: str(field(b, 'Description')),
    Rules: str(field(b, 'Rules')),
    Datacenters: Array.isArray(dcs) ? dcs.map(String) : [],
  }
}

function roleFields(b: Record<string, unknown>): RoleFields {
  const f: RoleFields = { Name: str(field(b, 'Name')), Description: str(field(b, 'Description')) }
  const id = opt(field(b, 'ID'))
  if (id) f.ID = id
  const p = links(field(b, 'Policies'))
  if (p) f.Policies = p
  const s = identities(field(b, 'ServiceIdentities'), serviceIdentity)
  if (s) f.ServiceIdentities = s
  const n = identities(field(b, 'NodeIdentities'), nodeIdentity)
  if (n) f.NodeIdentities = n
  return f
}
