/**
 * ACL policy rules: the `Rules` text of a policy (HCL, or the same thing as JSON) read into a
 * plain structure, validated as Consul validates it. Pure: no state, no clock.
 *
 *   key_prefix "web/" { policy = "write" }     service "db" { policy = "read" }     operator = "read"
 *
 * The legacy syntax (tokens made before Consul 1.4, and the legacy API) has no `_prefix`
 * resources: its `key "web/"` matched by prefix, so it is read as `key_prefix "web/"`.
 */
import { HclError, parseHcl } from '../lib/hcl.js'
import { AclRulesError } from './errors.js'

/** An access level as rules write it. `list` is only for keys (recursive reads). */
export type Access = 'deny' | 'read' | 'list' | 'write'
/** Resources whose rules name a segment (a key, a service, a node ...), exactly or by prefix. */
export const SEGMENT_RESOURCES = ['agent', 'event', 'key', 'node', 'query', 'service', 'session'] as const
export type SegmentResource = (typeof SEGMENT_RESOURCES)[number]
/** Resources with one rule each, no segment. */
export const FLAT_RESOURCES = ['acl', 'keyring', 'mesh', 'operator', 'peering'] as const
export type FlatResource = (typeof FLAT_RESOURCES)[number]
export type Resource = SegmentResource | FlatResource

export interface SegmentRules {
  exact: Map<string, Access>
  prefix: Map<string, Access>
}

export interface PolicyRules {
  segments: Record<SegmentResource, SegmentRules>
  flat: Partial<Record<FlatResource, Access>>
}

export type RulesSyntax = 'current' | 'legacy'

const ACCESS: ReadonlySet<string> = new Set(['deny', 'read', 'write'])
const KEY_ACCESS: ReadonlySet<string> = new Set(['deny', 'read', 'write', 'list'])
const SEGMENT_SET: ReadonlySet<string> = new Set(SEGMENT_RESOURCES)
const FLAT_SET: ReadonlySet<string> = new Set(FLAT_RESOURCES)

export function emptyRules(): PolicyRules {
  const segments = {} as Record<SegmentResource, SegmentRules>
  for (const r of SEGMENT_RESOURCES) segments[r] = { exact: new Map(), prefix: new Map() }
  return { segments, flat: {} }
}

/** How strongly an access level holds when policies meet: deny first, then write, list, read. */
const PRECEDENCE: Record<Access, number> = { deny: 4, write: 3, list: 2, read: 1 }

/** The level that wins when two policies (or two rules of one) name the same thing. */
export function stronger(a: Access | undefined, b: Access): Access {
  return a === undefined || PRECEDENCE[b] > PRECEDENCE[a] ? b : a
}

function setRule(map: Map<string, Access>, name: string, access: Access): void {
  map.set(name, stronger(map.get(name), access))
}

/** All the rules of `many` in one structure, each name's level the strongest any of them gives. */
export function mergeRules(many: readonly PolicyRules[]): PolicyRules {
  const out = emptyRules()
  for (const rules of many) {
    for (const r of SEGMENT_RESOURCES) {
      for (const [name, access] of rules.segments[r].exact) setRule(out.segments[r].exact, name, access)
      for (const [name, access] of rules.segments[r].prefix) setRule(out.segments[r].prefix, name, access)
    }
    for (const r of FLAT_RESOURCES) {
      const access = rules.flat[r]
      if (access !== undefined) out.flat[r] = stronger(out.flat[r], access)
    }
  }
  return out
}

/**
 * Reads a policy's `Rules`. Throws AclRulesError with Consul's wording and, for HCL, the line of
 * the offending rule. Empty text is a policy with no rules.
 */
