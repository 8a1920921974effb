/**
 * The authorizer: what one token may do, decided from its merged rules, then the agent's default
 * policy. Pure and immutable; compiled once per token (and its policies' versions) and cached by
 * the resolver, so a request pays for lookups only.
 *
 * A rule decides when one matches: the exact rule for the name, else the longest prefix rule.
 * `write` grants read, list and write; `list` grants read and list; `read` grants read; `deny`
 * grants nothing. No matching rule defers to the default policy (or, for a management token,
 * allows).
 */
import { FLAT_RESOURCES, SEGMENT_RESOURCES, type Access, type FlatResource, type PolicyRules, type Resource, type SegmentResource, type SegmentRules } from './rules.js'

/** What a request needs. */
export type Need = 'read' | 'list' | 'write'
export type Decision = 'allow' | 'deny' | 'default'
/** The agent's `acl.default_policy`, or a management token's allow-everything. */
export type Fallback = 'allow' | 'deny' | 'manage'

function enforce(rule: Access | undefined, need: Need): Decision {
  if (rule === undefined) return 'default'
  if (rule === 'write') return 'allow'
  if (rule === 'list') return need === 'write' ? 'deny' : 'allow'
  if (rule === 'read') return need === 'read' ? 'allow' : 'deny'
  return 'deny'
}

/** One resource's rules, ready for lookups: exact by map, prefixes by the lengths that exist. */
class SegmentMatcher {
  readonly #exact: Map<string, Access>
  readonly #prefix: Map<string, Access>
  /** Distinct prefix lengths, longest first: a lookup tries only lengths some rule has. */
  readonly #lengths: number[]

  constructor(rules: SegmentRules) {
    this.#exact = rules.exact
    this.#prefix = rules.prefix
    this.#lengths = [...new Set([...rules.prefix.keys()].map((p) => p.length))].sort((a, b) => b - a)
  }

  get empty(): boolean {
    return this.#exact.size === 0 && this.#prefix.size === 0
  }

  /** The rule that applies to `name`: its exact rule, else the longest prefix rule. */
  lookup(name: string): Access | undefined {
    const exact = this.#exact.get(name)
    if (exact !== undefined) return exact
    return this.longestPrefix(name)
  }

  longestPrefix(name: string): Access | undefined {
    for (const len of this.#lengths) {
      if (len > name.length) continue
      const access = this.#prefix.get(len === name.length ? name : name.slice(0, len))
      if (access !== undefined) return access
    }
    return undefined
  }

  /** Whether some rule at or under `prefix` grants less than write. */
  anyBelowWithout(prefix: string): boolean {
    for (const [name, access] of this.#exact) if (access !== 'write' && name.startsWith(prefix)) return true
    for (const [name, access] of this.#prefix) if (access !== 'write' && name.startsWith(prefix)) return true
    return false
  }
}

export class Authorizer {
  readonly #segments = new Map<SegmentResource, SegmentMatcher>()
  readonly #flat: Partial<Record<FlatResource, Access>>

  /** `rules`: the token's policies merged (mergeRules); none for the anonymous default or management. */
  constructor(
    /** The token's merged rules, kept so a server can send them to a client agent (ACL.ResolveToken). */
    readonly rules: PolicyRules | undefined,
    readonly fallback: Fallback,
  ) {
    this.#flat = { ...(rules?.flat ?? {}) }
    if (rules) {
      for (const r of SEGMENT_RESOURCES) {
        const m = new SegmentMatcher(rules.segments[r])
        if (!m.empty) this.#segments.set(r, m)
      }
    }
  }

  static allowAll(): Authorizer {
    return new Authorizer(undefined, 'allow')
  }

  static denyAll(): Authorizer {
    return new Authorizer(undefined, 'deny')
  }

  static manage(): Authorizer {
    return new Authorizer(undefined, 'manage')
  }

  /** What the token's own rules say, before the default. */
  decide(resource: Resource, name: string, need: Need): Decision {
    if (this.fallback === 'manage') return 'allow'
    const flat = (FLAT_RESOURCES as readonly string[]).includes(resource)
    const rule = flat ? this.#flat[resource as FlatResource] : this.#segments.get(resource as SegmentResource)?.lookup(name)
    return enforce(rule, need)
  }

  /**
   * Whether the token may do this. With no rule, the default policy decides, except for what only
   * management may do without a rule: ACL administration and snapshots (`acl` rules), as Consul's
   * allow-all default still denies them.
   */
  allowed(resource: Resource, name: string, need: Need): boolean {
    const d = this.decide(resource, name, need)
    if (d !== 'default') return d === 'allow'
    if (resource === 'acl') return false
    return this.fallback === 'allow'
  }

  /**
   * Whether every key under `prefix` may be written (a recursive delete): the longest prefix
   * rule over it grants write and no rule under it grants less; no rule at all defers to the default.
   */
  keyWritePrefix(prefix: string): boolean {
    if (this.fallback === 'manage') return true
    const keys = this.#segments.get('key')
    if (!keys) return this.fallback === 'allow'
    const base = keys.longestPrefix(prefix)
    if (base !== undefined && base !== 'write') return false
    if (keys.anyBelowWithout(prefix)) return false
    return base === 'write' || this.fallback === 'allow'
  }

  /** A management token (or one whose `acl = "write"` makes it one for ACL purposes). */
  get isManagement(): boolean {
    return this.fallback === 'manage'
  }
}
