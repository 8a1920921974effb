import { encodeCommand } from '../state/commands.js'
import type { Consensus } from '../raft/types.js'
import type { StateStore } from '../state/store.js'
import type { CheckInput, NodeInput, ServiceInput, ServiceRecord } from '../state/catalog.js'
import type { Command } from '../state/commands.js'
import type { LocalChange, LocalState } from './local-state.js'
import { WatchSet } from '../state/watch.js'

/** The node's own health check, owned by gossip (passing while this agent lives, for now). */
export const SERF_HEALTH: CheckInput = {
  CheckID: 'serfHealth',
  Name: 'Serf Health Status',
  Status: 'passing',
  Notes: '',
  Output: 'Agent alive and reachable',
  ServiceID: '',
  Type: '',
  Interval: '',
  Timeout: '',
  ExposedPort: 0,
  Definition: {},
}

/** The service every server registers for itself; not one of the agent's own services. */
export function consulService(port: number): ServiceInput {
  return {
    ID: 'consul',
    Service: 'consul',
    Tags: [],
    Address: '',
    TaggedAddresses: {},
    Meta: { 'non_voter': 'false', 'raft_version': '3', 'read_replica': 'false', 'serf_protocol_current': '2', 'serf_protocol_max': '5', 'serf_protocol_min': '1', version: '1.20.0' },
    Port: port,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    Kind: '',
  }
}

export interface AntiEntropyOptions {
  state: StateStore
  raft: Consensus
  local: LocalState
  node: () => NodeInput
  /** Present on servers: the `consul` service's port. */
  serverPort: number | undefined
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** Full sync period (Consul: about a minute, scaled by cluster size). */
  periodMs?: number
}

/**
 * Keeps the catalog's entry for this node equal to the agent's local state (Consul's
 * anti-entropy): after every local change, periodically, and whenever the node's catalog
 * entry changes behind the agent's back. One sync runs at a time; changes during a sync
 * schedule one more.
 */
export class AntiEntropy {
  readonly #o: AntiEntropyOptions
  #running = false
  #again = false
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #watching = false
  readonly #abort = new AbortController()
  /** Entries changed locally since the last sync; a full sync looks at everything instead. */
  readonly #dirtyServices = new Set<string>()
  readonly #dirtyChecks = new Set<string>()
  #full = true
  /** The highest index our own writes produced: a node change above it was made by someone else. */
  #ownIndex = 0
  /** Syncs completed; tests and stats read it. */
  syncs = 0

  constructor(opts: AntiEntropyOptions) {
    this.#o = opts
  }

  start(): void {
    this.#o.local.onChange = (change) => this.#changed(change)
    this.trigger(true)
    this.#timer = setInterval(() => this.trigger(true), this.#o.periodMs ?? 60_000)
    this.#timer.unref()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    this.#abort.abort()
  }

