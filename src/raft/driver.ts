/**
 * The driver runs the pure core (core/node.ts) over real effects: storage, a transport, a clock
 * and a state machine (etcd-io/raft's node.go, the one place with a loop). It follows the Ready
 * contract: persist, send, apply, advance. Entries proposed while a write is in flight wait in the
 * core and go out together in the next Ready: that is the group commit, one fsync for many writes.
 *
 * Generic over StateMachine: raft knows nothing of the commands it carries.
 */
import { RaftMetrics } from './metrics.js'
import type { Metrics } from '../lib/metrics.js'
import { RaftNode, decodeConfChange, crc32, timingFromRaftMultiplier } from './core/index.js'
import type { ConfChange, ConfState, Entry, HardState, Message, Ready, Snapshot, SnapshotMeta, SoftState } from './core/types.js'
import type { ApplyResult, Consensus, PersistBatch, RaftServer, RaftStorage, ReplicationState, StateMachine, Transport } from './types.js'
import { LeadershipLostError, NotLeaderError, RaftShutdownError } from './errors.js'
import { systemClock, type Clock, type Timer } from '../lib/clock.js'
import { LIMITS } from '../lib/limits.js'
import { StorageError } from '../lib/errors.js'

export interface RaftDriverOptions {
  /** This server's raft id (Consul uses the node id). */
  id: string
  /** `ip:port` this server advertises for server RPC. */
  address: string
  storage: RaftStorage
  transport: Transport
  fsm: StateMachine
  clock?: Clock
  /** Uniform in [0, 1): election timeouts. */
  random: () => number
  /** The servers of a new cluster, written as its first entry when storage is empty (this one included). */
  bootstrap?: RaftServer[]
  /**
   * Manual recovery of a cluster that lost quorum for good (Consul's raft/peers.json, hashicorp's
   * RecoverCluster): before starting, everything in the log is applied, a snapshot of the result
   * is stored with this configuration, and the log is dropped. Every surviving server must be
   * given the same list.
   */
  recoverConfiguration?: RaftServer[]
  /** Addresses of servers known by id (the configuration stores ids; gossip and joins tell addresses). */
  addresses?: ReadonlyMap<string, string>
  /** Consul's performance.raft_multiplier (1..10, default 5). */
  raftMultiplier?: number
  /** Length of one core tick. */
  tickMs?: number
  snapshotThreshold?: number
  /** How often the threshold may trigger a snapshot (Consul's raft_snapshot_interval). */
  snapshotIntervalMs?: number
  trailingLogs?: number
  /** Stable, applied entries kept in memory when storage can read them back (hashicorp's LogCache; default 4096). */
  logCacheEntries?: number
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** The agent's telemetry registry; none in a simulation. */
  metrics?: Metrics
}

/** When to snapshot and how much log to keep (reloadable: Consul's raft_snapshot_threshold, raft_snapshot_interval, raft_trailing_logs). */
export interface SnapshotPolicy {
  threshold: number
  intervalMs: number
  trailingLogs: number
}

/** What a test may read of the core: its role, term, leader, configuration and log. */
export type CoreView = Pick<RaftNode, 'id' | 'role' | 'term' | 'leader' | 'log' | 'conf'>

interface PendingApply {
  term: number
  /** When it was proposed, on the metrics clock (raft.commitTime). */
  at: number
  resolve: (result: ApplyResult) => void
  reject: (err: Error) => void
}

interface PendingRead {
  resolve: () => void
  reject: (err: Error) => void
  timer: Timer
  /** Set once the leader has answered: the index to reach before reading. */
  index?: number
}

