/**
 * What the web UI lists (Consul's agent/ui_endpoint.go): one row per service name with its
 * instance and check counts, and every node with its services and checks. Built in one pass over
 * the tables, so 10,000 services cost one walk, not one query each.
 */
import type { Authorizer } from '../acl/authorizer.js'
import { checkReadable } from './acl-gate.js'
import type { CatalogTables, CheckRecord, NodeRecord, ServiceRecord } from '../state/catalog.js'

/** Consul's ServiceSummary as /v1/internal/ui/services answers it. */
export interface ServiceSummary {
  Kind: string
  Name: string
  Datacenter: string
  Tags: string[]
  Nodes: string[]
  ExternalSources: string[]
  InstanceCount: number
  ChecksPassing: number
  ChecksWarning: number
  ChecksCritical: number
}

/** Consul's NodeInfo as /v1/internal/ui/nodes answers it: the node with its services and checks. */
export interface NodeDumpEntry extends NodeRecord {
  Services: ServiceRecord[]
  Checks: CheckRecord[]
}

/** Checks by node, in CheckID order (the tables' own order). */
function checksByNode(tables: CatalogTables, a: Authorizer | undefined): { byNode: Map<string, CheckRecord[]>; filtered: boolean } {
  const out = new Map<string, CheckRecord[]>()
  let filtered = false
  for (const c of tables.checks.values()) {
    if (a && !checkReadable(a, c)) {
      filtered = true
      continue
    }
    let list = out.get(c.Node)
    if (!list) out.set(c.Node, (list = []))
    list.push(c)
  }
  return { byNode: out, filtered }
}

/**
 * Every service name `a` may read (undefined: everything), sorted by name. An instance counts
 * its node's checks and its own, as Consul's summary counts them.
 */
export function summarizeServices(tables: CatalogTables, datacenter: string, a: Authorizer | undefined): { rows: ServiceSummary[]; filtered: boolean } {
  const { byNode: checks, filtered: checksFiltered } = checksByNode(tables, a)
  const byName = new Map<string, ServiceSummary & { tagSet: Set<string>; nodeSet: Set<string>; sources: Set<string> }>()
  let filtered = checksFiltered
  for (const s of tables.services.values()) {
    if (a && !(a.allowed('service', s.Service, 'read') && a.allowed('node', s.Node, 'read'))) {
      filtered = true
      continue
    }
    let row = byName.get(s.Service)
    if (!row) {
      row = { Kind: s.Kind, Name: s.Service, Datacenter: datacenter, Tags: [], Nodes: [], ExternalSources: [], InstanceCount: 0, ChecksPassing: 0, ChecksWarning: 0, ChecksCritical: 0, tagSet: new Set(), nodeSet: new Set(), sources: new Set() }
      byName.set(s.Service, row)
    }
    row.InstanceCount++
    for (const t of s.Tags) row.tagSet.add(t)
    row.nodeSet.add(s.Node)
    const source = s.Meta['external-source']
    if (source) row.sources.add(source)
    for (const c of checks.get(s.Node) ?? []) {
      if (c.ServiceID !== '' && c.ServiceID !== s.ID) continue
      if (c.Status === 'passing') row.ChecksPassing++
      else if (c.Status === 'warning') row.ChecksWarning++
      else row.ChecksCritical++
    }
  }
  const rows = [...byName.values()]
    .sort((x, y) => (x.Name < y.Name ? -1 : x.Name > y.Name ? 1 : 0))
    .map(({ tagSet, nodeSet, sources, ...row }) => ({ ...row, Tags: [...tagSet].sort(), Nodes: [...nodeSet].sort(), ExternalSources: [...sources].sort() }))
  return { rows, filtered }
}

/** Every node `a` may read with the services and checks on it it may read, in node order. */
export function dumpNodes(tables: CatalogTables, a: Authorizer | undefined): { rows: NodeDumpEntry[]; filtered: boolean } {
  const { byNode: checks, filtered: checksFiltered } = checksByNode(tables, a)
  const services = new Map<string, ServiceRecord[]>()
  let filtered = checksFiltered
  for (const s of tables.services.values()) {
    if (a && !a.allowed('service', s.Service, 'read')) {
      filtered = true
      continue
    }
    let list = services.get(s.Node)
    if (!list) services.set(s.Node, (list = []))
    list.push(s)
  }
  const rows: NodeDumpEntry[] = []
  for (const n of tables.nodes.values()) {
    if (a && !a.allowed('node', n.Node, 'read')) {
      filtered = true
      continue
    }
    rows.push({ ...n, Services: services.get(n.Node) ?? [], Checks: checks.get(n.Node) ?? [] })
  }
  return { rows, filtered }
}

/** One value per catalog version (the tables, swapped on a restore, and their highest index). */
export class PerCatalogVersion<T> {
  #last: { tables: CatalogTables; index: number; value: T } | undefined

  get(tables: CatalogTables, index: number, build: () => T): T {
    const last = this.#last
    if (last && last.tables === tables && last.index === index) return last.value
    const value = build()
    this.#last = { tables, index, value }
    return value
  }
}
