/**
 * Prepared queries as the DNS interface executes them (`<name-or-id>.query[.<dc>].consul`).
 * Storage and the /v1/query endpoints live elsewhere; the router reads queries through
 * `PreparedQuerySource`, and this file holds the pure parts: which query a DNS label names, and
 * the rendered form of a template query (Consul's `name_prefix_match` templates with
 * `${name.full}`, `${name.prefix}`, `${name.suffix}` and `${match(N)}`).
 */
import type { ServiceRecord } from './catalog.js'

/** The fields of Consul's PreparedQuery the DNS interface uses. */
export interface PreparedQuery {
  ID: string
  Name: string
  Template?: { Type: string; Regexp?: string; RemoveEmptyTags?: boolean }
  Service: {
    Service: string
    OnlyPassing?: boolean
    IgnoreCheckIDs?: string[]
    /** Every tag must be present; `!tag` must be absent. Case-insensitive. */
    Tags?: string[]
    NodeMeta?: Record<string, string>
    ServiceMeta?: Record<string, string>
    /** Where to look when no instance here is healthy. */
    Failover?: { NearestN?: number; Datacenters?: string[] }
  }
  DNS?: { TTL?: string }
}

/** Where prepared queries are read from; `generation` changes whenever any query does. */
export interface PreparedQuerySource {
  generation(): number
  list(): Iterable<PreparedQuery>
}

const TEMPLATE_NAME_PREFIX = 'name_prefix_match'
/** Regexps come from users; a pathological one must not make a lookup slow, so input is bounded. */
const MAX_TEMPLATE_INPUT = 253

/**
 * The query a DNS label names: an exact ID, then an exact name, then the template whose name is
 * the longest prefix of the label (an empty-named template catches everything), rendered for it.
 */
export function findPreparedQuery(source: PreparedQuerySource, label: string): PreparedQuery | undefined {
  const wanted = label.toLowerCase()
  let byName: PreparedQuery | undefined
  let template: PreparedQuery | undefined
  for (const q of source.list()) {
    if (q.ID.toLowerCase() === wanted) return q
    const name = q.Name.toLowerCase()
    if (!q.Template?.Type) {
      if (name === wanted && name !== '') byName = q
      continue
    }
    if (q.Template.Type === TEMPLATE_NAME_PREFIX && wanted.startsWith(name) && (!template || name.length > template.Name.length)) template = q
  }
  if (byName) return byName
  return template ? renderTemplate(template, wanted) : undefined
}

/** A template query with its `${...}` variables filled in for `fullName`. */
export function renderTemplate(q: PreparedQuery, fullName: string): PreparedQuery | undefined {
  const prefix = q.Name.toLowerCase()
  let groups: string[] = []
  if (q.Template?.Regexp) {
    let re: RegExp
    try {
      re = new RegExp(q.Template.Regexp)
    } catch {
      return undefined
    }
    const m = re.exec(fullName.slice(0, MAX_TEMPLATE_INPUT))
    groups = m ? [...m].map((g) => g ?? '') : []
  }
  const fill = (text: string): string =>
    text.replace(/\$\{\s*(name\.full|name\.prefix|name\.suffix|match\((\d+)\))\s*\}/g, (_all, what: string, n: string | undefined) => {
      if (what === 'name.full') return fullName
      if (what === 'name.prefix') return prefix
      if (what === 'name.suffix') return fullName.slice(prefix.length)
      return groups[Number(n)] ?? ''
    })
  const fillMap = (m: Record<string, string> | undefined): Record<string, string> | undefined => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, fill(v)])) : undefined)
  let tags = q.Service.Tags?.map(fill)
  if (q.Template?.RemoveEmptyTags && tags) tags = tags.filter((t) => t !== '' && t !== '!')
  return {
    ...q,
    Service: { ...q.Service, Service: fill(q.Service.Service), Tags: tags, NodeMeta: fillMap(q.Service.NodeMeta), ServiceMeta: fillMap(q.Service.ServiceMeta) },
  }
}

/** Whether an instance passes a query's tag and meta filters (health is filtered by the caller). */
export function matchesQuery(q: PreparedQuery, svc: ServiceRecord, nodeMeta: Record<string, string>): boolean {
  const tags = svc.Tags.map((t) => t.toLowerCase())
  for (const raw of q.Service.Tags ?? []) {
    const t = raw.toLowerCase()
    if (t.startsWith('!') ? tags.includes(t.slice(1)) : !tags.includes(t)) return false
  }
  for (const [k, v] of Object.entries(q.Service.NodeMeta ?? {})) if (nodeMeta[k] !== v) return false
  for (const [k, v] of Object.entries(q.Service.ServiceMeta ?? {})) if (svc.Meta[k] !== v) return false
  return true
}

/**
 * Consul's failover order (queryFailover): the `NearestN` nearest datacenters other than this one,
 * then those of `Datacenters` not yet in; a listed datacenter no one knows is skipped (and named).
 */
export function failoverOrder(failover: { NearestN?: number; Datacenters?: readonly string[] } | undefined, here: string, nearest: readonly string[]): { order: string[]; unknown: string[] } {
  const order: string[] = []
  const unknown: string[] = []
  const n = failover?.NearestN ?? 0
  for (const dc of nearest) {
    if (order.length >= n) break
    if (dc !== here) order.push(dc)
  }
  for (const dc of failover?.Datacenters ?? []) {
    if (!nearest.includes(dc)) unknown.push(dc)
    else if (dc !== here && !order.includes(dc)) order.push(dc)
  }
  return { order, unknown }
}
