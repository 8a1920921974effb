import btree from 'sorted-btree'
import type { CatalogTables, CheckRecord, NodeRecord, ServiceRecord } from './catalog.js'

const BTree = btree.default

/** A prepared query as Consul stores and returns it. */
export interface PreparedQuery {
  ID: string
  Name: string
  Session: string
  Token: string
  Service: {
    Service: string
    Failover: { NearestN: number; Datacenters: string[] }
    IgnoreCheckIDs: string[]
    OnlyPassing: boolean
    Near: string
    Tags: string[]
    NodeMeta: Record<string, string>
    ServiceMeta: Record<string, string>
    Connect: { Enabled: boolean }
  }
  DNS: { TTL: string }
  Template: { Type: string; Regexp: string; RemoveEmptyTags: boolean }
  CreateIndex: number
  ModifyIndex: number
}

export type PreparedQueryInput = Omit<PreparedQuery, 'CreateIndex' | 'ModifyIndex'>

/** The prepared-queries table, by ID, with lookup by name. */
export class QueryTables {
  queries = new BTree<string, PreparedQuery>()
  index = 0

  get(id: string): PreparedQuery | undefined {
    return this.queries.get(id)
  }

  list(): PreparedQuery[] {
    return this.queries.valuesArray()
  }

  /** Resolves an ID or a name, as /v1/query/:id/execute and DNS `<name>.query` do. */
  resolve(idOrName: string): PreparedQuery | undefined {
    return this.queries.get(idOrName) ?? this.list().find((q) => q.Name !== '' && q.Name === idOrName)
  }

  byName(name: string): PreparedQuery | undefined {
    return name ? this.list().find((q) => q.Name === name) : undefined
  }
}

/** One healthy instance a query (or a DNS lookup) returns. */
export interface QueryResultEntry {
  node: NodeRecord
  service: ServiceRecord
  checks: CheckRecord[]
}

/**
 * Runs a prepared query's service part against the catalog: instances of the service that
 * match its tags (`!tag` excludes) and meta, without a critical check (nor a warning one
 * with OnlyPassing), ignoring IgnoreCheckIDs; shuffled, as Consul answers.
 */
export function executeQuery(catalog: CatalogTables, q: PreparedQuery['Service'], random: () => number = Math.random): QueryResultEntry[] {
  const wantTags = q.Tags.filter((t) => !t.startsWith('!')).map((t) => t.toLowerCase())
  const notTags = q.Tags.filter((t) => t.startsWith('!')).map((t) => t.slice(1).toLowerCase())
  const ignore = new Set(q.IgnoreCheckIDs)
  const out: QueryResultEntry[] = []
  for (const service of catalog.instances(q.Service)) {
    const node = catalog.node(service.Node)
    if (!node) continue
    const tags = service.Tags.map((t) => t.toLowerCase())
    if (!wantTags.every((t) => tags.includes(t)) || notTags.some((t) => tags.includes(t))) continue
    if (!Object.entries(q.NodeMeta).every(([k, v]) => node.Meta[k] === v)) continue
    if (!Object.entries(q.ServiceMeta).every(([k, v]) => service.Meta[k] === v)) continue
    const checks = catalog.instanceChecks(service)
    const counted = checks.filter((c) => !ignore.has(c.CheckID))
    if (counted.some((c) => c.Status === 'critical' || (q.OnlyPassing && c.Status === 'warning'))) continue
    out.push({ node, service, checks })
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
