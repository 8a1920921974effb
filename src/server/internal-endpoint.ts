/**
 * Internal.* (Consul's agent/consul/internal_endpoint.go): what the agent's own subsystems read.
 * `nodeInfo` is anti-entropy's view of its node, a blocking read like any other. The DNS
 * interface answers from this server's state synchronously (stale reads, as Consul's DNS with
 * allow_stale) and caches until the catalog changes: `catalogReader`, `onCatalogChange` and
 * `preparedQueries` are that local, read-only view.
 */
import { Authorizer } from '../acl/authorizer.js'
import { checkReadable } from './acl-gate.js'
import type { CatalogDump, CatalogTables, CheckRecord, NodeRecord, ServiceRecord } from '../state/catalog.js'
import { failoverOrder, findPreparedQuery, matchesQuery, type PreparedQuery, type PreparedQuerySource } from '../state/prepared-query.js'
import type { PreparedQuery as StoredQuery } from '../state/queries.js'
import type { EndpointCore } from './core.js'
import { RejectedError } from './errors.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions } from './types.js'
import { dumpNodes, PerCatalogVersion, summarizeServices, type NodeDumpEntry, type ServiceSummary } from './ui-summary.js'

export interface NodeInfoRequest extends QueryOptions {
  node: string
}

/** A node's whole catalog entry (Consul's NodeDump of one node). */
export interface NodeInfo {
  node: NodeRecord | undefined
  services: ServiceRecord[]
  checks: CheckRecord[]
}

/** The whole catalog and the prepared queries: what a client agent's replica is loaded from. */
export interface CatalogSnapshot {
  catalog: CatalogDump
  queries: { records: StoredQuery[]; index: number }
}

/** The catalog as the DNS router reads it (dns/router.ts CatalogView has this shape). */
export interface CatalogReader {
  node(name: string): NodeRecord | undefined
  instances(serviceName: string): ServiceRecord[]
  instanceChecks(svc: ServiceRecord): CheckRecord[]
  /** Every node, in any order. */
  allNodes(): Iterable<NodeRecord>
  /** Every service name that has at least one instance. */
  serviceNames(): Iterable<string>
}

/** What `a` may read of a catalog: nodes by node:read, instances by their node and service, checks as checkReadable. */
export function aclCatalogReader(r: CatalogReader, a: Authorizer): CatalogReader {
  const nodeOk = (n: string): boolean => a.allowed('node', n, 'read')
  return {
    node: (name) => (nodeOk(name) ? r.node(name) : undefined),
    instances: (name) => (a.allowed('service', name, 'read') ? r.instances(name).filter((s) => nodeOk(s.Node)) : []),
    instanceChecks: (svc) => r.instanceChecks(svc).filter((c) => checkReadable(a, c)),
    allNodes: () => [...r.allNodes()].filter((n) => nodeOk(n.Node)),
    serviceNames: () => [...r.serviceNames()].filter((s) => a.allowed('service', s, 'read')),
  }
}

/** `CatalogTables` seen through the read-only interface. */
export function catalogReader(tables: CatalogTables): CatalogReader {
  return {
    node: (name) => tables.node(name),
    instances: (name) => tables.instances(name),
    instanceChecks: (svc) => tables.instanceChecks(svc),
    allNodes: () => tables.nodes.values(),
    serviceNames: () => tables.byName.keys(),
  }
}

/** A user event for this datacenter's agents (Consul's EventFireRequest): its encoded form, gossiped as it is. */
export interface EventFireRequest extends WriteOptions {
  name: string
  payload: Uint8Array
}

/** A keyring operation (Consul's KeyringRequest); `lanOnly`: this datacenter's LAN pool alone (another datacenter's server relayed it). */
export interface KeyringRequest extends WriteOptions {
  op: 'list' | 'install' | 'use' | 'remove'
  key?: string
  lanOnly?: boolean
}

/** One pool's answer (Consul's KeyringResponse): the keys and how many members hold each, who failed and why. */
export interface KeyringPoolReport {
  wan: boolean
  datacenter: string
  numNodes: number
  keys: Record<string, number>
  primaryKeys: Record<string, number>
  errors: Record<string, string>
}

