/**
 * Catalog.* and Health.* (Consul's catalog_endpoint.go and health_endpoint.go). Replies carry the
 * state's records; the JSON shapes of the HTTP API are the HTTP layer's (http/views.ts).
 */
import type { CatalogTables, CheckInput, CheckRecord, NodeInput, NodeRecord, ServiceInput, ServiceRecord } from '../state/catalog.js'
import type { RegisterCommand } from '../state/commands.js'
import type { EndpointCore } from './core.js'
import { checkReadable } from './acl-gate.js'
import type { Identity } from '../acl/resolver.js'
import type { QuerySource } from './rtt.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

/** `?node-meta=k:v` pairs: every one must match (a key given twice must match both). */
export type NodeMetaFilter = ReadonlyArray<readonly [string, string]>

export interface RegisterRequest extends WriteOptions {
  /** The node; an absent ID keeps the one the catalog has. */
  node: Omit<NodeInput, 'ID'> & { ID?: string }
  /** Leave the node record as it is (an agent syncing only its services or checks). */
  skipNodeUpdate?: boolean
  service?: ServiceInput
  checks?: CheckInput[]
}

export interface DeregisterRequest extends WriteOptions {
  node: string
  serviceId?: string
  checkId?: string
}

export interface NodeListRequest extends QueryOptions {
  nodeMeta?: NodeMetaFilter
  /** `?near=`: sort by estimated round trip from this node. */
  source?: QuerySource
}

export interface ServiceRequest extends QueryOptions {
  service: string
  /** Every tag must be present. */
  tags?: readonly string[]
  nodeMeta?: NodeMetaFilter
  source?: QuerySource
}

export interface NodeRequest extends QueryOptions {
  node: string
}

export interface HealthServiceRequest extends ServiceRequest {
  /** Only instances whose every check passes. */
  passingOnly?: boolean
}

export type CheckStateFilter = 'any' | 'passing' | 'warning' | 'critical'

export interface ChecksInStateRequest extends QueryOptions {
  state: CheckStateFilter
  nodeMeta?: NodeMetaFilter
  source?: QuerySource
}

export interface ServiceNode {
  node: NodeRecord
  service: ServiceRecord
}

export interface CheckServiceNode extends ServiceNode {
  checks: CheckRecord[]
}

export interface NodeServices {
  node: NodeRecord
  services: ServiceRecord[]
}

export function nodeMetaMatches(filter: NodeMetaFilter | undefined, meta: Readonly<Record<string, string>>): boolean {
  return !filter || filter.every(([k, v]) => meta[k] === v)
}

function tagsMatch(wanted: readonly string[] | undefined, tags: readonly string[]): boolean {
  return !wanted || wanted.every((t) => tags.includes(t))
}

export class CatalogEndpoint {
  constructor(readonly core: EndpointCore) {}

