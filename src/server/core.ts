/**
 * What every endpoint shares: the one place that decides a read's consistency, runs it
 * through the blocking loop and reports its meta, and the one place writes are proposed.
 */
import type { Metrics } from '../lib/metrics.js'
import type { Clock } from '../lib/clock.js'
import { sortByDistance, type QuerySource } from './rtt.js'
import type { Consensus } from '../raft/types.js'
import { encodeCommand, type Command } from '../state/commands.js'
import { isStateFailure, type StateStore } from '../state/store.js'
import { runBlockingQuery, type BlockingEnv, type QueryFn, type QueryResult } from './blocking.js'
import { NoPathToDatacenterError, NotLeaderError, RejectedError } from './errors.js'
import type { ForwardedMethod, Forwarder } from './forward.js'
import type { AclGate } from './acl-gate.js'
import type { Identity } from '../acl/resolver.js'
import type { WatchSet } from '../state/watch.js'
import type { BlockingOutcome, CallContext, Consistency, QueryMeta, QueryOptions, QueryReply } from './types.js'

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void

export interface CoreOptions {
  state: StateStore
  raft: Consensus
  datacenter: string
  clock: Clock
  random: () => number
  newId: () => string
  log: Log
  metrics?: Metrics
}

/** Consul's name for the time a write takes on the leader, by command. */
const APPLY_METRIC: Record<Command['Type'], string> = {
  kvs: 'kvs.apply',
  txn: 'txn.apply',
  register: 'catalog.register',
  deregister: 'catalog.deregister',
  session: 'session.apply',
  query: 'prepared-query.apply',
  acl: 'acl.apply',
  coordinates: 'coordinate.batch-update',
  restore: 'snapshot.restore',
  'cluster-id': 'cluster-id.apply',
}

export class EndpointCore implements BlockingEnv {
  readonly state: StateStore
  readonly raft: Consensus
  readonly datacenter: string
  readonly clock: Clock
  readonly random: () => number
  readonly newId: () => string
  readonly log: Log
  readonly metrics: Metrics | undefined
  /** The apply timers by command type, looked up once (a registry lookup builds a key string). */
  readonly #applyTimers = new Map<string, ReturnType<Metrics['timer']>>()
  /** Who a request is and what it may do (every caller may do everything while ACLs are off). */
  acl!: AclGate
  /** Takes writes to the leader when this server is not it (clustered servers); without one a follower refuses. */
  forwarder: Forwarder | undefined
  /** The datacenters this server knows (the WAN pool's), this one first. */
  datacenters: () => string[] = () => [this.datacenter]

  constructor(o: CoreOptions) {
    this.state = o.state
    this.raft = o.raft
    this.datacenter = o.datacenter
    this.clock = o.clock
    this.random = o.random
    this.newId = o.newId
    this.log = o.log
    this.metrics = o.metrics
  }

  /** `?near`: rows sorted by estimated round trip from the source node (rtt.ts). */
  near<T>(source: QuerySource | undefined, rows: T[], nodeOf: (row: T) => string): T[] {
    return sortByDistance(this.state, this.datacenter, source, rows, nodeOf)
  }

  /** Another datacenter has no path yet (WAN federation comes later). */
  checkDatacenter(datacenter: string | undefined): void {
    if (datacenter && datacenter !== this.datacenter) throw new NoPathToDatacenterError()
  }

  /**
   * Writes run on the leader. Undefined on the leader (go on here); on another server the call
   * forwarded to the leader, or NotLeaderError with the hint when there is no forwarder.
   */
  forwardUnlessLeader<T>(method: ForwardedMethod, req: unknown): Promise<T> | undefined {
    if (this.raft.isLeader()) return undefined
    if (!this.forwarder) throw new NotLeaderError(this.raft.leaderAddress())
    return this.forwarder.forward<T>(method, req)
  }

