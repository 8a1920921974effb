/**
 * Where the endpoint layer asks "who is this, and may they": one per server, over the replicated
 * ACL tables. With ACLs off every caller may do everything, as today.
 */
import { Authorizer, type Need } from '../acl/authorizer.js'
import { AclNotFoundError, denied } from '../acl/errors.js'

export { denied }
import { randomUUID } from 'node:crypto'
import { AclResolver, isExpired, sameSecret, type Identity } from '../acl/resolver.js'
import type { Resource } from '../acl/rules.js'
import { ANONYMOUS_TOKEN_ACCESSOR, ANONYMOUS_TOKEN_SECRET, GLOBAL_MANAGEMENT_POLICY_ID, type AclToken } from '../state/acl.js'
import type { StateStore } from '../state/store.js'

export interface AclSettings {
  enabled: boolean
  defaultPolicy: 'allow' | 'deny'
  /** The token a request without one runs as (acl.tokens.default); the anonymous token when empty. */
  defaultToken?: string
  /** acl.enable_key_list_policy: a recursive KV read needs `list` on its prefix. */
  enableKeyListPolicy?: boolean
}

export const ACL_DISABLED: AclSettings = { enabled: false, defaultPolicy: 'allow' }

const EVERYONE: Identity = { accessor: '', authorizer: Authorizer.manage() }

export class AclGate {
  readonly #resolver: AclResolver | undefined
  /**
   * The secret this server's own duties call its endpoints with (the consul service, members in
   * the catalog): made at start, never stored or sent, so it only ever works in this process.
   */
  readonly internal = randomUUID()

  constructor(
    state: StateStore,
    readonly settings: AclSettings,
    datacenter: string,
    readonly now: () => number,
  ) {
    if (settings.enabled) {
      this.#resolver = new AclResolver(
        {
          get index() {
            return state.acl.index
          },
          tokenBySecret: (s) => state.acl.tokenBySecret(s),
          policy: (id) => state.acl.policy(id),
          role: (id) => state.acl.role(id),
        },
        { defaultPolicy: settings.defaultPolicy, datacenter, now, managementPolicyId: GLOBAL_MANAGEMENT_POLICY_ID },
      )
    }
  }

  /** Whether a token is past its ExpirationTime (it then counts as deleted). */
  expired(token: AclToken): boolean {
    return isExpired(token, this.now)
  }

  get enabled(): boolean {
    return this.settings.enabled
  }

  /**
   * The caller of a request carrying `token`. No token: the agent's default token, else the
   * anonymous token; before the leader has made the anonymous token, the default policy alone.
   */
  identity(token: string | undefined): Identity {
    const resolver = this.#resolver
    if (!resolver) return EVERYONE
    if (token !== undefined && sameSecret(token, this.internal)) return EVERYONE
    const secret = token || this.settings.defaultToken || ANONYMOUS_TOKEN_SECRET
    try {
      return resolver.resolve(secret)
    } catch (err) {
      if (err instanceof AclNotFoundError && secret === ANONYMOUS_TOKEN_SECRET) {
        return { accessor: ANONYMOUS_TOKEN_ACCESSOR, authorizer: new Authorizer(undefined, this.settings.defaultPolicy) }
      }
      throw err
    }
  }

  /** Throws PermissionDeniedError unless `who` may `need` on `resource` `name`. */
  require(who: Identity, resource: Resource, name: string, need: Need): void {
    if (!who.authorizer.allowed(resource, name, need)) throw denied(who, resource, name, need)
  }

  /**
   * The items `who` may read (`need`, read by default) and whether any were left out. A management
   * caller (everyone, with ACLs off) gets the list itself.
   */
  filter<T>(who: Identity, resource: Resource, items: T[], nameOf: (item: T) => string, need: Need = 'read'): { items: T[]; filtered: boolean } {
    const a = who.authorizer
    if (a.isManagement) return { items, filtered: false }
    const kept = items.filter((item) => a.allowed(resource, nameOf(item), need))
    return { items: kept, filtered: kept.length !== items.length }
  }

  /** The items `who` may see by `test`, and whether any were left out (management: all of them, uncopied). */
  keep<T>(who: Identity, items: T[], test: (a: Authorizer, item: T) => boolean): { items: T[]; filtered: boolean } {
    const a = who.authorizer
    if (a.isManagement) return { items, filtered: false }
    const kept = items.filter((item) => test(a, item))
    return { items: kept, filtered: kept.length !== items.length }
  }

  /** The caller to filter for: undefined with ACLs off or a management token. Throws for an unknown token. */
  caller(token: string | undefined): Identity | undefined {
    if (!this.settings.enabled) return undefined
    const who = this.identity(token)
    return who.authorizer.isManagement ? undefined : who
  }

  /** `identity` and `require` in one. */
  authorize(token: string | undefined, resource: Resource, name: string, need: Need): Identity {
    const who = this.identity(token)
    this.require(who, resource, name, need)
    return who
  }
}


/** A check is visible to who may read its node and, for a service's check, the service. */
export function checkReadable(a: Authorizer, c: { Node: string; ServiceName: string }): boolean {
  return a.allowed('node', c.Node, 'read') && (c.ServiceName === '' || a.allowed('service', c.ServiceName, 'read'))
}