  /** A node, optionally one service, and checks; applied whole or refused (RejectedError). */
  async register(req: RegisterRequest): Promise<WriteReply<true>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    const forwarded = core.forwardUnlessLeader<WriteReply<true>>('Catalog.Register', req)
    if (forwarded) return forwarded
    if (core.acl.enabled) this.#authorizeRegister(core.acl.identity(req.token), req)
    const { ID, ...rest } = req.node
    const node: NodeInput = { ID: ID ?? core.state.catalog.node(req.node.Node)?.ID ?? '', ...rest }
    const cmd: RegisterCommand = { Type: 'register', Node: node, SkipNodeUpdate: req.skipNodeUpdate === true }
    if (req.service) cmd.Service = req.service
    if (req.checks) cmd.Checks = req.checks
    return core.apply<true>(cmd)
  }

  /**
   * Consul's vetRegisterWithACL: the node record needs node:write, a service service:write on its
   * name (and on the name of the instance it replaces), a check node:write or its service's write.
   */
  #authorizeRegister(who: Identity, req: RegisterRequest): void {
    const { acl, state } = this.core
    if (who.authorizer.isManagement) return
    // The node record takes node:write only when the write would change it (as Consul compares it).
    const stored = state.catalog.node(req.node.Node)
    if (!req.skipNodeUpdate && !sameNodeRecord(stored, req.node)) acl.require(who, 'node', req.node.Node, 'write')
    if (req.service) {
      acl.require(who, 'service', req.service.Service, 'write')
      const existing = state.catalog.nodeServices(req.node.Node).find((s) => s.ID === req.service!.ID)
      if (existing && existing.Service !== req.service.Service) acl.require(who, 'service', existing.Service, 'write')
    }
    for (const check of req.checks ?? []) {
      const serviceId = check.ServiceID
      if (!serviceId) {
        acl.require(who, 'node', req.node.Node, 'write')
        continue
      }
      const service = req.service?.ID === serviceId ? req.service.Service : state.catalog.nodeServices(req.node.Node).find((s) => s.ID === serviceId)?.Service
      if (service === undefined) acl.require(who, 'node', req.node.Node, 'write')
      else acl.require(who, 'service', service, 'write')
    }
  }

  /** The writes a deregistration needs: the node's for the node or a node check, the service's for its instance or checks. */
  #authorizeDeregister(who: Identity, req: DeregisterRequest): void {
    const { acl, state } = this.core
    if (who.authorizer.isManagement) return
    const services = state.catalog.nodeServices(req.node)
    if (req.serviceId) {
      const service = services.find((s) => s.ID === req.serviceId)
      if (service) acl.require(who, 'service', service.Service, 'write')
      return
    }
    if (req.checkId) {
      const check = state.catalog.check(req.node, req.checkId)
      if (check?.ServiceName) acl.require(who, 'service', check.ServiceName, 'write')
      else acl.require(who, 'node', req.node, 'write')
      return
    }
    acl.require(who, 'node', req.node, 'write')
  }

  /** A check, a service (with its checks) or, with neither, the whole node. */
  async deregister(req: DeregisterRequest): Promise<WriteReply<true>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    const forwarded = core.forwardUnlessLeader<WriteReply<true>>('Catalog.Deregister', req)
    if (forwarded) return forwarded
    if (core.acl.enabled) this.#authorizeDeregister(core.acl.identity(req.token), req)
    return core.apply<true>({
      Type: 'deregister',
      Node: req.node,
      ...(req.serviceId ? { ServiceID: req.serviceId } : {}),
      ...(req.checkId ? { CheckID: req.checkId } : {}),
    })
  }

  /** Every datacenter the servers know, this one first (Consul's Catalog.ListDatacenters). */
  async listDatacenters(_req: object): Promise<string[]> {
    return this.core.datacenters()
  }

  listNodes(req: NodeListRequest, call?: CallContext): Promise<QueryReply<NodeRecord[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'nodes')
      const { catalog } = state
      const rows = catalog.nodes.valuesArray().filter((n) => nodeMetaMatches(req.nodeMeta, n.Meta))
      const { items, filtered } = who ? acl.filter(who, 'node', rows, (n) => n.Node) : { items: rows, filtered: false }
      return { index: catalog.index.nodes, value: this.core.near(req.source, items, (n) => n.Node), filtered }
    })
  }

  /** Service names with the union of their instances' tags, both sorted. */
  listServices(req: NodeListRequest, call?: CallContext): Promise<QueryReply<Record<string, string[]>>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'services', 'nodes')
      const { catalog } = state
      const out: Record<string, Set<string>> = {}
      let filtered = false
      for (const { service } of serviceInstances(catalog, req.nodeMeta)) {
        if (who && !who.authorizer.allowed('service', service.Service, 'read')) {
          filtered = true
          continue
        }
        const tags = (out[service.Service] ??= new Set())
        for (const t of service.Tags) tags.add(t)
      }
      const value = Object.fromEntries(Object.keys(out).sort().map((k) => [k, [...out[k]!].sort()]))
      return { index: catalog.index.services, value, filtered }
    })
  }

  /**
   * Every service instance with its node, under the same watches and index as ListServices: what a
   * caller filtering instances before grouping them (`?filter=`) reads instead.
   */
  listServiceInstances(req: NodeListRequest, call?: CallContext): Promise<QueryReply<ServiceNode[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'services', 'nodes')
      const rows = serviceInstances(state.catalog, req.nodeMeta)
      if (!who) return { index: state.catalog.index.services, value: rows }
      const { items, filtered } = acl.filter(who, 'service', rows, (r) => r.service.Service)
      return { index: state.catalog.index.services, value: items, filtered }
    })
  }

  serviceNodes(req: ServiceRequest, call?: CallContext): Promise<QueryReply<ServiceNode[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, `service:${req.service}`)
      const { catalog } = state
      const rows = catalog.instances(req.service).flatMap((service) => {
        if (!tagsMatch(req.tags, service.Tags)) return []
        const node = catalog.node(service.Node)
        return node && nodeMetaMatches(req.nodeMeta, node.Meta) ? [{ node, service }] : []
      })
      const { items, filtered } = who ? acl.keep(who, rows, instanceReadable) : { items: rows, filtered: false }
      return { index: catalog.serviceIndexOf(req.service), value: this.core.near(req.source, items, (r) => r.node.Node), filtered }
    })
  }

  /** The node and its services, or null when the catalog has no such node. */
  nodeServices(req: NodeRequest, call?: CallContext): Promise<QueryReply<NodeServices | null>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, `node:${req.node}`)
      const { catalog } = state
      const node = catalog.node(req.node)
      const index = catalog.nodeIndexOf(req.node)
      if (!node) return { index, value: null }
      if (!who) return { index, value: { node, services: catalog.nodeServices(req.node) } }
      if (!who.authorizer.allowed('node', node.Node, 'read')) return { index, value: null, filtered: true }
      const { items, filtered } = acl.filter(who, 'service', catalog.nodeServices(req.node), (s) => s.Service)
      return { index, value: { node, services: items }, filtered }
    })
  }
}

