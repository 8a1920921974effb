/**
 * From a request's secret to its authorizer: the token, its policies (its own and its roles'),
 * its service and node identities, compiled once and cached until the ACL tables change. Pure
 * over an injected view of the tables and clock; the server's endpoint layer owns one.
 */
import { isExpired, type AclLink, type AclNodeIdentity, type AclPolicy, type AclRole, type AclServiceIdentity, type AclToken } from '../state/acl.js'
import { Authorizer } from './authorizer.js'
import { AclNotFoundError } from './errors.js'
import { mergeRules, nodeIdentityRules, parseRules, serviceIdentityRules, type PolicyRules } from './rules.js'

/** The ACL tables as the resolver reads them. */
export interface AclSource {
  /** Changes whenever any token, policy or role does. */
  readonly index: number
  tokenBySecret(secret: string): AclToken | undefined
  policy(id: string): AclPolicy | undefined
  role(id: string): AclRole | undefined
}

export interface ResolverOptions {
  defaultPolicy: 'allow' | 'deny'
  /** The datacenter tokens are used in: identities and policies scoped to others do not apply. */
  datacenter: string
  /** Wall-clock ms, for token expiry. */
  now: () => number
  /** The policy ID that makes a token a management token. */
  managementPolicyId: string
}

/** Who a request is, and what it may do. */
export interface Identity {
  accessor: string
  authorizer: Authorizer
}

/** Tokens whose compiled authorizer is kept; past this the cache starts over (rarely: tokens are few). */
const CACHE_MAX = 10_000

export class AclResolver {
  readonly #cache = new Map<string, { index: number; identity: Identity }>()
  readonly #rules = new Map<string, { modify: number; rules: PolicyRules }>()
  #cacheIndex = -1

  constructor(
    readonly source: AclSource,
    readonly opts: ResolverOptions,
  ) {}

  /**
   * The identity of `secret`. Throws AclNotFoundError for a secret no live token has. The caller
   * substitutes the anonymous secret (or the agent's default token) for a request without one.
   */
  resolve(secret: string): Identity {
    const { source } = this
    if (this.#cacheIndex !== source.index) {
      this.#cache.clear()
      this.#cacheIndex = source.index
    }
    const token = source.tokenBySecret(secret)
    if (!token || !sameSecret(token.SecretID, secret) || this.expired(token)) throw new AclNotFoundError()
    const hit = this.#cache.get(token.AccessorID)
    if (hit) return hit.identity
    const identity: Identity = { accessor: token.AccessorID, authorizer: this.#compile(token) }
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear()
    this.#cache.set(token.AccessorID, { index: source.index, identity })
    return identity
  }

  expired(token: AclToken): boolean {
    return isExpired(token, this.opts.now)
  }

  #compile(token: AclToken): Authorizer {
    const { opts, source } = this
    if (token.Legacy) {
      if (token.Legacy.Type === 'management') return Authorizer.manage()
      return new Authorizer(this.#parsed(`legacy:${token.AccessorID}`, token.ModifyIndex, token.Legacy.Rules, 'legacy'), opts.defaultPolicy)
    }
    const policyLinks: AclLink[] = [...token.Policies]
    const services: AclServiceIdentity[] = [...token.ServiceIdentities]
    const nodes: AclNodeIdentity[] = [...token.NodeIdentities]
    for (const link of token.Roles) {
      const role = source.role(link.ID)
      if (!role) continue
      policyLinks.push(...role.Policies)
      services.push(...role.ServiceIdentities)
      nodes.push(...role.NodeIdentities)
    }
    const all: PolicyRules[] = []
    for (const link of policyLinks) {
      if (link.ID === opts.managementPolicyId) return Authorizer.manage()
      const policy = source.policy(link.ID)
      if (!policy) continue
      if (policy.Datacenters.length > 0 && !policy.Datacenters.includes(opts.datacenter)) continue
      all.push(this.#parsed(policy.ID, policy.ModifyIndex, policy.Rules, 'current'))
    }
    for (const s of services) if (!s.Datacenters?.length || s.Datacenters.includes(opts.datacenter)) all.push(serviceIdentityRules(s.ServiceName))
    for (const n of nodes) if (n.Datacenter === opts.datacenter) all.push(nodeIdentityRules(n.NodeName))
    return new Authorizer(mergeRules(all), opts.defaultPolicy)
  }

  /** A policy's rules, parsed once per version. Stored rules were checked when written; a bad one grants nothing. */
  #parsed(key: string, modify: number, text: string, syntax: 'current' | 'legacy'): PolicyRules {
    const hit = this.#rules.get(key)
    if (hit && hit.modify === modify) return hit.rules
    let rules: PolicyRules
    try {
      rules = parseRules(text, syntax)
    } catch {
      rules = parseRules('')
    }
    if (this.#rules.size >= CACHE_MAX) this.#rules.clear()
    this.#rules.set(key, { modify, rules })
    return rules
  }
}

export { isExpired }

/**
 * Equality of two secrets in time that depends on their length only (the table lookup is by the
 * secret; this confirms the match). No buffers: it runs on every request.
 */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}
