/**
 * ACL.* (Consul's agent/consul/acl_endpoint.go): bootstrap, tokens, policies and roles, and the
 * legacy API (create/update/destroy/info/list with client and management types) mapped onto
 * them. The leader picks IDs and times and checks what it can before proposing; the FSM checks
 * what depends on the tables (unique names and secrets, bootstrap once).
 */
import { createHash } from 'node:crypto'
import { AclDisabledError, AclRulesError } from '../acl/errors.js'
import { parseRules, rulesToWire, type WireRules } from '../acl/rules.js'
import {
  ANONYMOUS_TOKEN_ACCESSOR,
  ANONYMOUS_TOKEN_SECRET,
  GLOBAL_MANAGEMENT_POLICY_ID,
  GLOBAL_MANAGEMENT_POLICY_NAME,
  type AclLink,
  type AclPolicy,
  type AclPolicyInput,
  type AclRole,
  type AclRoleInput,
  type AclToken,
  type AclTokenInput,
} from '../state/acl.js'
import { parseDurationMs } from '../lib/duration.js'
import type { AclGate } from './acl-gate.js'
import type { Identity } from '../acl/resolver.js'
import type { ForwardedMethod } from './forward.js'
import type { EndpointCore } from './core.js'
import { RejectedError } from './errors.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

/** What a caller may send for a token (Consul's ACLToken in a TokenSet request). */
export interface TokenFields {
  AccessorID?: string
  SecretID?: string
  Description?: string
  Policies?: Array<{ ID?: string; Name?: string }>
  Roles?: Array<{ ID?: string; Name?: string }>
  ServiceIdentities?: Array<{ ServiceName: string; Datacenters?: string[] }>
  NodeIdentities?: Array<{ NodeName: string; Datacenter: string }>
  Local?: boolean
  ExpirationTime?: string
  /** A Go duration ("1h") or nanoseconds. */
  ExpirationTTL?: string | number
}
export interface PolicyFields {
  ID?: string
  Name?: string
  Description?: string
  Rules?: string
  Datacenters?: string[]
}
export interface RoleFields {
  ID?: string
  Name?: string
  Description?: string
  Policies?: Array<{ ID?: string; Name?: string }>
  ServiceIdentities?: Array<{ ServiceName: string; Datacenters?: string[] }>
  NodeIdentities?: Array<{ NodeName: string; Datacenter: string }>
}
/** A legacy ACL as the pre-1.4 API has it: `ID` is the secret. */
export interface LegacyAcl {
  ID: string
  Name: string
  Type: 'client' | 'management'
  Rules: string
  CreateIndex: number
  ModifyIndex: number
}

export type TokenSetRequest = WriteOptions & { fields: TokenFields; create: boolean }
export type IdRequest = WriteOptions & { id: string }
export type PolicySetRequest = WriteOptions & { policy: PolicyFields; create: boolean }
export type RoleSetRequest = WriteOptions & { role: RoleFields; create: boolean }
export type LegacyApplyRequest = WriteOptions & ({ op: 'set'; acl: Partial<LegacyAcl>; create: boolean } | { op: 'delete'; id: string })
export interface ReadRequest extends QueryOptions {
  /** An accessor, policy or role ID, or (with byName) a name; for `self`, the caller's own token. */
  id: string
  byName?: boolean
  /** TokenRead returns secrets only to callers with acl:write; set when reading one's own token. */
  self?: boolean
}
/** What ACL.ResolveToken answers: enough for a client agent to build the token's authorizer. */
export interface ResolvedToken {
  accessor: string
  management: boolean
  defaultPolicy: 'allow' | 'deny'
  rules?: WireRules
}

export interface TokenListRequest extends QueryOptions {
  policy?: string
  role?: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const NAME = /^[A-Za-z0-9\-_]{1,128}$/
const SERVICE_NAME = /^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$/
const TTL_MIN_MS = 60_000
const TTL_MAX_MS = 24 * 3600_000
export const HIDDEN_SECRET = '<hidden>'

const invalid = (message: string): RejectedError => new RejectedError('rejected', message)

export class AclEndpoint {
  constructor(
    readonly core: EndpointCore,
    readonly gate: AclGate,
    /** The index the operator wrote to data_dir/acl-bootstrap-reset (0: none); read on the leader. */
    readonly resetIndex: () => number = () => 0,
  ) {}

  #on(): void {
    if (!this.gate.enabled) throw new AclDisabledError()
  }