/** Whether registering `input` would leave the stored node record as it is. */
function sameNodeRecord(stored: NodeRecord | undefined, input: RegisterRequest['node']): boolean {
  if (!stored) return false
  const same = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>> | undefined): boolean => {
    const bk = Object.keys(b ?? {})
    return Object.keys(a).length === bk.length && bk.every((k) => a[k] === b![k])
  }
  return (input.ID === undefined || input.ID === '' || input.ID === stored.ID) && input.Address === stored.Address && same(stored.TaggedAddresses, input.TaggedAddresses) && same(stored.Meta, input.Meta)
}

/** An instance is visible to who may read both its node and its service. */
function instanceReadable(a: Identity['authorizer'], r: ServiceNode): boolean {
  return a.allowed('node', r.node.Node, 'read') && a.allowed('service', r.service.Service, 'read')
}

function serviceInstances(catalog: CatalogTables, nodeMeta: NodeMetaFilter | undefined): ServiceNode[] {
  const out: ServiceNode[] = []
  catalog.services.forEach((service) => {
    const node = catalog.node(service.Node)
    if (node && nodeMetaMatches(nodeMeta, node.Meta)) out.push({ node, service })
  })
  return out
}

export class HealthEndpoint {
  constructor(readonly core: EndpointCore) {}

  nodeChecks(req: NodeRequest, call?: CallContext): Promise<QueryReply<CheckRecord[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, `node:${req.node}`)
      const rows = state.catalog.nodeChecks(req.node)
      const { items, filtered } = who ? acl.keep(who, rows, checkReadable) : { items: rows, filtered: false }
      return { index: state.catalog.nodeIndexOf(req.node), value: items, filtered }
    })
  }

  /** The checks of every instance of a service. */
  serviceChecks(req: ServiceRequest, call?: CallContext): Promise<QueryReply<CheckRecord[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, `service:${req.service}`)
      const { catalog } = state
      const rows = catalog
        .instances(req.service)
        .filter((s) => nodeMetaMatches(req.nodeMeta, catalog.node(s.Node)?.Meta ?? {}))
        .flatMap((s) => catalog.nodeChecks(s.Node).filter((c) => c.ServiceID === s.ID))
      const { items, filtered } = who ? acl.keep(who, rows, checkReadable) : { items: rows, filtered: false }
      return { index: catalog.serviceIndexOf(req.service), value: this.core.near(req.source, items, (c) => c.Node), filtered }
    })
  }

  /** Instances of a service with their node and their checks (the node's and their own). */
  serviceNodes(req: HealthServiceRequest, call?: CallContext): Promise<QueryReply<CheckServiceNode[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, `service:${req.service}`)
      const { catalog } = state
      const rows = catalog.instances(req.service).flatMap((service) => {
        const node = catalog.node(service.Node)
        if (!node || !tagsMatch(req.tags, service.Tags) || !nodeMetaMatches(req.nodeMeta, node.Meta)) return []
        const checks = catalog.instanceChecks(service)
        if (req.passingOnly && checks.some((c) => c.Status !== 'passing')) return []
        return [{ node, service, checks }]
      })
      if (!who) return { index: catalog.serviceIndexOf(req.service), value: this.core.near(req.source, rows, (r) => r.node.Node) }
      const { items, filtered } = acl.keep(who, rows, instanceReadable)
      const visible = items.map((r) => ({ ...r, checks: r.checks.filter((c) => checkReadable(who.authorizer, c)) }))
      return { index: catalog.serviceIndexOf(req.service), value: this.core.near(req.source, visible, (r) => r.node.Node), filtered }
    })
  }

  checksInState(req: ChecksInStateRequest, call?: CallContext): Promise<QueryReply<CheckRecord[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'checks')
      const { catalog } = state
      const rows = catalog.checks.valuesArray().filter((c) => (req.state === 'any' || c.Status === req.state) && nodeMetaMatches(req.nodeMeta, catalog.node(c.Node)?.Meta ?? {}))
      const { items, filtered } = who ? acl.keep(who, rows, checkReadable) : { items: rows, filtered: false }
      return { index: catalog.index.checks, value: this.core.near(req.source, items, (c) => c.Node), filtered }
    })
  }
}