export interface InternalHooks {
  /** Gossips an encoded user event to this datacenter's agents (and delivers it here). */
  userEvent?: (payload: Uint8Array) => void
  /** Runs a keyring operation on the pools the request names (the agent's gossip pools, and other datacenters through it). */
  keyring?: (req: KeyringRequest) => Promise<KeyringPoolReport[]>
}

export class InternalEndpoint {
  constructor(
    readonly core: EndpointCore,
    readonly hooks: InternalHooks = {},
  ) {}

  /** Consul's Internal.KeyringOperation: the WAN pool, this datacenter's LAN pool and every other datacenter's (each once). */
  async keyringOperation(req: KeyringRequest): Promise<KeyringPoolReport[]> {
    this.core.checkDatacenter(req.datacenter)
    this.core.acl.authorize(req.token, 'keyring', '', req.op === 'list' ? 'read' : 'write')
    if (!this.hooks.keyring) throw new RejectedError('rejected', 'this server runs without gossip: it has no keyring')
    return this.hooks.keyring(req)
  }

  /** An event fired in another datacenter for this one: this server gossips it (Consul's Internal.EventFire). */
  async eventFire(req: EventFireRequest): Promise<true> {
    this.core.checkDatacenter(req.datacenter)
    this.core.acl.authorize(req.token, 'event', req.name, 'write')
    if (!this.hooks.userEvent) throw new RejectedError('rejected', 'this server has no gossip pool to send the event by')
    if (!(req.payload instanceof Uint8Array)) throw new RejectedError('rejected', 'malformed event')
    this.hooks.userEvent(req.payload)
    return true
  }