export class RaftDriver implements Consensus {
  readonly id: string
  readonly #o: RaftDriverOptions
  readonly #clock: Clock
  readonly #log: NonNullable<RaftDriverOptions['log']>
  readonly #addresses = new Map<string, string>()
  readonly #tickMs: number
  readonly #readTimeoutMs: number
  readonly #m: RaftMetrics | undefined
  #node!: RaftNode
  #ticker: Timer | undefined
  #running = false
  #scheduled = false
  #closed = false
  #failed: Error | undefined
  #applied = 0
  #snapshotIndex = 0
  #snapshotting = false
  #snapshotDone: Promise<void> = Promise.resolve()
  #lastSnapshotAt: number
  #policy: SnapshotPolicy
  /** The hard state last handed out, and whether storage has it (a commit-only change waits for the next write). */
  #hard: HardState = { term: 0, vote: '', commit: 0 }
  #hardSaved = true
  #lastContact = 0
  #leader = false
  readonly #pending = new Map<number, PendingApply>()
  readonly #reads = new Map<string, PendingRead>()
  #readSeq = 0
  readonly #appliedWaiters: Array<{ index: number; resolve: () => void }> = []
  readonly #leadershipListeners = new Set<(isLeader: boolean) => void>()
  #loopDone: Promise<void> = Promise.resolve()
  /** Entries of the Ready in hand applied before its write (see #beforeWrite). */
  #appliedEarly = 0
  /** The Ready whose messages already went out while its entries were being written (a leader's). */
  #sentEarly: Ready | undefined

  private constructor(opts: RaftDriverOptions) {
    this.#o = opts
    this.id = opts.id
    this.#clock = opts.clock ?? systemClock
    this.#log = opts.log ?? (() => {})
    this.#m = opts.metrics ? new RaftMetrics(opts.metrics) : undefined
    this.#tickMs = opts.tickMs ?? LIMITS.raftTickMs
    for (const [id, address] of opts.addresses ?? []) this.#addresses.set(id, address)
    for (const s of opts.bootstrap ?? []) this.#addresses.set(s.id, s.address)
    this.#addresses.set(opts.id, opts.address)
    const timing = timingFromRaftMultiplier(opts.raftMultiplier, this.#tickMs)
    // A read no leader confirms within an election timeout fails rather than hangs.
    this.#readTimeoutMs = timing.electionTicks * this.#tickMs * 2
    this.#heartbeatMs = timing.heartbeatTicks * this.#tickMs
    this.#lastSnapshotAt = this.#clock.now()
    this.#policy = {
      threshold: opts.snapshotThreshold ?? LIMITS.raftSnapshotThreshold,
      intervalMs: opts.snapshotIntervalMs ?? LIMITS.raftSnapshotIntervalMs,
      trailingLogs: opts.trailingLogs ?? LIMITS.raftTrailingLogs,
    }
  }

  /** New snapshot settings (a config reload); the next applied entry sees them. */
  setSnapshotPolicy(policy: SnapshotPolicy): void {
    this.#policy = { ...policy }
  }

  /**
   * Recovers from storage (snapshot into the state machine; the log for the core), then starts the
   * ticker. A server that is the only voter elects itself at once and resolves once everything it
   * recovered is applied; others resolve at once and catch up as the leader tells them.
   */
  static async open(opts: RaftDriverOptions): Promise<RaftDriver> {
    const d = new RaftDriver(opts)
    await d.#start()
    return d
  }