  /**
   * Every ACL write starts here: ACLs must be on, the datacenter known, and the write runs on the
   * leader (the call forwarded there, where the token is then checked against the current tables).
   */
  #forwardWrite<T>(method: ForwardedMethod, req: WriteOptions): Promise<T> | undefined {
    this.#on()
    this.core.checkDatacenter(req.datacenter)
    return this.core.forwardUnlessLeader<T>(method, req)
  }

  /** An ACL read: ACLs on, `acl:read` (unless `self`), then a blocking read of the ACL tables. */
  #read<T>(req: QueryOptions, call: CallContext | undefined, value: (who: Identity) => T, self = false): Promise<QueryReply<T>> {
    this.#on()
    const { state } = this.core
    // In the evaluation: on a follower, after the read barrier (a token made or deleted just before is known).
    return this.core.read(req, call, (ws) => {
      const who = self ? this.gate.identity(req.token) : this.gate.authorize(req.token, 'acl', '', 'read')
      state.watchCatalog(ws, 'acl')
      return { index: state.acl.index, value: value(who) }
    })
  }

  /** PUT /v1/acl/bootstrap: the first management token; refused once done (unless reset). */
  async bootstrap(req: WriteOptions): Promise<WriteReply<AclToken>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<AclToken>>('ACL.BootstrapTokens', req)
    if (forwarded) return forwarded
    const token = this.#newToken({ Description: 'Bootstrap Token (Global Management)', Policies: [{ ID: GLOBAL_MANAGEMENT_POLICY_ID }] })
    const { index, value } = await core.apply<AclToken>({ Type: 'acl', Op: 'bootstrap', Token: token, ResetIndex: this.resetIndex() })
    return { index, value: this.#present(value, true) }
  }

  async tokenSet(req: TokenSetRequest): Promise<WriteReply<AclToken>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<AclToken>>('ACL.TokenSet', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    const f = req.fields
    let base: AclToken | undefined
    if (!req.create) {
      base = f.AccessorID ? core.state.acl.token(f.AccessorID) : undefined
      if (!base) throw invalid(`Cannot find token ${JSON.stringify(f.AccessorID ?? '')}`)
      if (f.SecretID && f.SecretID !== base.SecretID) throw invalid("Changing a token's SecretID is not permitted")
      if (f.Local !== undefined && f.Local !== base.Local) throw invalid('Cannot toggle local mode of ' + base.AccessorID)
      if (f.ExpirationTime !== undefined && f.ExpirationTime !== (base.ExpirationTime ?? '')) throw invalid("Cannot change expiration time of " + base.AccessorID)
    }
    const token = this.#tokenFrom(f, base)
    const { index, value } = await core.apply<AclToken>({ Type: 'acl', Op: 'token-set', Token: token, Create: req.create })
    return { index, value: this.#present(value, true) }
  }

  async tokenClone(req: IdRequest & { description?: string }): Promise<WriteReply<AclToken>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<AclToken>>('ACL.TokenClone', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    const source = core.state.acl.token(req.id)
    if (!source || this.gate.expired(source)) throw invalid(`Cannot find token to clone`)
    if (source.Legacy) throw invalid('Cannot clone a legacy ACL with this endpoint')
    const { AccessorID: _a, SecretID: _s, ...rest } = source
    const token = this.#tokenFrom({ ...rest, Description: req.description ?? source.Description, ExpirationTTL: undefined }, undefined)
    token.ExpirationTime = source.ExpirationTime
    const { index, value } = await core.apply<AclToken>({ Type: 'acl', Op: 'token-set', Token: token, Create: true })
    return { index, value: this.#present(value, true) }
  }

  async tokenDelete(req: IdRequest): Promise<WriteReply<boolean>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<boolean>>('ACL.TokenDelete', req)
    if (forwarded) return forwarded
    const who = this.gate.authorize(req.token, 'acl', '', 'write')
    if (req.id === ANONYMOUS_TOKEN_ACCESSOR) throw invalid('Delete operation not permitted on the anonymous token')
    if (req.id === who.accessor) throw invalid('Deletion of the request\'s authorization token is not permitted')
    const { index } = await core.apply({ Type: 'acl', Op: 'token-delete', AccessorID: req.id })
    return { index, value: true }
  }

  async tokenRead(req: ReadRequest, call?: CallContext): Promise<QueryReply<AclToken | undefined>> {
    const { acl } = this.core.state
    return this.#read(req, call, (who) => {
      const token = acl.token(req.self ? who.accessor : req.id)
      const live = token && !this.gate.expired(token) ? token : undefined
      return live && this.#present(live, req.self === true || who.authorizer.allowed('acl', '', 'write'))
    }, req.self === true)
  }

  async tokenList(req: TokenListRequest, call?: CallContext): Promise<QueryReply<AclToken[]>> {
    const { acl } = this.core.state
    return this.#read(req, call, (who) => {
      const reveal = who.authorizer.allowed('acl', '', 'write')
      return acl.tokens
        .valuesArray()
        .filter((t) => !this.gate.expired(t))
        .filter((t) => !req.policy || t.Policies.some((p) => p.ID === req.policy))
        .filter((t) => !req.role || t.Roles.some((r) => r.ID === req.role))
        .map((t) => this.#present(t, reveal))
    })
  }

  async policySet(req: PolicySetRequest): Promise<WriteReply<AclPolicy>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<AclPolicy>>('ACL.PolicySet', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    const f = req.policy
    const existing = req.create ? undefined : core.state.acl.policy(f.ID ?? '')
    if (!req.create && !existing) throw invalid(`Cannot find policy ${JSON.stringify(f.ID ?? '')}`)
    if (!f.Name || !NAME.test(f.Name)) throw invalid('Invalid Policy: invalid Name')
    if (existing?.ID === GLOBAL_MANAGEMENT_POLICY_ID) {
      if (f.Name !== existing.Name) throw invalid('Changing the Name for the builtin global-management policy is not permitted')
      if ((f.Rules ?? '') !== existing.Rules) throw invalid('Changing the Rules for the builtin global-management policy is not permitted')
    }
    try {
      parseRules(f.Rules ?? '')
    } catch (err) {
      if (err instanceof AclRulesError) throw invalid(`Invalid Policy: ${err.message}`)
      throw err
    }
    const policy: AclPolicyInput = {
      ID: existing?.ID ?? this.#id(f.ID, 'Policy'),
      Name: f.Name,
      Description: f.Description ?? '',
      Rules: f.Rules ?? '',
      Datacenters: f.Datacenters ?? [],
      Hash: '',
    }
    policy.Hash = hash([policy.Name, policy.Description, policy.Rules, policy.Datacenters])
    const { index, value } = await core.apply<AclPolicy>({ Type: 'acl', Op: 'policy-set', Policy: policy })
    return { index, value }
  }

  async policyDelete(req: IdRequest): Promise<WriteReply<boolean>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<boolean>>('ACL.PolicyDelete', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    if (req.id === GLOBAL_MANAGEMENT_POLICY_ID) throw invalid('Delete operation not permitted on the builtin global-management policy')
    const { index } = await core.apply({ Type: 'acl', Op: 'policy-delete', ID: req.id })
    return { index, value: true }
  }

  async policyRead(req: ReadRequest, call?: CallContext): Promise<QueryReply<AclPolicy | undefined>> {
    const { acl } = this.core.state
    return this.#read(req, call, () => (req.byName ? acl.policyByName(req.id) : acl.policy(req.id)))
  }

  /** The list leaves out each policy's Rules, as Consul's does. */
  async policyList(req: QueryOptions, call?: CallContext): Promise<QueryReply<Array<Omit<AclPolicy, 'Rules'>>>> {
    const { acl } = this.core.state
    return this.#read(req, call, () => acl.policies.valuesArray().map(({ Rules: _r, ...rest }) => rest))
  }

  async roleSet(req: RoleSetRequest): Promise<WriteReply<AclRole>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<AclRole>>('ACL.RoleSet', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    const f = req.role
    const existing = req.create ? undefined : core.state.acl.role(f.ID ?? '')
    if (!req.create && !existing) throw invalid(`Cannot find role ${JSON.stringify(f.ID ?? '')}`)
    if (!f.Name || !NAME.test(f.Name)) throw invalid('Invalid Role: invalid Name')
    const role: AclRoleInput = {
      ID: existing?.ID ?? this.#id(f.ID, 'Role'),
      Name: f.Name,
      Description: f.Description ?? '',
      Policies: this.#policyLinks(f.Policies ?? []),
      ServiceIdentities: this.#serviceIdentities(f.ServiceIdentities ?? []),
      NodeIdentities: this.#nodeIdentities(f.NodeIdentities ?? []),
      Hash: '',
    }
    role.Hash = hash([role.Name, role.Description, role.Policies, role.ServiceIdentities, role.NodeIdentities])
    const { index, value } = await core.apply<AclRole>({ Type: 'acl', Op: 'role-set', Role: role })
    return { index, value: this.#presentRole(value) }
  }

  async roleDelete(req: IdRequest): Promise<WriteReply<boolean>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<boolean>>('ACL.RoleDelete', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    const { index } = await core.apply({ Type: 'acl', Op: 'role-delete', ID: req.id })
    return { index, value: true }
  }

  async roleRead(req: ReadRequest, call?: CallContext): Promise<QueryReply<AclRole | undefined>> {
    const { acl } = this.core.state
    return this.#read(req, call, () => {
      const role = req.byName ? acl.roleByName(req.id) : acl.role(req.id)
      return role && this.#presentRole(role)
    })
  }

  async roleList(req: QueryOptions & { policy?: string }, call?: CallContext): Promise<QueryReply<AclRole[]>> {
    const { acl } = this.core.state
    return this.#read(req, call, () => acl.roles.valuesArray().filter((r) => !req.policy || r.Policies.some((p) => p.ID === req.policy)).map((r) => this.#presentRole(r)))
  }

  /**
   * ACL.ResolveToken: the caller's own token as a client agent needs it to decide its agent
   * endpoints (Consul's clients fetch the token and its policies the same way): who it is, and its
   * merged rules. Needs no ACL rule: it tells a token only about itself.
   */
  async resolveToken(req: QueryOptions): Promise<ResolvedToken> {
    this.#on()
    // A read like any other: on a follower after the barrier, so a token just made or deleted is known.
    const { value } = await this.core.readOnce(req, () => {
      const who = this.gate.identity(req.token)
      const a = who.authorizer
      const resolved: ResolvedToken = { accessor: who.accessor, management: a.isManagement, defaultPolicy: this.gate.settings.defaultPolicy, ...(a.rules ? { rules: rulesToWire(a.rules) } : {}) }
      return { index: this.core.state.acl.index, value: resolved }
    })
    return value
  }

  // ---- the legacy API (ACL.Apply, ACL.Get, ACL.List before Consul 1.4) ---------------------

  /** Creates, updates (by secret) or destroys a legacy ACL; answers its ID (the secret). */
  async legacyApply(req: LegacyApplyRequest): Promise<WriteReply<string>> {
    const { core } = this
    const forwarded = this.#forwardWrite<WriteReply<string>>('ACL.Apply', req)
    if (forwarded) return forwarded
    this.gate.authorize(req.token, 'acl', '', 'write')
    if (req.op === 'delete') {
      const token = core.state.acl.tokenBySecret(req.id)
      if (token?.AccessorID === ANONYMOUS_TOKEN_ACCESSOR) throw invalid('Delete operation not permitted on the anonymous token')
      const { index } = token ? await core.apply({ Type: 'acl', Op: 'token-delete', AccessorID: token.AccessorID }) : { index: core.state.acl.index }
      return { index, value: req.id }
    }
    const a = req.acl
    const type = a.Type ?? 'client'
    if (type !== 'client' && type !== 'management') throw invalid(`Invalid ACL Type`)
    try {
      parseRules(a.Rules ?? '', 'legacy')
    } catch (err) {
      if (err instanceof AclRulesError) throw invalid(`ACL rule compilation failed: ${err.message}`)
      throw err
    }
    const existing = a.ID ? core.state.acl.tokenBySecret(a.ID) : undefined
    if (!req.create && !a.ID) throw invalid('Must specify an ID for an update')
    if (req.create && existing) throw invalid('ACL ID already exists')
    const base: AclTokenInput = existing ?? this.#newToken({ SecretID: a.ID || undefined })
    const token: AclTokenInput = {
      ...base,
      Description: a.Name ?? '',
      Policies: [],
      Roles: [],
      ServiceIdentities: [],
      NodeIdentities: [],
      Legacy: { Type: type, Rules: a.Rules ?? '' },
    }
    token.Hash = hash([token.Description, token.Legacy])
    const { index } = await core.apply({ Type: 'acl', Op: 'token-set', Token: token, Create: !existing })
    return { index, value: token.SecretID }
  }

  /** Needs no rule, as in Consul's legacy API: the ID asked for is the secret, and knowing it is the proof. */
  async legacyGet(req: ReadRequest, call?: CallContext): Promise<QueryReply<LegacyAcl[]>> {
    this.#on()
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      state.watchCatalog(ws, 'acl')
      const t = state.acl.tokenBySecret(req.id)
      return { index: state.acl.index, value: t && !this.gate.expired(t) ? [legacyView(t)] : [] }
    })
  }

  async legacyList(req: QueryOptions, call?: CallContext): Promise<QueryReply<LegacyAcl[]>> {
    this.#on()
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      this.gate.authorize(req.token, 'acl', '', 'write')
      state.watchCatalog(ws, 'acl')
      return { index: state.acl.index, value: state.acl.tokens.valuesArray().filter((t) => !this.gate.expired(t)).map(legacyView) }
    })
  }

  // ---- helpers --------------------------------------------------------------------------

  /** The built-ins the leader creates when ACLs are on (see AclInitDuty). */
  builtins(initialManagement: string | undefined): { Op: 'init'; Policies: AclPolicyInput[]; Tokens: AclTokenInput[] } {
    const policy: AclPolicyInput = {
      ID: GLOBAL_MANAGEMENT_POLICY_ID,
      Name: GLOBAL_MANAGEMENT_POLICY_NAME,
      Description: 'Builtin Policy that grants unlimited access',
      Rules: GLOBAL_MANAGEMENT_RULES,
      Datacenters: [],
      Hash: '',
    }
    policy.Hash = hash([policy.Name, policy.Description, policy.Rules, policy.Datacenters])
    const tokens = [this.#newToken({ AccessorID: ANONYMOUS_TOKEN_ACCESSOR, SecretID: ANONYMOUS_TOKEN_SECRET, Description: 'Anonymous Token' })]
    if (initialManagement) tokens.push(this.#newToken({ SecretID: initialManagement, Description: 'Initial Management Token', Policies: [{ ID: GLOBAL_MANAGEMENT_POLICY_ID }] }))
    return { Op: 'init', Policies: [policy], Tokens: tokens }
  }

  /** A token the server makes itself (bootstrap, built-ins, legacy): its secret may be any string (Consul's legacy IDs were). */
  #newToken(f: TokenFields): AclTokenInput {
    return this.#tokenFrom(f, undefined, true)
  }

  #tokenFrom(f: TokenFields, base: AclToken | undefined, anySecret = false): AclTokenInput {
    const { core } = this
    const now = core.clock.now()
    const token: AclTokenInput = {
      AccessorID: base?.AccessorID ?? this.#id(f.AccessorID, 'Token', 'AccessorID'),
      SecretID: base?.SecretID ?? (anySecret && f.SecretID ? f.SecretID : this.#id(f.SecretID, 'Token', 'SecretID')),
      Description: f.Description ?? '',
      Policies: this.#policyLinks(f.Policies ?? []),
      Roles: this.#roleLinks(f.Roles ?? []),
      ServiceIdentities: this.#serviceIdentities(f.ServiceIdentities ?? []),
      NodeIdentities: this.#nodeIdentities(f.NodeIdentities ?? []),
      Local: base?.Local ?? f.Local ?? false,
      CreateTime: base?.CreateTime ?? new Date(now).toISOString(),
      Hash: '',
    }
    const expires = base ? base.ExpirationTime : this.#expiration(f, now)
    if (expires !== undefined) token.ExpirationTime = expires
    token.Hash = hash([token.Description, token.Policies, token.Roles, token.ServiceIdentities, token.NodeIdentities, token.Local])
    return token
  }

  #expiration(f: TokenFields, now: number): string | undefined {
    if (f.ExpirationTTL !== undefined && f.ExpirationTTL !== 0 && f.ExpirationTTL !== '') {
      if (f.ExpirationTime) throw invalid('Token Expiration TTL and Expiration Time cannot both be set')
      let ms: number
      try {
        ms = typeof f.ExpirationTTL === 'number' ? f.ExpirationTTL / 1e6 : parseDurationMs(f.ExpirationTTL)
      } catch {
        throw invalid(`Invalid Token: invalid ExpirationTTL ${JSON.stringify(f.ExpirationTTL)}`)
      }
      if (ms < TTL_MIN_MS || ms > TTL_MAX_MS) throw invalid(`Token Expiration TTL '${String(f.ExpirationTTL)}' should be between 1m0s and 24h0m0s`)
      return new Date(now + ms).toISOString()
    }
    if (f.ExpirationTime) {
      const at = Date.parse(f.ExpirationTime)
      if (Number.isNaN(at)) throw invalid('Invalid Token: ExpirationTime is not a valid time')
      if (at <= now) throw invalid('ExpirationTime cannot be in the past')
      return new Date(at).toISOString()
    }
    return undefined
  }

  #id(given: string | undefined, what: string, field = 'ID'): string {
    if (!given) return this.core.newId()
    if (!UUID.test(given)) throw invalid(`Invalid ${what}: ${field} is not a valid UUID`)
    return given.toLowerCase()
  }

  #policyLinks(links: ReadonlyArray<{ ID?: string; Name?: string }>): AclLink[] {
    const { acl } = this.core.state
    return dedupe(
      links.map((l) => {
        // The built-in is linked by ID even before the leader has created it (bootstrap, init).
        if (l.ID === GLOBAL_MANAGEMENT_POLICY_ID) return { ID: l.ID, Name: GLOBAL_MANAGEMENT_POLICY_NAME }
        const p = l.ID ? acl.policy(l.ID) : l.Name ? acl.policyByName(l.Name) : undefined
        if (!p) throw invalid(l.ID ? `No such ACL policy with ID ${JSON.stringify(l.ID)}` : `No such ACL policy with name ${JSON.stringify(l.Name ?? '')}`)
        return { ID: p.ID, Name: p.Name }
      }),
    )
  }

  #roleLinks(links: ReadonlyArray<{ ID?: string; Name?: string }>): AclLink[] {
    const { acl } = this.core.state
    return dedupe(
      links.map((l) => {
        const r = l.ID ? acl.role(l.ID) : l.Name ? acl.roleByName(l.Name) : undefined
        if (!r) throw invalid(l.ID ? `No such ACL role with ID ${JSON.stringify(l.ID)}` : `No such ACL role with name ${JSON.stringify(l.Name ?? '')}`)
        return { ID: r.ID, Name: r.Name }
      }),
    )
  }

  #serviceIdentities(ids: ReadonlyArray<{ ServiceName: string; Datacenters?: string[] }>): AclTokenInput['ServiceIdentities'] {
    return ids.map((s) => {
      if (typeof s?.ServiceName !== 'string' || !SERVICE_NAME.test(s.ServiceName)) {
        throw invalid(`Service identity ${JSON.stringify(s?.ServiceName ?? '')} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed`)
      }
      return s.Datacenters?.length ? { ServiceName: s.ServiceName, Datacenters: [...s.Datacenters] } : { ServiceName: s.ServiceName }
    })
  }

  #nodeIdentities(ids: ReadonlyArray<{ NodeName: string; Datacenter: string }>): AclTokenInput['NodeIdentities'] {
    return ids.map((n) => {
      if (typeof n?.NodeName !== 'string' || n.NodeName === '') throw invalid('Node identity is missing the node name field on this token')
      if (typeof n.Datacenter !== 'string' || n.Datacenter === '') throw invalid('Node identity is missing the datacenter field on this token')
      return { NodeName: n.NodeName, Datacenter: n.Datacenter }
    })
  }

  /** A token as callers see it: current link names, and the secret only for those allowed it. */
  #present(t: AclToken, reveal: boolean): AclToken {
    const { acl } = this.core.state
    const out: AclToken = { ...t, Policies: acl.policyLinks(t.Policies), Roles: acl.roleLinks(t.Roles) }
    if (!reveal) out.SecretID = HIDDEN_SECRET
    return out
  }

  #presentRole(r: AclRole): AclRole {
    return { ...r, Policies: this.core.state.acl.policyLinks(r.Policies) }
  }
}

/** The rules the built-in global-management policy shows (its power comes from its ID, not these). */
export const GLOBAL_MANAGEMENT_RULES = `acl = "write"
agent_prefix "" {
  policy = "write"
}
event_prefix "" {
  policy = "write"
}
key_prefix "" {
  policy = "write"
}
keyring = "write"
node_prefix "" {
  policy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
  policy = "write"
}
service_prefix "" {
  policy = "write"
  intentions = "write"
}
session_prefix "" {
  policy = "write"
}`

function legacyView(t: AclToken): LegacyAcl {
  const management = t.Legacy ? t.Legacy.Type === 'management' : t.Policies.some((p) => p.ID === GLOBAL_MANAGEMENT_POLICY_ID)
  return { ID: t.SecretID, Name: t.Description, Type: management ? 'management' : 'client', Rules: t.Legacy?.Rules ?? '', CreateIndex: t.CreateIndex, ModifyIndex: t.ModifyIndex }
}

function dedupe(links: AclLink[]): AclLink[] {
  const seen = new Set<string>()
  return links.filter((l) => (seen.has(l.ID) ? false : (seen.add(l.ID), true)))
}

function hash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64')
}