export function parseRules(text: string, syntax: RulesSyntax = 'current'): PolicyRules {
  const rules = emptyRules()
  if (text.trim() === '') return rules
  let doc: unknown
  try {
    doc = text.trimStart().startsWith('{') ? JSON.parse(text) : parseHcl(text)
  } catch (err) {
    if (err instanceof HclError || err instanceof SyntaxError) throw new AclRulesError(`Failed to parse ACL rules: ${err.message}`)
    throw err
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new AclRulesError('Failed to parse ACL rules: expected an object of rules')
  const where = (resource: string, label?: string): string => locate(text, resource, label)
  for (const [field, value] of Object.entries(doc as Record<string, unknown>)) {
    const { resource, prefix } = resourceOf(field, syntax, where(field))
    if (FLAT_SET.has(resource)) {
      const policy = flatPolicy(value)
      if (policy === undefined || !ACCESS.has(policy)) throw new AclRulesError(`Invalid ${field} policy: ${JSON.stringify(policy ?? value)}${where(field)}`)
      rules.flat[resource as FlatResource] = stronger(rules.flat[resource as FlatResource], policy as Access)
      continue
    }
    const seg = rules.segments[resource as SegmentResource]
    for (const [label, body] of labelled(value, field, (label) => where(field, label))) {
      const at = where(field, label)
      const policy = body.policy
      const allowed = resource === 'key' ? KEY_ACCESS : ACCESS
      if (typeof policy !== 'string' || !allowed.has(policy)) {
        throw new AclRulesError(`Invalid ${field} policy: ${JSON.stringify(label)} has policy ${JSON.stringify(policy ?? '')}, want ${[...allowed].join(', ')}${at}`)
      }
      if (resource === 'service' && body.intentions !== undefined && (typeof body.intentions !== 'string' || !ACCESS.has(body.intentions))) {
        throw new AclRulesError(`Invalid ${field} intentions policy: ${JSON.stringify(label)} has intentions ${JSON.stringify(body.intentions)}${at}`)
      }
      setRule(prefix ? seg.prefix : seg.exact, label, policy as Access)
    }
  }
  return rules
}

function resourceOf(field: string, syntax: RulesSyntax, at: string): { resource: Resource; prefix: boolean } {
  const prefixed = field.endsWith('_prefix')
  const base = prefixed ? field.slice(0, -'_prefix'.length) : field
  if (syntax === 'legacy') {
    // Legacy rules had neither prefix resources nor acl, mesh or peering rules.
    if (!prefixed && SEGMENT_SET.has(base)) return { resource: base as SegmentResource, prefix: true }
    if (base === 'keyring' || base === 'operator') return { resource: base, prefix: false }
  } else if (SEGMENT_SET.has(base)) {
    return { resource: base as SegmentResource, prefix: prefixed }
  } else if (!prefixed && FLAT_SET.has(base)) {
    return { resource: base as FlatResource, prefix: false }
  }
  throw new AclRulesError(`Unknown ACL resource ${JSON.stringify(field)}${syntax === 'legacy' ? ' in legacy rules' : ''}${at}`)
}

/** `operator = "read"`, or `operator { policy = "read" }` as some tools write it. */
function flatPolicy(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  const body = Array.isArray(value) && value.length === 1 ? value[0] : value
  if (typeof body === 'object' && body !== null && typeof (body as { policy?: unknown }).policy === 'string') return (body as { policy: string }).policy
  return undefined
}

/**
 * The labelled blocks of one resource: HCL gives `[{label: [{...}]}, ...]`, JSON `{label: {...}}`
 * (or a list of such objects).
 */
function labelled(value: unknown, field: string, where: (label?: string) => string): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = []
  const objects = Array.isArray(value) ? value : [value]
  for (const o of objects) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new AclRulesError(`Invalid ${field} rule: want ${field} "<name>" { policy = "..." }${where()}`)
    for (const [label, raw] of Object.entries(o as Record<string, unknown>)) {
      const bodies = Array.isArray(raw) ? raw : [raw]
      for (const body of bodies) {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new AclRulesError(`Invalid ${field} rule for ${JSON.stringify(label)}: want { policy = "..." }${where(label)}`)
        }
        out.push([label, body as Record<string, unknown>])
      }
    }
  }
  return out
}

/** " (line N)" for the first line naming the resource (and label); "" when it cannot be found (JSON on one line). */
function locate(text: string, resource: string, label?: string): string {
  if (text === '') return ''
  const lines = text.split('\n')
  const quoted = label === undefined ? undefined : JSON.stringify(label)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const at = line.search(new RegExp(`(^|[\\s{,"])${resource.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?(\\s|=|:|$|\\{)`))
    if (at < 0) continue
    if (quoted !== undefined && !line.includes(quoted, at)) continue
    return lines.length > 1 ? ` (line ${i + 1})` : ''
  }
  return ''
}

/** The rules a token's service identity stands for, as Consul synthesises them. */
export function serviceIdentityRules(service: string): PolicyRules {
  const rules = emptyRules()
  rules.segments.service.exact.set(service, 'write')
  rules.segments.service.exact.set(`${service}-sidecar-proxy`, 'write')
  rules.segments.service.prefix.set('', 'read')
  rules.segments.node.prefix.set('', 'read')
  return rules
}

/** The rules a token's node identity stands for. */
export function nodeIdentityRules(node: string): PolicyRules {
  const rules = emptyRules()
  rules.segments.node.exact.set(node, 'write')
  rules.segments.service.prefix.set('', 'read')
  return rules
}

/** Rules as data that travels (server RPC, msgpack): Maps as entry lists. */
export interface WireRules {
  segments: Partial<Record<SegmentResource, { exact: Array<[string, Access]>; prefix: Array<[string, Access]> }>>
  flat: Partial<Record<FlatResource, Access>>
}

export function rulesToWire(rules: PolicyRules): WireRules {
  const segments: WireRules['segments'] = {}
  for (const r of SEGMENT_RESOURCES) {
    const s = rules.segments[r]
    if (s.exact.size || s.prefix.size) segments[r] = { exact: [...s.exact], prefix: [...s.prefix] }
  }
  return { segments, flat: { ...rules.flat } }
}

/** Back from the wire, keeping only well-formed rules (a newer server's extra resources are ignored). */
export function rulesFromWire(wire: WireRules): PolicyRules {
  const rules = emptyRules()
  const ok = (a: unknown): a is Access => a === 'deny' || a === 'read' || a === 'list' || a === 'write'
  for (const r of SEGMENT_RESOURCES) {
    const s = wire.segments?.[r]
    for (const [name, access] of s?.exact ?? []) if (typeof name === 'string' && ok(access)) rules.segments[r].exact.set(name, access)
    for (const [name, access] of s?.prefix ?? []) if (typeof name === 'string' && ok(access)) rules.segments[r].prefix.set(name, access)
  }
  for (const r of FLAT_RESOURCES) {
    const access = wire.flat?.[r]
    if (ok(access)) rules.flat[r] = access
  }
  return rules
}
