import btree from 'sorted-btree'

const BTree = btree.default
type Tree<V> = InstanceType<typeof BTree<string, V>>

export type HealthStatus = 'passing' | 'warning' | 'critical'


export interface NodeRecord {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string>
  Meta: Record<string, string>
  CreateIndex: number
  ModifyIndex: number
}

export interface ServiceRecord {
  Node: string
  ID: string
  Service: string
  Tags: string[]
  Address: string
  TaggedAddresses: Record<string, { Address: string; Port: number }>
  Meta: Record<string, string>
  Port: number
  Weights: { Passing: number; Warning: number }
  EnableTagOverride: boolean
  Kind: string
  CreateIndex: number
  ModifyIndex: number
}

export interface CheckDefinitionRecord {
  HTTP?: string
  Header?: Record<string, string[]>
  Method?: string
  Body?: string
  TLSServerName?: string
  TLSSkipVerify?: boolean
  TCP?: string
  UDP?: string
  Interval?: string
  Timeout?: string
  DeregisterCriticalServiceAfter?: string
}

export interface CheckRecord {
  Node: string
  CheckID: string
  Name: string
  Status: HealthStatus
  Notes: string
  Output: string
  ServiceID: string
  ServiceName: string
  ServiceTags: string[]
  Type: string
  Interval: string
  Timeout: string
  ExposedPort: number
  Definition: CheckDefinitionRecord
  CreateIndex: number
  ModifyIndex: number
}

/** Registration input: a record without its indexes (the FSM assigns them). */
export type NodeInput = Omit<NodeRecord, 'CreateIndex' | 'ModifyIndex'>
export type ServiceInput = Omit<ServiceRecord, 'CreateIndex' | 'ModifyIndex' | 'Node'>
export type CheckInput = Omit<CheckRecord, 'CreateIndex' | 'ModifyIndex' | 'Node' | 'ServiceName' | 'ServiceTags'>

/** The catalog tables as plain data: the FSM's snapshot section, and what a client agent's replica is loaded from. */
export interface CatalogDump {
  nodes: NodeRecord[]
  services: ServiceRecord[]
  checks: CheckRecord[]
  index: CatalogTables['index']
  serviceIndex: Array<[string, number]>
  nodeIndex: Array<[string, number]>
}

const key = (node: string, id: string): string => `${node}\u0000${id}`
const nodePrefix = (node: string): string => `${node}\u0000`

/**
 * The catalog tables: nodes, their services and their checks, in sorted trees so listings come
 * out in Consul's order without sorting. Beside the tables, per-service-name and per-node
 * indexes make each query's X-Consul-Index its own: a change to `web` does not wake `db` watchers.
 * Watch keys: `nodes`, `services`, `checks`, `service:<name>`, `node:<name>`.
 */
export class CatalogTables {
  nodes: Tree<NodeRecord> = new BTree<string, NodeRecord>()
  services: Tree<ServiceRecord> = new BTree<string, ServiceRecord>()
  checks: Tree<CheckRecord> = new BTree<string, CheckRecord>()
  /** Keys into `services` by service name. Derived; rebuilt on restore. */
  byName = new Map<string, Set<string>>()
  /** Index of the last change per table, per service name and per node. Never decrease. */
  index = { nodes: 0, services: 0, checks: 0 }
  serviceIndex = new Map<string, number>()
  nodeIndex = new Map<string, number>()

  /** Tables rebuilt from their dump (derived indexes included). */
  static fromDump(d: CatalogDump): CatalogTables {
    const t = new CatalogTables()
    for (const n of d.nodes) t.nodes.set(n.Node, n)
    for (const sv of d.services) t.services.set(key(sv.Node, sv.ID), sv)
    for (const c of d.checks) t.checks.set(key(c.Node, c.CheckID), c)
    t.index = { ...d.index }
    t.serviceIndex = new Map(d.serviceIndex)
    t.nodeIndex = new Map(d.nodeIndex)
    t.reindex()
    return t
  }