  async #start(): Promise<void> {
    const o = this.#o
    const recovered = o.storage.recover()
    let snapshot = recovered.snapshot
    let entries = recovered.entries
    if (snapshot && (snapshot.meta.size !== snapshot.data.byteLength || snapshot.meta.crc32 !== crc32(snapshot.data))) {
      throw new RaftShutdownError(`raft: the snapshot at index ${snapshot.meta.index} does not match its metadata`)
    }
    const hasConf = (snapshot !== undefined && snapshot.meta.conf.voters.length > 0) || entries.some((e) => e.type === 'config')
    if (!hasConf && (snapshot !== undefined || entries.length > 0)) {
      // Written by the single-server raft this driver replaced: it had one voter, this server.
      const conf: ConfState = { voters: [o.id], learners: [] }
      const empty = new Uint8Array(0)
      snapshot = snapshot
        ? { meta: { ...snapshot.meta, conf }, data: snapshot.data }
        : { meta: { index: 0, term: 0, conf, size: 0, crc32: crc32(empty) }, data: empty }
      this.#log('info', 'raft: recovered a single-server log; its configuration is this server alone')
    }
    if (snapshot && snapshot.meta.index > 0) {
      o.fsm.restore(snapshot.data)
      this.#applied = snapshot.meta.index
      this.#snapshotIndex = snapshot.meta.index
    }
    this.#hard = recovered.hardState
    if (o.recoverConfiguration) {
      snapshot = await this.#recoverConfiguration(o.recoverConfiguration, snapshot, entries)
      entries = []
    }
    const timing = timingFromRaftMultiplier(o.raftMultiplier, this.#tickMs)
    this.#node = new RaftNode(
      {
        id: o.id,
        random: o.random,
        ...timing,
        peers: o.bootstrap ? { voters: o.bootstrap.filter((s) => s.voter).map((s) => s.id), learners: o.bootstrap.filter((s) => !s.voter).map((s) => s.id) } : undefined,
        logger: (line, level = 'info') => this.#log(level, `raft: ${line}`),
      },
      {
        hardState: this.#hard, snapshot, entries, applied: this.#applied,
        reader: o.storage.readEntries ? (lo, hi, max) => o.storage.readEntries!(lo, hi, max) : undefined,
        cacheEntries: o.logCacheEntries,
      },
    )
    o.transport.onMessage((m) => this.#receive(m))
    this.#ticker = this.#clock.setInterval(() => this.#tick(), this.#tickMs)
    const conf = this.#node.conf()
    if (conf.voters.length === 1 && conf.voters[0] === o.id) {
      this.#node.campaign()
      this.#kick()
      await this.#whenLeader()
      await this.#waitApplied(this.#node.log.lastIndex())
    } else {
      this.#kick()
    }
  }

