import btree from 'sorted-btree'
import type { CatalogTables, CheckRecord, NodeRecord, ServiceRecord } from './catalog.js'
import { findPreparedQuery, matchesQuery, type PreparedQuerySource } from './prepared-query.js'

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
export class QueryTables implements PreparedQuerySource {
  queries = new BTree<string, PreparedQuery>()
  index = 0

  /** Changes whenever any query does (DNS answer caching). */
  generation(): number {
    return this.index
  }

  get(id: string): PreparedQuery | undefined {
    return this.queries.get(id)
  }

  list(): PreparedQuery[] {
    return this.queries.valuesArray()
  }

  /**
   * Resolves an ID, a name, or the longest `name_prefix_match` template, rendered for the name:
   * the same rule for /v1/query/:id/execute and DNS `<name>.query`.
   */
  resolve(idOrName: string): PreparedQuery | undefined {
    return (this.queries.get(idOrName) ?? findPreparedQuery(this, idOrName)) as PreparedQuery | undefined
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
export function executeQuery(catalog: CatalogTables, query: PreparedQuery, random: () => number = Math.random): QueryResultEntry[] {
  const q = query.Service
  const ignore = new Set(q.IgnoreCheckIDs)
  const out: QueryResultEntry[] = []
  for (const service of catalog.instances(q.Service)) {
    const node = catalog.node(service.Node)
    if (!node || !matchesQuery(query, service, node.Meta)) continue
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