  dump(): CatalogDump {
    return {
      nodes: this.nodes.valuesArray(),
      services: this.services.valuesArray(),
      checks: this.checks.valuesArray(),
      index: { ...this.index },
      serviceIndex: [...this.serviceIndex],
      nodeIndex: [...this.nodeIndex],
    }
  }

  /** The highest index of any table: what a reader of the whole catalog waits on. */
  maxIndex(): number {
    return Math.max(this.index.nodes, this.index.services, this.index.checks)
  }

  // ---- reads -------------------------------------------------------------------------------

  node(name: string): NodeRecord | undefined {
    return this.nodes.get(name)
  }

  nodeServices(node: string): ServiceRecord[] {
    return this.#range(this.services, nodePrefix(node))
  }

  nodeChecks(node: string): CheckRecord[] {
    return this.#range(this.checks, nodePrefix(node))
  }

  service(node: string, id: string): ServiceRecord | undefined {
    return this.services.get(key(node, id))
  }

  check(node: string, id: string): CheckRecord | undefined {
    return this.checks.get(key(node, id))
  }

  /** Instances of a service, in node order. */
  instances(name: string): ServiceRecord[] {
    const keys = this.byName.get(name)
    if (!keys) return []
    return [...keys].sort().map((k) => this.services.get(k)!)
  }

  /** Checks that bear on an instance: the node's own checks and the service's, by CheckID. */
  instanceChecks(svc: ServiceRecord): CheckRecord[] {
    return this.nodeChecks(svc.Node)
      .filter((c) => c.ServiceID === '' || c.ServiceID === svc.ID)
      .sort((a, b) => (a.CheckID < b.CheckID ? -1 : a.CheckID > b.CheckID ? 1 : 0))
  }

  serviceIndexOf(name: string): number {
    return this.serviceIndex.get(name) ?? 0
  }

  nodeIndexOf(name: string): number {
    return this.nodeIndex.get(name) ?? 0
  }

  // ---- writes (FSM only). Each returns the watch keys it touched. ---------------------------

  ensureNode(index: number, input: NodeInput, touched: Set<string>): void {
    const existing = this.nodes.get(input.Node)
    if (existing && sameNode(existing, input)) return
    this.nodes.set(input.Node, { ...input, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index })
    this.index.nodes = index
    this.#touchNode(index, input.Node, touched)
    // Address changes show in every service entry of the node.
    for (const svc of this.nodeServices(input.Node)) this.#touchService(index, svc.Service, touched)
    touched.add('nodes')
  }

  ensureService(index: number, node: string, input: ServiceInput, touched: Set<string>): void {
    const k = key(node, input.ID)
    const existing = this.services.get(k)
    if (existing && sameService(existing, input)) return
    if (existing && existing.Service !== input.Service) this.#unindexName(existing.Service, k, index, touched)
    this.services.set(k, { ...input, Node: node, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index })
    let set = this.byName.get(input.Service)
    if (!set) this.byName.set(input.Service, (set = new Set()))
    set.add(k)
    this.index.services = index
    this.#touchService(index, input.Service, touched)
    this.#touchNode(index, node, touched)
    // Checks of the service carry its name and tags.
    for (const c of this.nodeChecks(node)) {
      if (c.ServiceID !== input.ID) continue
      if (c.ServiceName !== input.Service || !sameList(c.ServiceTags, input.Tags)) {
        this.checks.set(key(node, c.CheckID), { ...c, ServiceName: input.Service, ServiceTags: [...input.Tags], ModifyIndex: index })
        this.index.checks = index
        touched.add('checks')
      }
    }
    touched.add('services')
  }

  /** Writes a check; returns whether its status changed to critical (sessions care). */
  ensureCheck(index: number, node: string, input: CheckInput, touched: Set<string>): boolean {
    const k = key(node, input.CheckID)
    const existing = this.checks.get(k)
    const svc = input.ServiceID ? this.services.get(key(node, input.ServiceID)) : undefined
    const record: CheckRecord = {
      ...input,
      Node: node,
      ServiceName: svc?.Service ?? '',
      ServiceTags: svc ? [...svc.Tags] : [],
      CreateIndex: existing?.CreateIndex ?? index,
      ModifyIndex: index,
    }
    if (existing && sameCheck(existing, record)) return false
    this.checks.set(k, record)
    this.index.checks = index
    touched.add('checks')
    this.#touchCheckOwners(index, node, input.ServiceID, touched)
    return record.Status === 'critical' && existing?.Status !== 'critical'
  }

