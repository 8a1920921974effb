/**
 * The replicated ACL tables: tokens, policies and roles, as Consul stores them, and the bootstrap
 * mark. Only the FSM changes them (AclTables.apply, in log order). What needs a clock or a random
 * source (IDs, creation and expiration times, hashes) is decided by the leader's endpoint and
 * arrives in the command, so every server applies the same bytes to the same result.
 *
 * Links to policies and roles are stored by ID; their names are filled in when read, and a link
 * to something deleted is dropped then, so renaming or deleting a policy never rewrites tokens.
 */
import btree from 'sorted-btree'

const BTree = btree.default

/** The built-in policy every management token carries, and the token requests without one use. */
export const GLOBAL_MANAGEMENT_POLICY_ID = '00000000-0000-0000-0000-000000000001'
export const GLOBAL_MANAGEMENT_POLICY_NAME = 'global-management'
export const ANONYMOUS_TOKEN_ACCESSOR = '00000000-0000-0000-0000-000000000002'
export const ANONYMOUS_TOKEN_SECRET = 'anonymous'

export interface AclLink {
  ID: string
  Name?: string
}
export interface AclServiceIdentity {
  ServiceName: string
  Datacenters?: string[]
}
export interface AclNodeIdentity {
  NodeName: string
  Datacenter: string
}

/** A token made through the legacy API (or migrated): its type and its legacy-syntax rules. */
export interface AclLegacy {
  Type: 'client' | 'management'
  Rules: string
}

export interface AclToken {
  AccessorID: string
  SecretID: string
  Description: string
  Policies: AclLink[]
  Roles: AclLink[]
  ServiceIdentities: AclServiceIdentity[]
  NodeIdentities: AclNodeIdentity[]
  Local: boolean
  /** RFC 3339, absent for a token that never expires. */
  ExpirationTime?: string
  CreateTime: string
  Hash: string
  Legacy?: AclLegacy
  CreateIndex: number
  ModifyIndex: number
}