  #changed(change: LocalChange): void {
    if (change.kind === 'service') this.#dirtyServices.add(change.id)
    else this.#dirtyChecks.add(change.id)
    this.trigger()
  }

  /** Schedules a sync soon (a full one when asked); bursts of changes coalesce into one. */
  trigger(full = false): void {
    if (this.#stopped) return
    if (full) this.#full = true
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = true
    setImmediate(() => void this.#run())
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false
        await this.#syncOnce()
      } while (this.#again && !this.#stopped)
      this.syncs++
    } catch (err) {
      // Changes picked up by the failed sync are not lost: the next full sync compares everything.
      this.#full = true
      this.#o.log('warn', `agent: catalog sync failed: ${(err as Error).message}`)
    } finally {
      this.#running = false
      this.#watchNode()
    }
  }

  /** Re-syncs when someone else changes this node's catalog entry. */
  #watchNode(): void {
    if (this.#stopped || this.#watching) return
    this.#watching = true
    const ws = new WatchSet()
    this.#o.state.watchCatalog(ws, `node:${this.#o.node().Node}`)
    void ws.wait(this.#o.periodMs ?? 60_000, this.#abort.signal).then((outcome) => {
      if (outcome !== 'changed') {
        this.#watching = false
        return
      }
      // Decide after our own apply has recorded its index (it resolves just after the watch fires).
      setImmediate(() => {
        this.#watching = false
        if (this.#o.state.catalog.nodeIndexOf(this.#o.node().Node) > this.#ownIndex) this.trigger(true)
        else this.#watchNode()
      })
    })
  }

  /** Commands for just the entries changed since the last sync (the common, cheap case). */
  planChanges(services: ReadonlySet<string>, checks: ReadonlySet<string>): Command[] {
    const { state, local } = this.#o
    const node = this.#o.node()
    if (!state.catalog.node(node.Node)) return this.plan()
    const commands: Command[] = []
    for (const id of services) {
      const svc = local.services.get(id)
      const cur = state.catalog.service(node.Node, id)
      if (!svc) {
        if (cur && id !== 'consul') commands.push({ Type: 'deregister', Node: node.Node, ServiceID: id })
        continue
      }
      const want = serviceInput(svc.def)
      if (!cur || serviceDiffers(cur, want)) commands.push({ Type: 'register', Node: node, SkipNodeUpdate: true, Service: want })
    }
    const changed: CheckInput[] = []
    for (const id of checks) {
      const c = local.checks.get(id)
      const cur = state.catalog.check(node.Node, id)
      if (!c) {
        if (cur && id !== 'serfHealth') commands.push({ Type: 'deregister', Node: node.Node, CheckID: id })
        continue
      }
      const want = { ...c.spec.record, Status: c.status, Output: c.catalogOutput }
      if (!cur || !sameCheck(cur, want)) changed.push(want)
    }
    if (changed.length) commands.push({ Type: 'register', Node: node, SkipNodeUpdate: true, Checks: changed })
    return commands
  }

  /** The commands that make the catalog match local state; empty when in sync. */
  plan(): Command[] {
    const { state, local } = this.#o
    const node = this.#o.node()
    const name = node.Node
    const commands: Command[] = []
    const existing = state.catalog.node(name)
    const nodeDiffers = !existing || existing.Address !== node.Address || existing.ID !== node.ID || JSON.stringify(existing.Meta) !== JSON.stringify(node.Meta) || JSON.stringify(existing.TaggedAddresses) !== JSON.stringify(node.TaggedAddresses) || existing.Datacenter !== node.Datacenter
    const wantServices = new Map<string, ServiceInput>()
    for (const s of local.services.values()) wantServices.set(s.def.ID, serviceInput(s.def))
    if (this.#o.serverPort !== undefined) wantServices.set('consul', consulService(this.#o.serverPort))
    const wantChecks = new Map<string, CheckInput>([['serfHealth', SERF_HEALTH]])
    for (const c of local.checks.values()) wantChecks.set(c.spec.runner.id, { ...c.spec.record, Status: c.status, Output: c.catalogOutput })

    if (nodeDiffers || !state.catalog.check(name, 'serfHealth')) commands.push({ Type: 'register', Node: node, Checks: [SERF_HEALTH] })
    const have = new Map(state.catalog.nodeServices(name).map((s) => [s.ID, s]))
    for (const [id, svc] of wantServices) {
      const cur = have.get(id)
      if (!cur || serviceDiffers(cur, svc)) commands.push({ Type: 'register', Node: node, SkipNodeUpdate: true, Service: svc })
    }
    for (const id of have.keys()) if (!wantServices.has(id)) commands.push({ Type: 'deregister', Node: name, ServiceID: id })
    const haveChecks = new Map(state.catalog.nodeChecks(name).map((c) => [c.CheckID, c]))
    const changedChecks: CheckInput[] = []
    for (const [id, chk] of wantChecks) {
      const cur = haveChecks.get(id)
      if (!cur || !sameCheck(cur, chk)) changedChecks.push(chk)
    }
    if (changedChecks.length) commands.push({ Type: 'register', Node: node, SkipNodeUpdate: true, Checks: changedChecks })
    for (const id of haveChecks.keys()) if (!wantChecks.has(id)) commands.push({ Type: 'deregister', Node: name, CheckID: id })
    return commands
  }

  async #syncOnce(): Promise<void> {
    const services = new Set(this.#dirtyServices)
    const checks = new Set(this.#dirtyChecks)
    this.#dirtyServices.clear()
    this.#dirtyChecks.clear()
    const full = this.#full
    this.#full = false
    const commands = full ? this.plan() : this.planChanges(services, checks)
    // Services first: a check can only be registered once its service is.
    for (const command of commands) {
      const { index, response } = await this.#o.raft.apply(encodeCommand(command))
      this.#ownIndex = Math.max(this.#ownIndex, index)
      if (response instanceof Error) this.#o.log('warn', `agent: catalog sync: ${response.message}`)
    }
  }
}

function serviceInput(def: ServiceInput & { token?: string }): ServiceInput {
  return {
    ID: def.ID,
    Service: def.Service,
    Tags: def.Tags,
    Address: def.Address,
    TaggedAddresses: def.TaggedAddresses,
    Meta: def.Meta,
    Port: def.Port,
    Weights: def.Weights,
    EnableTagOverride: def.EnableTagOverride,
    Kind: def.Kind,
  }
}

/** Whether the catalog's copy of a service differs from what the agent wants there. */
function serviceDiffers(cur: ServiceRecord, want: ServiceInput): boolean {
  const { Node: _n, CreateIndex: _c, ModifyIndex: _m, ...curInput } = cur
  return JSON.stringify(curInput) !== JSON.stringify(want)
}

function sameCheck(cur: CheckInput, want: CheckInput): boolean {
  return (
    cur.Status === want.Status &&
    cur.Output === want.Output &&
    cur.Name === want.Name &&
    cur.Notes === want.Notes &&
    cur.ServiceID === want.ServiceID &&
    cur.Type === want.Type &&
    cur.Interval === want.Interval &&
    cur.Timeout === want.Timeout &&
    JSON.stringify(cur.Definition) === JSON.stringify(want.Definition)
  )
}