  /** The node, its services and its checks; the index is the node's. */
  nodeInfo(req: NodeInfoRequest, call?: CallContext): Promise<QueryReply<NodeInfo>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, `node:${req.node}`)
      const { catalog } = state
      const index = catalog.nodeIndexOf(req.node)
      const info: NodeInfo = { node: catalog.node(req.node), services: catalog.nodeServices(req.node), checks: catalog.nodeChecks(req.node) }
      if (!who) return { index, value: info }
      if (!who.authorizer.allowed('node', req.node, 'read')) return { index, value: { node: undefined, services: [], checks: [] }, filtered: info.node !== undefined }
      const services = acl.filter(who, 'service', info.services, (s) => s.Service)
      const checks = acl.keep(who, info.checks, checkReadable)
      return { index, value: { node: info.node, services: services.items, checks: checks.items }, filtered: services.filtered || checks.filtered }
    })
  }

  /** The whole-catalog summary and node dump at one catalog version: every page's search asks again while nothing changed. */
  readonly #summary = new PerCatalogVersion<ServiceSummary[]>()
  readonly #nodes = new PerCatalogVersion<NodeDumpEntry[]>()

  /** The web UI's services list (Consul's /v1/internal/ui/services): a row per service name, a blocking read on the catalog. */
  serviceSummary(req: QueryOptions, call?: CallContext): Promise<QueryReply<ServiceSummary[]>> {
    return this.#uiRead(req, call, this.#summary, (tables, a) => summarizeServices(tables, this.core.datacenter, a))
  }

  /** The web UI's nodes list (Consul's Internal.NodeDump): every node with its services and checks. */
  nodeDump(req: QueryOptions, call?: CallContext): Promise<QueryReply<NodeDumpEntry[]>> {
    return this.#uiRead(req, call, this.#nodes, dumpNodes)
  }

  /** A blocking read of the whole catalog; what everyone may read is built once per catalog version. */
  #uiRead<T>(req: QueryOptions, call: CallContext | undefined, memo: PerCatalogVersion<T[]>, build: (tables: CatalogTables, a: Authorizer | undefined) => { rows: T[]; filtered: boolean }): Promise<QueryReply<T[]>> {
    const { state } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'nodes', 'services', 'checks')
      const tables = state.catalog
      const index = tables.maxIndex()
      if (!who) return { index, value: memo.get(tables, index, () => build(tables, undefined).rows) }
      const { rows, filtered } = build(tables, who.authorizer)
      return { index, value: rows, filtered }
    })
  }

  /**
   * Internal.CatalogDump: the whole catalog and the prepared queries, a blocking read on any
   * change to either (a client agent follows it with `stale`, as Consul's DNS reads allow).
   */
  catalogDump(req: QueryOptions, call?: CallContext): Promise<QueryReply<CatalogSnapshot>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'nodes', 'services', 'checks', 'queries')
      const { catalog, queries } = state
      const index = Math.max(catalog.maxIndex(), queries.index)
      const dump = catalog.dump()
      const records = queries.list()
      if (!who) return { index, value: { catalog: dump, queries: { records, index: queries.index } } }
      // What the caller may read (a client agent asks with the token its DNS answers under).
      const nodes = acl.filter(who, 'node', dump.nodes, (n) => n.Node)
      const services = acl.keep(who, dump.services, (x, s) => x.allowed('node', s.Node, 'read') && x.allowed('service', s.Service, 'read'))
      const checks = acl.keep(who, dump.checks, checkReadable)
      const visible = acl.keep(who, records, (x, q) => q.Name !== '' && x.allowed('query', q.Name, 'read'))
      return {
        index,
        // A query's captured token stays on the servers (they run the query under it).
        value: { catalog: { ...dump, nodes: nodes.items, services: services.items, checks: checks.items }, queries: { records: visible.items.map((q) => (q.Token ? { ...q, Token: '<hidden>' } : q)), index: queries.index } },
        filtered: nodes.filtered || services.filtered || checks.filtered || visible.filtered,
      }
    })
  }

  /**
   * The catalog as it is now on this server (the store swaps its tables on a restore: call again
   * per use), as much of it as `token` may read when ACLs are on (DNS answers under the agent's
   * default token). An unknown token reads nothing.
   */
  catalogReader(token?: string): CatalogReader {
    const reader = catalogReader(this.core.state.catalog)
    const { acl } = this.core
    if (!acl.enabled) return reader
    let a: Authorizer
    try {
      a = acl.identity(token).authorizer
    } catch {
      a = Authorizer.denyAll()
    }
    return a.isManagement ? reader : aclCatalogReader(reader, a)
  }

  /** Calls `fn` after every catalog change (and on a snapshot restore); returns the unsubscribe. */
  onCatalogChange(fn: () => void): () => void {
    return this.core.state.catalogWatches.watchAll(fn)
  }

  /** Calls `fn` after every change to one node's catalog entry; returns the unsubscribe. */
  onNodeChange(node: string, fn: () => void): () => void {
    return this.core.state.catalogWatches.watchKey(`node:${node}`, fn)
  }

  /** A node's checks as they are now on this server. */
  nodeChecksNow(node: string): CheckRecord[] {
    return this.core.state.catalog.nodeChecks(node)
  }

  /** Prepared queries as they are now on this server, with the lookup and matching DNS needs. */
  preparedQueries(): PreparedQueryView {
    const { state } = this.core
    return preparedQueryView({ generation: () => state.queries.generation(), list: () => state.queries.list() })
  }
}

/** Prepared queries as DNS resolves them: by name or template, and whether a service instance matches. */
export interface PreparedQueryView extends PreparedQuerySource {
  find(label: string): PreparedQuery | undefined
  matches(query: PreparedQuery, service: ServiceRecord, nodeMeta: Record<string, string>): boolean
  /** The datacenters to try, in order, when no instance here is healthy (`nearest`: every known one, nearest first). */
  failoverOrder(query: PreparedQuery, here: string, nearest: readonly string[]): string[]
}

/** The view over any source of prepared queries (the state's, or a test's). */
export function preparedQueryView(source: PreparedQuerySource): PreparedQueryView {
  return {
    generation: () => source.generation(),
    list: () => source.list(),
    find: (label) => findPreparedQuery(source, label),
    matches: matchesQuery,
    failoverOrder: (query, here, nearest) => failoverOrder(query.Service.Failover, here, nearest).order,
  }
}