export interface AclPolicy {
  ID: string
  Name: string
  Description: string
  Rules: string
  Datacenters: string[]
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export interface AclRole {
  ID: string
  Name: string
  Description: string
  Policies: AclLink[]
  ServiceIdentities: AclServiceIdentity[]
  NodeIdentities: AclNodeIdentity[]
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export type AclTokenInput = Omit<AclToken, 'CreateIndex' | 'ModifyIndex'>
export type AclPolicyInput = Omit<AclPolicy, 'CreateIndex' | 'ModifyIndex'>
export type AclRoleInput = Omit<AclRole, 'CreateIndex' | 'ModifyIndex'>

/** Whether a token is past its ExpirationTime at `nowMs` (it then counts as deleted, and the leader reaps it). */
export function isExpired(token: Pick<AclToken, 'ExpirationTime'>, nowMs: number | (() => number)): boolean {
  // The clock is read only for a token that can expire: every request resolves one.
  return token.ExpirationTime !== undefined && Date.parse(token.ExpirationTime) <= (typeof nowMs === 'number' ? nowMs : nowMs())
}

export type AclCommandOp =
  /** `ResetIndex`: the index the operator wrote to acl-bootstrap-reset (0: none). */
  | { Op: 'bootstrap'; Token: AclTokenInput; ResetIndex: number }
  /** Creates what is missing of the built-ins (the leader proposes it when ACLs are on); never replaces. */
  | { Op: 'init'; Policies: AclPolicyInput[]; Tokens: AclTokenInput[] }
  | { Op: 'token-set'; Token: AclTokenInput; Create: boolean }
  | { Op: 'token-delete'; AccessorID: string }
  /** The leader's reaping of expired tokens: each is deleted if it is still there and still expired at `Now` (ms). */
  | { Op: 'token-reap'; AccessorIDs: string[]; Now: number }
  | { Op: 'policy-set'; Policy: AclPolicyInput }
  | { Op: 'policy-delete'; ID: string }
  | { Op: 'role-set'; Role: AclRoleInput }
  | { Op: 'role-delete'; ID: string }

/** What the FSM answers: the record written (or true), or why not, as Consul words it. */
export type AclApplyResult = { ok: true; value: unknown } | { ok: false; message: string }


export interface AclDump {
  tokens: AclToken[]
  policies: AclPolicy[]
  roles: AclRole[]
  bootstrapIndex: number
  index: number
}

export class AclTables {
  tokens = new BTree<string, AclToken>()
  policies = new BTree<string, AclPolicy>()
  roles = new BTree<string, AclRole>()
  /**
   * Accessor by secret. A Map finds a string by its hash and compares contents only when the hashes
   * are equal, so a guess's lookup time says nothing about how much of it matched (a sha-256 digest
   * as the key cost 6 us a request and bought nothing more); the resolver confirms the match with a
   * constant-time compare.
   */
  readonly #bySecret = new Map<string, string>()
  readonly #policyByName = new Map<string, string>()
  readonly #roleByName = new Map<string, string>()
  /** The index at which ACLs were bootstrapped (0: never). */
  bootstrapIndex = 0
  /** The index of the last change to any ACL table: authorizers compiled before it are stale. */
  index = 0

  static fromDump(d: AclDump | undefined): AclTables {
    const t = new AclTables()
    if (!d) return t
    for (const p of d.policies) t.#putPolicy(p)
    for (const r of d.roles) t.#putRole(r)
    for (const tok of d.tokens) t.#putToken(tok)
    t.bootstrapIndex = d.bootstrapIndex
    t.index = d.index
    return t
  }

  dump(): AclDump {
    return { tokens: this.tokens.valuesArray(), policies: this.policies.valuesArray(), roles: this.roles.valuesArray(), bootstrapIndex: this.bootstrapIndex, index: this.index }
  }

  tokenBySecret(secret: string): AclToken | undefined {
    const accessor = this.#bySecret.get(secret)
    return accessor === undefined ? undefined : this.tokens.get(accessor)
  }

  token(accessor: string): AclToken | undefined {
    return this.tokens.get(accessor)
  }

  policy(id: string): AclPolicy | undefined {
    return this.policies.get(id)
  }

  policyByName(name: string): AclPolicy | undefined {
    const id = this.#policyByName.get(name)
    return id === undefined ? undefined : this.policies.get(id)
  }

  role(id: string): AclRole | undefined {
    return this.roles.get(id)
  }

  roleByName(name: string): AclRole | undefined {
    const id = this.#roleByName.get(name)
    return id === undefined ? undefined : this.roles.get(id)
  }

  /** Links with their current names; links to what no longer exists are left out. */
  policyLinks(links: readonly AclLink[]): AclLink[] {
    return links.flatMap((l) => {
      const p = this.policies.get(l.ID)
      return p ? [{ ID: p.ID, Name: p.Name }] : []
    })
  }

  roleLinks(links: readonly AclLink[]): AclLink[] {
    return links.flatMap((l) => {
      const r = this.roles.get(l.ID)
      return r ? [{ ID: r.ID, Name: r.Name }] : []
    })
  }

  apply(index: number, op: AclCommandOp): AclApplyResult {
    const result = this.#apply(index, op)
    if (result.ok) this.index = index
    return result
  }

  #apply(index: number, op: AclCommandOp): AclApplyResult {
    switch (op.Op) {
      case 'bootstrap': {
        if (this.bootstrapIndex !== 0 && op.ResetIndex !== this.bootstrapIndex) {
          return { ok: false, message: `ACL bootstrap no longer allowed (reset index: ${this.bootstrapIndex})` }
        }
        const token = this.#putToken({ ...op.Token, CreateIndex: index, ModifyIndex: index })
        this.bootstrapIndex = index
        return { ok: true, value: token }
      }
      case 'init': {
        for (const p of op.Policies) if (!this.policies.has(p.ID) && !this.#policyByName.has(p.Name)) this.#putPolicy({ ...p, CreateIndex: index, ModifyIndex: index })
        for (const t of op.Tokens) {
          if (!this.tokens.has(t.AccessorID) && !this.#bySecret.has(t.SecretID)) this.#putToken({ ...t, CreateIndex: index, ModifyIndex: index })
        }
        return { ok: true, value: true }
      }
      case 'token-set': {
        const t = op.Token
        const existing = this.tokens.get(t.AccessorID)
        if (op.Create && existing) return { ok: false, message: 'Invalid Token: AccessorID is already in use' }
        if (!op.Create && !existing) return { ok: false, message: `Cannot find token ${JSON.stringify(t.AccessorID)}` }
        const owner = this.#bySecret.get(t.SecretID)
        if (owner !== undefined && owner !== t.AccessorID) return { ok: false, message: 'Invalid Token: SecretID is already in use' }
        if (existing && existing.SecretID !== t.SecretID) return { ok: false, message: 'Changing a token\'s SecretID is not permitted' }
        return { ok: true, value: this.#putToken({ ...t, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index }) }
      }
      case 'token-delete': {
        const existing = this.tokens.get(op.AccessorID)
        if (!existing) return { ok: true, value: true }
        this.tokens.delete(op.AccessorID)
        this.#bySecret.delete(existing.SecretID)
        return { ok: true, value: true }
      }
      case 'token-reap': {
        // The time is the leader's, in the command: every server deletes the same tokens.
        let reaped = 0
        for (const id of op.AccessorIDs) {
          const existing = this.tokens.get(id)
          if (!existing || !isExpired(existing, op.Now)) continue
          this.tokens.delete(id)
          this.#bySecret.delete(existing.SecretID)
          reaped++
        }
        return { ok: true, value: reaped }
      }
      case 'policy-set': {
        const p = op.Policy
        const named = this.#policyByName.get(p.Name)
        if (named !== undefined && named !== p.ID) return { ok: false, message: `Invalid Policy: A Policy with Name ${JSON.stringify(p.Name)} already exists` }
        const existing = this.policies.get(p.ID)
        if (existing && existing.Name !== p.Name) this.#policyByName.delete(existing.Name)
        return { ok: true, value: this.#putPolicy({ ...p, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index }) }
      }
      case 'policy-delete': {
        const existing = this.policies.get(op.ID)
        if (existing) {
          this.policies.delete(op.ID)
          this.#policyByName.delete(existing.Name)
        }
        return { ok: true, value: true }
      }
      case 'role-set': {
        const r = op.Role
        const named = this.#roleByName.get(r.Name)
        if (named !== undefined && named !== r.ID) return { ok: false, message: `Invalid Role: A Role with Name ${JSON.stringify(r.Name)} already exists` }
        const existing = this.roles.get(r.ID)
        if (existing && existing.Name !== r.Name) this.#roleByName.delete(existing.Name)
        return { ok: true, value: this.#putRole({ ...r, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index }) }
      }
      case 'role-delete': {
        const existing = this.roles.get(op.ID)
        if (existing) {
          this.roles.delete(op.ID)
          this.#roleByName.delete(existing.Name)
        }
        return { ok: true, value: true }
      }
    }
  }

  #putToken(t: AclToken): AclToken {
    this.tokens.set(t.AccessorID, t)
    this.#bySecret.set(t.SecretID, t.AccessorID)
    return t
  }

  #putPolicy(p: AclPolicy): AclPolicy {
    this.policies.set(p.ID, p)
    this.#policyByName.set(p.Name, p.ID)
    return p
  }

  #putRole(r: AclRole): AclRole {
    this.roles.set(r.ID, r)
    this.#roleByName.set(r.Name, r.ID)
    return r
  }
}