  /** See RaftDriverOptions.recoverConfiguration. Returns the snapshot the server now starts from. */
  async #recoverConfiguration(servers: RaftServer[], snapshot: Snapshot | undefined, entries: Entry[]): Promise<Snapshot> {
    const o = this.#o
    if (!servers.some((s) => s.voter)) throw new RaftShutdownError('raft: a recovery configuration needs at least one voter')
    // Uncommitted entries too, as hashicorp's RecoverCluster: a survivor may hold the only copy of an acknowledged write.
    for (const e of entries) {
      if (e.index <= this.#applied) continue
      if (e.type === 'normal') {
        try {
          o.fsm.apply(e.index, e.data)
        } catch (err) {
          this.#log('warn', `raft: recovery: entry ${e.index} failed to apply: ${(err as Error).message}`)
        }
      } else o.fsm.skip(e.index)
      this.#applied = e.index
    }
    const last = entries.at(-1)
    const index = last?.index ?? snapshot?.meta.index ?? 0
    const term = last?.term ?? snapshot?.meta.term ?? 0
    const data = await o.fsm.snapshot()
    const conf: ConfState = { voters: servers.filter((s) => s.voter).map((s) => s.id), learners: servers.filter((s) => !s.voter).map((s) => s.id) }
    // This server is where it listens now, whatever the file says.
    for (const s of servers) if (s.id !== this.id) this.#addresses.set(s.id, s.address)
    const recovered: Snapshot = { meta: { index, term, conf, size: data.byteLength, crc32: crc32(data) }, data }
    this.#hard = { term: Math.max(this.#hard.term, term), vote: '', commit: index }
    await o.storage.persist({ snapshot: recovered, entries: [], hardState: this.#hard })
    this.#applied = index
    this.#snapshotIndex = index
    this.#log('info', `raft: recovered the cluster configuration at index ${index}: ${servers.map((s) => `${s.id} (${s.address})`).join(', ')}`)
    return recovered
  }

  // ---- Consensus ------------------------------------------------------------------------------

  apply(data: Uint8Array): Promise<ApplyResult> {
    return this.#propose((n) => n.propose(data))
  }

  /** hashicorp/raft's Barrier: resolves once every entry before it is applied here. */
  barrier(): Promise<ApplyResult> {
    return this.#propose((n) => n.barrier())
  }

  /**
   * Bootstraps a new cluster with these servers (every one given the same list): only on a server
   * that has never held raft state; false otherwise. See RaftNode.bootstrap.
   */
  bootstrap(servers: readonly RaftServer[]): boolean {
    if (this.#down()) return false
    const conf: ConfState = { voters: servers.filter((s) => s.voter).map((s) => s.id), learners: servers.filter((s) => !s.voter).map((s) => s.id) }
    if (!this.#node.bootstrap(conf)) return false
    for (const s of servers) this.#addresses.set(s.id, s.address)
    this.#log('info', `raft: bootstrapped a cluster of ${servers.map((s) => `${s.id} (${s.address})`).join(', ')}`)
    this.#kick()
    return true
  }

  /** True while this server has never held raft state (nothing to keep: it may bootstrap). */
  isFresh(): boolean {
    return this.#node.term === 0 && this.#node.log.lastIndex() === 0
  }

  /** Where server `id` is reached (membership tells; the configuration holds ids only). */
  setAddress(id: string, address: string): void {
    if (id !== this.id) this.#addresses.set(id, address)
  }

  /** The log index of the configuration in force. */
  configurationIndex(): number {
    return this.#node.confIndex()
  }

  /** The address known for server `id`, or undefined. */
  addressOf(id: string): string | undefined {
    return this.#addresses.get(id)
  }

  /** Adds a server as a non-voter; the leader promotes it once it has caught up. */
  addServer(id: string, address: string): Promise<ApplyResult> {
    this.#addresses.set(id, address)
    return this.#propose((n) => n.addServer(id))
  }

  removeServer(id: string): Promise<ApplyResult> {
    return this.#propose((n) => n.proposeConfChange({ type: 'remove', id }))
  }

  transferLeadership(to: string): boolean {
    const ok = this.#node.transferLeadership(to)
    this.#kick()
    return ok
  }

  readBarrier(): Promise<void> {
    const down = this.#down()
    if (down) return Promise.reject(down)
    return new Promise((resolve, reject) => {
      const context = `${this.id}/${++this.#readSeq}`
      if (!this.#node.readIndex(context)) {
        reject(new NotLeaderError(this.leaderAddress()))
        return
      }
      const timer = this.#clock.setTimeout(() => {
        if (this.#reads.delete(context)) reject(new NotLeaderError(this.leaderAddress()))
      }, this.#readTimeoutMs)
      this.#reads.set(context, { resolve, reject, timer })
      this.#kick()
    })
  }

  isLeader(): boolean {
    return !this.#closed && this.#node.role === 'leader'
  }

  leaderAddress(): string {
    const leader = this.#closed ? '' : this.#node.leader
    return leader === '' ? '' : (this.#addresses.get(leader) ?? '')
  }

  /** The raft id of the leader, or "" when none is known. */
  leaderId(): string {
    return this.#closed ? '' : this.#node.leader
  }

  servers(): RaftServer[] {
    const conf = this.#node.conf()
    const server = (id: string, voter: boolean): RaftServer => ({ id, address: this.#addresses.get(id) ?? '', voter })
    return [...conf.voters.map((id) => server(id, true)), ...conf.learners.map((id) => server(id, false))]
  }

  currentTerm(): number {
    return this.#node.term
  }

  /** When each peer last sent a message this server took (the leader's view of its followers' contact). */
  readonly #heardFrom = new Map<string, number>()
  #heartbeatMs = 0

  replication(): { heartbeatMs: number; servers: ReplicationState[] } | undefined {
    const n = this.#node
    if (n.role !== 'leader' || this.#closed) return undefined
    const now = this.#clock.now()
    const last = n.log.lastIndex()
    const servers = this.servers().map(({ id, voter }) => {
      if (id === this.id) return { id, voter, matchIndex: last, matchTerm: n.log.term(last) ?? 0, lastContactMs: 0 }
      const match = n.progress(id)?.match ?? 0
      const heard = this.#heardFrom.get(id)
      return { id, voter, matchIndex: match, matchTerm: n.log.term(match) ?? 0, lastContactMs: heard === undefined ? -1 : now - heard }
    })
    return { heartbeatMs: this.#heartbeatMs, servers }
  }

  lastContactMs(): number {
    if (this.isLeader()) return 0
    return this.#lastContact === 0 ? -1 : this.#clock.now() - this.#lastContact
  }

  appliedIndex(): number {
    return this.#applied
  }

  /** The core's observable state, for tests to read (the simulator's safety checks): not for driving it. */
  get core(): CoreView {
    return this.#node
  }

  stats(): Record<string, string> {
    const n = this.#node
    const conf = n.conf()
    const state = this.#closed ? 'Shutdown' : { leader: 'Leader', candidate: 'Candidate', preCandidate: 'Candidate', follower: 'Follower' }[n.role]
    return {
      state,
      term: String(n.term),
      last_log_index: String(n.log.lastIndex()),
      last_log_term: String(n.log.term(n.log.lastIndex()) ?? 0),
      commit_index: String(n.log.committed),
      applied_index: String(this.#applied),
      fsm_pending: String(Math.max(0, n.log.committed - this.#applied)),
      last_snapshot_index: String(this.#snapshotIndex),
      last_contact: this.isLeader() ? '0' : this.#lastContact === 0 ? 'never' : `${this.lastContactMs()}ms`,
      num_peers: String(Math.max(0, conf.voters.filter((v) => v !== this.id).length)),
      latest_configuration: `[${this.servers().map((s) => `{Suffrage:${s.voter ? 'Voter' : 'Nonvoter'} ID:${s.id} Address:${s.address}}`).join(' ')}]`,
      protocol_version: '3',
    }
  }

  onLeadershipChange(listener: (isLeader: boolean) => void): () => void {
    this.#leadershipListeners.add(listener)
    return () => this.#leadershipListeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#ticker?.cancel()
    this.#o.transport.close()
    await this.#loopDone.catch(() => undefined)
    this.#failAll(new RaftShutdownError())
    // A snapshot being serialized is finished and saved before the storage closes.
    await this.#snapshotDone
    await this.#o.storage.close()
  }

  // ---- inputs ---------------------------------------------------------------------------------

  #propose(fn: (node: RaftNode) => ReturnType<RaftNode['propose']>): Promise<ApplyResult> {
    const down = this.#down()
    if (down) return Promise.reject(down)
    const r = fn(this.#node)
    if (!r.ok) {
      if (r.reason === 'not the leader') return Promise.reject(new NotLeaderError(this.#addresses.get(r.leader) ?? ''))
      return Promise.reject(new Error(`raft: ${r.reason}`))
    }
    this.#m?.apply.incr()
    const at = this.#m?.now() ?? 0
    return new Promise((resolve, reject) => {
      this.#pending.set(r.index, { term: r.term, at, resolve, reject })
      this.#kick()
    })
  }

  #receive(message: unknown): void {
    if (this.#closed) return
    const why = this.#node.step(message)
    if (why !== undefined) return
    this.#m?.received(message as Message)
    const from = (message as Message).from
    const now = this.#clock.now()
    if (from === this.#node.leader) this.#lastContact = now
    this.#heardFrom.set(from, now)
    this.#kick()
  }

  #tick(): void {
    if (this.#closed) return
    this.#node.tick()
    if (this.#m && this.#leader) this.#m.leaderContact(this.#clock.now(), () => this.replication()?.servers.filter((s) => s.id !== this.id).map((s) => s.lastContactMs) ?? [])
    this.#kick()
  }

  #down(): Error | undefined {
    if (this.#failed) return this.#failed
    if (this.#closed) return new RaftShutdownError()
    return undefined
  }

  // ---- the Ready loop -------------------------------------------------------------------------

  /** Runs the loop after the current turn: proposals of one turn share one Ready (and one fsync). */
  #kick(): void {
    if (this.#scheduled || this.#running || this.#failed) return
    this.#scheduled = true
    this.#clock.defer(() => {
      this.#scheduled = false
      this.#run()
    })
  }

  /**
   * Hands out Readies until the core has none. Synchronous while storage is (a simulation's, or
   * memory): only a real write makes the loop wait, so a simulated cluster runs without awaiting.
   */
  #run(): void {
    if (this.#running || this.#failed) return
    this.#running = true
    try {
      for (let rd = this.#node.ready(); rd !== undefined; rd = this.#node.ready()) {
        const write = this.#beforeWrite(rd)
        if (write) {
          const ready = rd
          this.#loopDone = write
            .then(() => {
              this.#afterWrite(ready)
              this.#running = false
              this.#run()
            })
            .catch((err: Error) => this.#storageFailed(err))
          return
        }
        this.#afterWrite(rd)
      }
    } catch (err) {
      this.#storageFailed(err as Error)
      return
    }
    this.#running = false
    this.#maybeSnapshot()
  }

  /** Storage that cannot write must stop this server: nothing more may be acknowledged. */
  #storageFailed(err: Error): void {
    this.#running = false
    if (this.#failed) return
    this.#failed = new RaftShutdownError(`raft storage failed: ${err.message}`)
    this.#log('error', this.#failed.message)
    this.#ticker?.cancel()
    this.#failAll(this.#failed)
  }

  /** Until the write: what may happen before it. Returns the write when storage is asynchronous. */
  #beforeWrite(rd: Ready): Promise<void> | undefined {
    if (rd.softState) this.#softStateChanged(rd.softState)
    if (rd.hardState) {
      // Only term and vote must be durable. The commit index is not (hashicorp/raft never stores
      // it): writing it with every entry cost a second B-tree page per fsync, 20% of a lone PUT.
      if (rd.hardState.term !== this.#hard.term || rd.hardState.vote !== this.#hard.vote) this.#hardSaved = false
      this.#hard = rd.hardState
    }
    // Committed entries already on this server's disk need not wait for this Ready's fsync.
    const committed = rd.committedEntries
    const firstNew = rd.entries[0]?.index ?? Infinity
    this.#appliedEarly = 0
    if (!rd.snapshot) {
      while (this.#appliedEarly < committed.length && committed[this.#appliedEarly]!.index < firstNew) this.#applyEntry(committed[this.#appliedEarly++]!)
    }
    // A commit-only change of the hard state is not written (see above); it rides along when term or vote change.
    if (!rd.snapshot && rd.entries.length === 0 && !rd.mustSync) return undefined
    const hardState = this.#hardSaved ? undefined : this.#hard
    this.#hardSaved = true
    // A leader sends its appends while it writes them (the Raft thesis, §10.2.1, as etcd's leader
    // does): followers write in parallel with it. Its own copy counts toward commit only once durable
    // (the core's match for itself is its stable index), so nothing is acknowledged before a majority
    // has it on disk. A term or vote not yet durable is written before anything is sent.
    if (this.#leader && !rd.snapshot && hardState === undefined) {
      for (const m of rd.messages) this.#send(m)
      this.#sentEarly = rd
    }
    const batch = { snapshot: rd.snapshot, entries: rd.entries, hardState }
    const write = this.#o.storage.persist(batch)
    return write instanceof Promise ? write.catch((err: unknown) => this.#retryWhileFull(err, batch)) : undefined
  }

  /**
   * A full disk rolled the write back whole: this server waits, acknowledging nothing, and writes
   * the same batch once there is room (as a slow disk would: the others may elect meanwhile). Any
   * other failure stops raft here (#storageFailed).
   */
  async #retryWhileFull(err: unknown, batch: PersistBatch): Promise<void> {
    let delay = 100
    for (let attempt = 0; ; attempt++) {
      if (this.#closed || !(err instanceof StorageError) || !err.transient) throw err
      if (attempt % 20 === 0) this.#log('warn', `raft: the disk is full, retrying the write: ${err.message}`)
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 2000)
      try {
        await this.#o.storage.persist(batch)
        this.#log('info', 'raft: the disk has room again; writing resumed')
        return
      } catch (next) {
        err = next
      }
    }
  }

  /** After the write is durable: send, install, apply, serve reads, advance. */
  #afterWrite(rd: Ready): void {
    if (this.#sentEarly !== rd) for (const m of rd.messages) this.#send(m)
    this.#sentEarly = undefined
    if (rd.snapshot) this.#installSnapshot(rd.snapshot)
    const committed = rd.committedEntries
    for (let i = this.#appliedEarly; i < committed.length; i++) this.#applyEntry(committed[i]!)
    for (const rs of rd.readStates) {
      const read = this.#reads.get(rs.context)
      if (read) read.index = rs.index
    }
    this.#releaseReads()
    this.#node.advance(rd)
  }

  #send(m: Message): void {
    this.#m?.sent(m)
    this.#o.transport.send(m)
  }

  #applyEntry(e: Entry): void {
    if (e.index <= this.#applied) return
    let response: unknown
    let failure: Error | undefined
    // One clock reading ends both the apply's timing and the commit's.
    let appliedAt: number | undefined
    if (e.type === 'normal') {
      try {
        const start = this.#m?.now() ?? 0
        response = this.#o.fsm.apply(e.index, e.data)
        if (this.#m) this.#m.fsmApply.between(start, (appliedAt = this.#m.now()))
      } catch (err) {
        // Every server fails the same way on the same bytes; the proposer hears why.
        failure = err as Error
        this.#log('error', `raft: applying entry ${e.index} failed: ${failure.message}`)
      }
    } else {
      this.#o.fsm.skip(e.index)
      if (e.type === 'config') this.#configApplied(e)
    }
    this.#applied = e.index
    const p = this.#pending.get(e.index)
    if (p) {
      this.#pending.delete(e.index)
      if (p.term !== e.term) p.reject(new LeadershipLostError())
      else if (failure) p.reject(failure)
      else {
        if (this.#m) this.#m.commitTime.between(p.at, appliedAt ?? this.#m.now())
        p.resolve({ index: e.index, response })
      }
    }
    this.#releaseAppliedWaiters()
  }

  #configApplied(e: Entry): void {
    const cc: ConfChange | undefined = decodeConfChange(e.data)
    if (cc?.type === 'remove' && cc.id === this.id) this.#log('info', 'raft: this server was removed from the configuration')
  }

  #installSnapshot(s: Snapshot): void {
    const start = this.#m?.now() ?? 0
    this.#o.fsm.restore(s.data)
    this.#m?.installSnapshot.since(start)
    this.#applied = s.meta.index
    this.#snapshotIndex = s.meta.index
    this.#log('info', `raft: installed the leader's snapshot at index ${s.meta.index}`)
    this.#releaseAppliedWaiters()
  }

  #softStateChanged(s: SoftState): void {
    this.#m?.role(s.role)
    const leader = s.role === 'leader'
    if (s.leader !== '' && s.leader !== this.id) this.#lastContact = this.#clock.now()
    if (leader === this.#leader) return
    this.#leader = leader
    if (!leader) {
      // A leader was in contact with a quorum until it stepped down: LastContact counts from then.
      this.#lastContact = this.#clock.now()
      // hashicorp/raft fails in-flight futures when leadership is lost: their outcome is unknown.
      const lost = new LeadershipLostError()
      for (const p of this.#pending.values()) p.reject(lost)
      this.#pending.clear()
    }
    for (const listener of this.#leadershipListeners) listener(leader)
  }

  #releaseReads(): void {
    for (const [context, read] of this.#reads) {
      if (read.index !== undefined && read.index <= this.#applied) {
        this.#reads.delete(context)
        read.timer.cancel()
        read.resolve()
      }
    }
  }

  #releaseAppliedWaiters(): void {
    if (this.#reads.size > 0) this.#releaseReads()
    while (this.#appliedWaiters.length > 0 && this.#appliedWaiters[0]!.index <= this.#applied) this.#appliedWaiters.shift()!.resolve()
  }

  #waitApplied(index: number): Promise<void> {
    if (index <= this.#applied) return Promise.resolve()
    return new Promise((resolve) => {
      this.#appliedWaiters.push({ index, resolve })
      this.#appliedWaiters.sort((a, b) => a.index - b.index)
    })
  }

  #whenLeader(): Promise<void> {
    if (this.#node.role === 'leader') return Promise.resolve()
    return new Promise((resolve) => {
      const off = this.onLeadershipChange((isLeader) => {
        if (isLeader) {
          off()
          resolve()
        }
      })
    })
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err)
    this.#pending.clear()
    for (const r of this.#reads.values()) {
      r.timer.cancel()
      r.reject(err)
    }
    this.#reads.clear()
  }

  // ---- snapshots ------------------------------------------------------------------------------

  #maybeSnapshot(): void {
    const o = this.#o
    const applied = this.#applied
    if (this.#closed || this.#failed || this.#snapshotting) return
    const { threshold, intervalMs, trailingLogs } = this.#policy
    if (applied - this.#snapshotIndex < threshold) return
    if (this.#clock.now() - this.#lastSnapshotAt < intervalMs) return
    this.#lastSnapshotAt = this.#clock.now()
    this.#snapshotting = true
    const started = this.#m?.now() ?? 0
    let persisting = 0
    const created = (): void => {
      this.#m?.snapshotCreate.since(started)
      persisting = this.#m?.now() ?? 0
    }
    const done = (meta: SnapshotMeta): void => {
      this.#m?.snapshotPersist.since(persisting)
      this.#snapshotIndex = Math.max(this.#snapshotIndex, meta.index)
      this.#log('info', `raft: snapshot at index ${meta.index}`)
    }
    const failed = (err: Error): void => this.#log('error', `raft: snapshot failed: ${err.message}`)
    // The state is captured now, at `applied`; serializing it may take several turns. A state
    // machine and storage that answer at once (a simulation's) keep the whole step synchronous.
    try {
      const data = o.fsm.snapshot()
      if (data instanceof Promise) {
        this.#snapshotDone = data
          .then(async (bytes) => {
            created()
            const meta = this.#node.compact(applied, bytes, trailingLogs)
            if (!meta) return
            await o.storage.saveSnapshot({ meta, data: bytes }, Math.max(0, applied - trailingLogs))
            done(meta)
          })
          .catch(failed)
          .finally(() => (this.#snapshotting = false))
        return
      }
      created()
      const meta = this.#node.compact(applied, data, trailingLogs)
      const saved = meta ? o.storage.saveSnapshot({ meta, data }, Math.max(0, applied - trailingLogs)) : undefined
      if (saved instanceof Promise) {
        this.#snapshotDone = saved
          .then(() => done(meta!))
          .catch(failed)
          .finally(() => (this.#snapshotting = false))
        return
      }
      if (meta) done(meta)
    } catch (err) {
      failed(err as Error)
    }
    this.#snapshotting = false
  }
}