  /**
   * THE consistency decision. `default`: the leader's own state; on another server, a read
   * barrier first (ReadIndex through the leader: what Consul gets by forwarding the read, without
   * moving it); `consistent`: a read barrier before every evaluation (the state then reflects
   * every write acknowledged before it); `stale`: whatever this server has.
   */
  #barrier(consistency: Consistency): (() => Promise<void>) | undefined {
    if (consistency === 'consistent') return () => this.raft.readBarrier()
    if (consistency === 'default' && !this.raft.isLeader()) return () => this.raft.readBarrier()
    return undefined
  }

  /**
   * A read endpoint: consistency, then the blocking loop, then the meta. A read that neither
   * blocks nor needs a barrier (most of them) is evaluated at once, without the loop's promises.
   */
  read<T>(opts: QueryOptions, call: CallContext | undefined, query: QueryFn<T>): Promise<QueryReply<T>> {
    if (opts.minQueryIndex || opts.consistency === 'consistent') return this.#readBlocking(opts, call, query)
    if ((opts.consistency !== 'stale' || opts.maxStaleMs !== undefined) && !this.raft.isLeader()) return this.#readBlocking(opts, call, query)
    try {
      this.checkDatacenter(opts.datacenter)
      const consistency = this.#consistency(opts)
      const result = query(undefined)
      return Promise.resolve({ value: result.value, meta: this.meta(result.index, consistency, undefined, result.filtered) })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * `read`, with the caller resolved in each evaluation (undefined: ACLs off or a management token,
   * nothing to check): so on a follower after the read barrier, against tables that hold every
   * token change acknowledged before the read, as Consul gets by resolving on the leader.
   */
  readAs<T>(opts: QueryOptions & { token?: string }, call: CallContext | undefined, query: (ws: WatchSet | undefined, who: Identity | undefined) => QueryResult<T>): Promise<QueryReply<T>> {
    const { acl } = this
    return this.read(opts, call, (ws) => query(ws, acl.caller(opts.token)))
  }

  async #readBlocking<T>(opts: QueryOptions, call: CallContext | undefined, query: QueryFn<T>): Promise<QueryReply<T>> {
    this.checkDatacenter(opts.datacenter)
    if (opts.minQueryIndex) this.metrics?.incr('rpc.query')
    const consistency = this.#consistency(opts)
    const { result, outcome } = await runBlockingQuery(
      this,
      { minQueryIndex: opts.minQueryIndex ?? 0, maxQueryTimeMs: opts.maxQueryTimeMs ?? 0, beforeEvaluate: this.#barrier(consistency) },
      call,
      query,
    )
    return { value: result.value, meta: this.meta(result.index, consistency, outcome, result.filtered) }
  }

  /** A read that never blocks (Txn.Read, PreparedQuery.Execute): consistency, one evaluation, meta. */
  async readOnce<T>(opts: QueryOptions, query: () => QueryResult<T>): Promise<QueryReply<T>> {
    this.checkDatacenter(opts.datacenter)
    const consistency = this.#consistency(opts)
    const barrier = this.#barrier(consistency)
    if (barrier) await barrier()
    const result = query()
    return { value: result.value, meta: this.meta(result.index, consistency, undefined, result.filtered) }
  }

  /**
   * A blocking read of data this agent owns rather than the replicated state (user events): the
   * same loop and meta, no consistency decision.
   */
  async localRead<T>(opts: QueryOptions, call: CallContext | undefined, query: QueryFn<T>): Promise<QueryReply<T>> {
    this.checkDatacenter(opts.datacenter)
    const { result, outcome } = await runBlockingQuery(this, { minQueryIndex: opts.minQueryIndex ?? 0, maxQueryTimeMs: opts.maxQueryTimeMs ?? 0 }, call, query)
    return { value: result.value, meta: this.meta(result.index, opts.consistency ?? 'default', outcome, result.filtered) }
  }

  /** The consistency a read gets: as asked, except a stale read too far behind the leader (?max_stale). */
  #consistency(opts: QueryOptions): Consistency {
    const asked = opts.consistency ?? 'default'
    if (asked !== 'stale' || opts.maxStaleMs === undefined || this.raft.isLeader()) return asked
    const lastContact = this.raft.lastContactMs()
    return lastContact >= 0 && lastContact <= opts.maxStaleMs ? 'stale' : 'default'
  }

  meta(index: number, consistency: Consistency, outcome: BlockingOutcome | undefined, filtered?: boolean): QueryMeta {
    const meta: QueryMeta = {
      index: Math.max(1, index),
      knownLeader: this.raft.leaderAddress() !== '',
      lastContactMs: this.raft.lastContactMs(),
      consistency: consistency === 'default' ? 'leader' : consistency,
    }
    if (outcome !== undefined) meta.outcome = outcome
    if (filtered) meta.filteredByAcls = true
    return meta
  }

  /**
   * Proposes a command through consensus and returns the state machine's answer, a refusal
   * turned into a RejectedError. Raft's errors (NotLeader, LeadershipLost, Shutdown) pass as they are.
   */
  async apply<T>(command: Command): Promise<{ index: number; value: T }> {
    const start = this.metrics?.clock.now() ?? 0
    const { index, response } = await this.raft.apply(encodeCommand(command))
    if (this.metrics) {
      let timer = this.#applyTimers.get(command.Type)
      if (!timer) this.#applyTimers.set(command.Type, (timer = this.metrics.timer(APPLY_METRIC[command.Type] ?? `${command.Type}.apply`)))
      timer.since(start)
    }
    if (isStateFailure(response)) throw new RejectedError(response.error.kind, response.error.message)
    return { index, value: response as T }
  }
}
