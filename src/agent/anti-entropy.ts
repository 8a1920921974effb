import type { Clock, Timer } from '../lib/clock.js'
import { eachLimited } from '../lib/pool.js'
import type { CheckInput, NodeInput, ServiceInput, ServiceRecord } from '../state/catalog.js'
import type { AgentEndpoints } from '../server/endpoints.js'
import type { DeregisterRequest, RegisterRequest } from '../server/catalog-endpoint.js'
import type { NodeInfo } from '../server/internal-endpoint.js'
import { CONSUL_SERVICE_ID } from '../server/consul-service.js'
import { serfHealthCheck } from '../server/member-catalog.js'
import { RejectedError } from '../server/errors.js'
import { PermissionDeniedError } from '../acl/errors.js'
import type { LocalChange, LocalState } from './local-state.js'

/** The node's own health check, registered passing when the catalog lacks it; the leader owns it after (member-catalog.ts). */
const SERF_HEALTH: CheckInput = serfHealthCheck(true)

/** One write a sync makes, through the catalog endpoints. */
/** Catalog writes one sync keeps in flight. */
const SYNC_IN_FLIGHT = 16

export type SyncOp = ({ kind: 'register' } & RegisterRequest) | ({ kind: 'deregister' } & DeregisterRequest)

export interface AntiEntropyOptions {
  /** The server endpoints it reads its node through and writes with. */
  server: Pick<AgentEndpoints, 'catalog' | 'internal'>
  local: LocalState
  node: () => NodeInput
  clock: Clock
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** The ACL token of its reads and of the node's own record (the agent token). */
  token?: () => string
  /** The token a service's or a check's sync carries (Consul's serviceToken / checkToken); `token` when it gives none. */
  tokenFor?: (kind: 'service' | 'check', id: string) => string | undefined
  /** Full sync period (Consul: about a minute, scaled by cluster size). */
  periodMs?: number
  /** After a failed sync, the next try (Consul's retryFailIntv: 15 s). */
  retryFailMs?: number
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
  #timer: Timer | undefined
  #retry: Timer | undefined
  #watching = false
  readonly #abort = new AbortController()
  /** Entries changed locally since the last sync; a full sync looks at everything instead. */
  readonly #dirtyServices = new Set<string>()
  readonly #dirtyChecks = new Set<string>()
  #full = true
  /** The highest index our own writes produced: a node change above it was made by someone else. */
  #ownIndex = 0
  /** The node's index the last sync planned from (or its own writes, if later): the watch waits past it. */
  #seenIndex = 0
  /** Syncs completed; tests and stats read it. */
  syncs = 0

  constructor(opts: AntiEntropyOptions) {
    this.#o = opts
  }