  deleteCheck(index: number, node: string, checkId: string, touched: Set<string>): boolean {
    const existing = this.checks.get(key(node, checkId))
    if (!existing) return false
    this.checks.delete(key(node, checkId))
    this.index.checks = index
    touched.add('checks')
    this.#touchCheckOwners(index, node, existing.ServiceID, touched)
    return true
  }

  deleteService(index: number, node: string, serviceId: string, touched: Set<string>): boolean {
    const k = key(node, serviceId)
    const existing = this.services.get(k)
    if (!existing) return false
    for (const c of this.nodeChecks(node)) if (c.ServiceID === serviceId) this.deleteCheck(index, node, c.CheckID, touched)
    this.services.delete(k)
    this.#unindexName(existing.Service, k, index, touched)
    this.index.services = index
    this.#touchNode(index, node, touched)
    touched.add('services')
    return true
  }

  deleteNode(index: number, node: string, touched: Set<string>): boolean {
    if (!this.nodes.has(node)) return false
    for (const s of this.nodeServices(node)) this.deleteService(index, node, s.ID, touched)
    for (const c of this.nodeChecks(node)) this.deleteCheck(index, node, c.CheckID, touched)
    this.nodes.delete(node)
    this.index.nodes = index
    this.#touchNode(index, node, touched)
    touched.add('nodes')
    return true
  }

  /** Rebuilds the derived name index after a restore. */
  reindex(): void {
    this.byName.clear()
    this.services.forEach((s, k) => {
      let set = this.byName.get(s.Service)
      if (!set) this.byName.set(s.Service, (set = new Set()))
      set.add(k)
    })
  }

  #unindexName(name: string, k: string, index: number, touched: Set<string>): void {
    const set = this.byName.get(name)
    set?.delete(k)
    if (set && set.size === 0) this.byName.delete(name)
    this.#touchService(index, name, touched)
  }

  #touchService(index: number, name: string, touched: Set<string>): void {
    this.serviceIndex.set(name, index)
    touched.add(`service:${name}`)
  }

  #touchNode(index: number, node: string, touched: Set<string>): void {
    this.nodeIndex.set(node, index)
    touched.add(`node:${node}`)
  }

  /** A node-level check bears on every service of the node; a service check on its service. */
  #touchCheckOwners(index: number, node: string, serviceId: string, touched: Set<string>): void {
    this.#touchNode(index, node, touched)
    if (serviceId) {
      const svc = this.services.get(key(node, serviceId))
      if (svc) this.#touchService(index, svc.Service, touched)
    } else {
      for (const svc of this.nodeServices(node)) this.#touchService(index, svc.Service, touched)
    }
  }

  #range<V>(tree: Tree<V>, prefix: string): V[] {
    const out: V[] = []
    tree.forRange(prefix, `${prefix.slice(0, -1)}\u0001`, false, (_k, v) => void out.push(v))
    return out
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function sameNode(a: NodeRecord, b: NodeInput): boolean {
  return a.ID === b.ID && a.Address === b.Address && a.Datacenter === b.Datacenter && JSON.stringify(a.TaggedAddresses) === JSON.stringify(b.TaggedAddresses) && JSON.stringify(a.Meta) === JSON.stringify(b.Meta)
}

function sameService(a: ServiceRecord, b: ServiceInput): boolean {
  const { Node: _n, CreateIndex: _c, ModifyIndex: _m, ...rest } = a
  return JSON.stringify(rest) === JSON.stringify({ ...rest, ...b })
}

function sameCheck(a: CheckRecord, b: CheckRecord): boolean {
  const strip = ({ CreateIndex: _c, ModifyIndex: _m, ...rest }: CheckRecord) => JSON.stringify(rest)
  return strip(a) === strip(b)
}