  get #periodMs(): number {
    return this.#o.periodMs ?? 60_000
  }

  start(): void {
    this.#o.local.onChange = (change) => this.#changed(change)
    this.trigger(true)
    this.#timer = this.#o.clock.setInterval(() => this.trigger(true), this.#periodMs)
  }

  stop(): void {
    this.#stopped = true
    this.#timer?.cancel()
    this.#retry?.cancel()
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
    this.#o.clock.defer(() => void this.#run())
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
      this.#retry?.cancel()
      this.#retry = this.#o.clock.setTimeout(() => this.trigger(true), this.#o.retryFailMs ?? 15_000)
    } finally {
      this.#running = false
      this.#watchNode()
    }
  }

  /** Re-syncs when someone else changes this node's catalog entry: a blocking read of it, past what the last sync saw. */
  #watchNode(): void {
    if (this.#stopped || this.#watching) return
    this.#watching = true
    const since = Math.max(1, this.#seenIndex)
    const request = { node: this.#o.node().Node, minQueryIndex: since, maxQueryTimeMs: this.#periodMs, token: this.#o.token?.() }
    this.#o.server.internal.nodeInfo(request, { signal: this.#abort.signal }).then(
      ({ meta }) => {
        if (meta.outcome !== 'changed' && meta.outcome !== 'immediate') {
          this.#watching = false
          return
        }
        // Decide after our own apply has recorded its index (it resolves just after the watch fires).
        this.#o.clock.defer(() => {
          this.#watching = false
          if (meta.index > Math.max(since, this.#ownIndex)) this.trigger(true)
          else {
            this.#seenIndex = Math.max(this.#seenIndex, meta.index)
            this.#watchNode()
          }
        })
      },
      (err: Error) => {
        this.#watching = false
        if (!this.#stopped) this.#o.log('debug', `agent: watching the catalog entry of this node: ${err.message}`)
      },
    )
  }

  /** Writes for just the entries changed since the last sync (the common, cheap case). */
  planChanges(info: NodeInfo, services: ReadonlySet<string>, checks: ReadonlySet<string>): SyncOp[] {
    const { local } = this.#o
    const node = this.#o.node()
    if (!info.node) return this.plan(info)
    const haveServices = new Map(info.services.map((s) => [s.ID, s]))
    const haveChecks = new Map(info.checks.map((c) => [c.CheckID, c]))
    const ops: SyncOp[] = []
    for (const id of services) {
      const svc = local.services.get(id)
      const cur = haveServices.get(id)
      if (!svc) {
        if (cur && id !== CONSUL_SERVICE_ID) ops.push({ kind: 'deregister', node: node.Node, serviceId: id })
        continue
      }
      const want = serviceInput(svc.def)
      if (!cur || serviceDiffers(cur, want)) ops.push({ kind: 'register', node, skipNodeUpdate: true, service: want })
    }
    const changed: CheckInput[] = []
    for (const id of checks) {
      const c = local.checks.get(id)
      const cur = haveChecks.get(id)
      if (!c) {
        if (cur && id !== 'serfHealth') ops.push({ kind: 'deregister', node: node.Node, checkId: id })
        continue
      }
      const want = { ...c.spec.record, Status: c.status, Output: c.catalogOutput }
      if (!cur || !sameCheck(cur, want)) changed.push(want)
    }
    if (changed.length) ops.push({ kind: 'register', node, skipNodeUpdate: true, checks: changed })
    return ops
  }

  /** The writes that make the catalog match local state; empty when in sync. The `consul` service is the leader's. */
  plan(info: NodeInfo): SyncOp[] {
    const { local } = this.#o
    const node = this.#o.node()
    const name = node.Node
    const ops: SyncOp[] = []
    const existing = info.node
    const nodeDiffers = !existing || existing.Address !== node.Address || existing.ID !== node.ID || JSON.stringify(existing.Meta) !== JSON.stringify(node.Meta) || JSON.stringify(existing.TaggedAddresses) !== JSON.stringify(node.TaggedAddresses) || existing.Datacenter !== node.Datacenter
    const wantServices = new Map<string, ServiceInput>()
    for (const s of local.services.values()) wantServices.set(s.def.ID, serviceInput(s.def))
    const wantChecks = new Map<string, CheckInput>([['serfHealth', SERF_HEALTH]])
    for (const c of local.checks.values()) wantChecks.set(c.spec.runner.id, { ...c.spec.record, Status: c.status, Output: c.catalogOutput })

    const haveChecks = new Map(info.checks.map((c) => [c.CheckID, c]))
    if (nodeDiffers || !haveChecks.has('serfHealth')) ops.push({ kind: 'register', node, checks: [SERF_HEALTH] })
    const have = new Map(info.services.map((s) => [s.ID, s]))
    for (const [id, svc] of wantServices) {
      const cur = have.get(id)
      if (!cur || serviceDiffers(cur, svc)) ops.push({ kind: 'register', node, skipNodeUpdate: true, service: svc })
    }
    for (const id of have.keys()) if (!wantServices.has(id) && id !== CONSUL_SERVICE_ID) ops.push({ kind: 'deregister', node: name, serviceId: id })
    const changedChecks: CheckInput[] = []
    for (const [id, chk] of wantChecks) {
      const cur = haveChecks.get(id)
      if (!cur || !sameCheck(cur, chk)) changedChecks.push(chk)
    }
    if (changedChecks.length) ops.push({ kind: 'register', node, skipNodeUpdate: true, checks: changedChecks })
    for (const id of haveChecks.keys()) if (!wantChecks.has(id)) ops.push({ kind: 'deregister', node: name, checkId: id })
    return ops
  }

  async #syncOnce(): Promise<void> {
    const services = new Set(this.#dirtyServices)
    const checks = new Set(this.#dirtyChecks)
    this.#dirtyServices.clear()
    this.#dirtyChecks.clear()
    const full = this.#full
    this.#full = false
    const { server } = this.#o
    const nodeToken = this.#o.token?.()
    const { value: info, meta } = await server.internal.nodeInfo({ node: this.#o.node().Node, token: nodeToken })
    this.#seenIndex = Math.max(this.#seenIndex, meta.index)
    const ops = withTokens(full ? this.plan(info) : this.planChanges(info, services, checks), nodeToken, this.#o.tokenFor)
    // The node first, then services, then checks: a check can only be registered once its service
    // is. Within a phase the writes go out together (raft batches them): a host where a scheduler
    // just placed hundreds of services reaches the catalog in one round, not hundreds.
    const phase = ({ op }: { op: SyncOp }): number => (op.kind === 'register' && !op.skipNodeUpdate ? 0 : (op.kind === 'register' ? op.service : op.serviceId) ? 1 : 2)
    for (const p of [0, 1, 2]) await eachLimited(ops.filter((o) => phase(o) === p), SYNC_IN_FLIGHT, async ({ op, token }) => {
      try {
        const { index } = op.kind === 'register' ? await server.catalog.register({ ...op, token }) : await server.catalog.deregister({ ...op, token })
        this.#ownIndex = Math.max(this.#ownIndex, index)
        this.#seenIndex = Math.max(this.#seenIndex, index)
      } catch (err) {
        // Refused (by the state machine or the token's rules): said once per sync and left until the next change, as Consul does.
        if (err instanceof PermissionDeniedError) this.#o.log('warn', `agent: catalog sync: ${syncTarget(op)} blocked by ACLs: ${err.message}`)
        else if (err instanceof RejectedError) this.#o.log('warn', `agent: catalog sync: ${err.message}`)
        else throw err
      }
    })
  }
}

/**
 * Each write with the token it carries: the node's record the agent token, a service its own token,
 * a check its own (checks registered together split by token).
 */
function withTokens(ops: SyncOp[], nodeToken: string | undefined, tokenFor: AntiEntropyOptions['tokenFor']): Array<{ op: SyncOp; token: string | undefined }> {
  if (!tokenFor) return ops.map((op) => ({ op, token: nodeToken }))
  const out: Array<{ op: SyncOp; token: string | undefined }> = []
  for (const op of ops) {
    if (op.kind === 'deregister') out.push({ op, token: (op.serviceId ? tokenFor('service', op.serviceId) : op.checkId ? tokenFor('check', op.checkId) : undefined) ?? nodeToken })
    else if (!op.skipNodeUpdate) out.push({ op, token: nodeToken })
    else if (op.service) out.push({ op, token: tokenFor('service', op.service.ID ?? op.service.Service) ?? nodeToken })
    else {
      const byToken = new Map<string | undefined, CheckInput[]>()
      for (const c of op.checks ?? []) {
        const t = tokenFor('check', c.CheckID) ?? nodeToken
        const same = byToken.get(t)
        if (same) same.push(c)
        else byToken.set(t, [c])
      }
      for (const [token, checks] of byToken) out.push({ op: { ...op, checks }, token })
    }
  }
  return out
}

function syncTarget(op: SyncOp): string {
  if (op.kind === 'deregister') return op.serviceId ? `deregistering service ${op.serviceId}` : `deregistering check ${op.checkId}`
  return op.service ? `service ${op.service.ID ?? op.service.Service}` : `checks ${(op.checks ?? []).map((c) => c.CheckID).join(', ')}`
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
