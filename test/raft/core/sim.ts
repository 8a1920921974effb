import { RaftNode, type InitialState } from '../../../src/raft/core/node.js'
import type { RaftConfig } from '../../../src/raft/core/config.js'
import type { Message, Ready } from '../../../src/raft/core/types.js'
import { mulberry32 } from '../../../src/lib/prng.js'
import { SafetyChecks } from './sim-checks.js'
import { SimClients, type ClientReport } from './sim-clients.js'
import { SimKv, encodeCommand, memoDecoder, type KvCommand, type KvStateMachine } from './sim-kv.js'
import { PARTITION_KINDS, SimNetwork, describeMessage } from './sim-network.js'
import { SimStorage } from './sim-storage.js'

/**
 * A deterministic cluster simulator (TigerBeetle's VOPR in spirit). One seeded PRNG drives a virtual
 * clock of ticks and every fault: a network that drops, delays (so reorders) and duplicates messages
 * and partitions (an isolated server or leader, halves, a bridge server, one-way cuts), crashes at
 * any point of a Ready (a prefix of its writes on disk, nothing sent, no advance) or between them,
 * disks that lose unsynced writes and tear the last record, restarts from what was persisted,
 * snapshots, membership changes and leadership transfers. Clients read and write a KV state machine
 * (sim-clients.ts). Safety (sim-checks.ts) is checked after every step and throws with the seed and
 * the trace; `run()` then heals everything and checks liveness, convergence and linearizability.
 * The same seed gives the same trace (`traceMessages` adds one line per delivered message).
 */
export interface SimOptions {
  seed: number
  nodes?: number
  /** Servers that start outside the cluster (no peers) and may be added, one at a time, by the leader. */
  spares?: number
  steps?: number
  dropRate?: number
  crashRate?: number
  /** Chance per step that the network is cut (or healed, when it is cut). */
  partitionRate?: number
  /**
   * Chance that a newly elected leader is fragile: it crashes within 3 ticks, or right after sending
   * its first appends to a minority only. The Raft paper's Figure 8 is a chain of such leaders.
   */
  fragileLeaderRate?: number
  /**
   * Every new leader is fragile, and crashes at a Ready (stranding its first appends on a minority,
   * or on its first commit): leaders come and go with divergent uncommitted tails, as in Figure 8.
   */
  leaderChurn?: boolean
  /** Bytes per append message (1 entry per message at 64: old-term entries then travel without the new leader's). */
  maxMsgBytes?: number
  /** KV clients (0 for none). */
  clients?: number
  /** Random membership changes while spares remain or the cluster has more than 3 voters. */
  membership?: boolean
  /** Random leadership transfers (with faults on). */
  transfers?: boolean
  traceMessages?: boolean
  /**
   * Check each ReadIndex answer against what was committed before it was asked (on by default; a
   * test turns it off to show the history checker alone catches stale consistent reads).
   */
  readFloorCheck?: boolean
  /** The raft implementation under test (a test may pass a deliberately broken one). */
  createNode?: NodeFactory
}

export type NodeFactory = (config: RaftConfig, initial: InitialState) => RaftNode

export interface SimResult {
  seed: number
  steps: number
  clients: ClientReport | undefined
}

/** After healing: steps with load, then at most this many quiet steps until every member has converged. */
const HEAL_LOAD_STEPS = 60
const HEAL_QUIET_STEPS_MAX = 240

export class Sim {
  readonly trace: string[] = []
  readonly checks: SafetyChecks
  readonly clients: SimClients | undefined
  readonly #rand: () => number
  readonly #ids: string[]
  readonly #initial: string[]
  readonly #everAdded = new Set<string>()
  readonly #opts: Required<Omit<SimOptions, 'createNode'>> & { createNode: NodeFactory }
  readonly #nodes = new Map<string, RaftNode>()
  readonly #fsm = new Map<string, KvStateMachine>()
  readonly #storage = new Map<string, SimStorage>()
  readonly #down = new Map<string, number>()
  /** Fragile leaders crash at a tick, at their n-th Ready with appends, or when their commit index passes `commit`. */
  readonly #doomed = new Map<string, { at: number; appends: number; commit: number }>()
  readonly #net: SimNetwork
  readonly #decode: (data: Uint8Array) => KvCommand | undefined = memoDecoder()
  /** Snapshots installed from a leader, per server (InstallSnapshot completed). */
  readonly installed = new Map<string, number>()
  #now = 0
  #steps = 0
  #healed = false
  #proposals = 0

  constructor(opts: SimOptions) {
    this.#opts = {
      nodes: 5, spares: 0, steps: 400, dropRate: 0.1, crashRate: 0.01, partitionRate: 0.02, fragileLeaderRate: 0.15, leaderChurn: false, maxMsgBytes: 256,
      clients: 3, membership: true, transfers: true, traceMessages: false, readFloorCheck: true, ...opts, createNode: opts.createNode ?? ((c, i) => new RaftNode(c, i)),
    }
    this.#rand = mulberry32(opts.seed)
    this.#net = new SimNetwork(this.#rand, { drop: this.#opts.dropRate, duplicate: 0.05, delay: 0.45, longDelay: 0.02 })
    this.checks = new SafetyChecks((what) => this.#fail(what))
    this.#ids = Array.from({ length: this.#opts.nodes + this.#opts.spares }, (_, i) => `n${i + 1}`)
    this.#initial = this.#ids.slice(0, this.#opts.nodes)
    if (this.#opts.clients > 0) {
      const view = {
        now: () => this.#now,
        node: (id: string) => this.#nodes.get(id),
        fsm: (id: string) => this.#fsm.get(id),
        up: () => [...this.#nodes.keys()],
        maxCommitted: () => this.#maxCommitted(),
        fail: (what: string) => this.#fail(what),
        log: (line: string) => this.#log(line),
      }
      this.clients = new SimClients(view, this.#rand, { clients: this.#opts.clients, keys: 3, rate: 0.3, timeoutTicks: 40, readFloorCheck: this.#opts.readFloorCheck })
    }
    for (const id of this.#ids) {
      this.#storage.set(id, new SimStorage())
      this.#start(id)
    }
  }

  get now(): number { return this.#now }
  get ids(): readonly string[] { return this.#ids }
  node(id: string): RaftNode | undefined { return this.#nodes.get(id) }
  fsm(id: string): KvStateMachine | undefined { return this.#fsm.get(id) }
  isUp(id: string): boolean { return this.#nodes.has(id) }
  /** The one running leader of the highest term, if any. */
  leader(): RaftNode | undefined {
    let best: RaftNode | undefined
    for (const n of this.#nodes.values()) if (n.role === 'leader' && (best === undefined || n.term > best.term)) best = n
    return best
  }

  /** The campaign: `steps` steps with every fault, then heal and check recovery and the client history. */
  run(): SimResult {
    for (let i = 0; i < this.#opts.steps; i++) this.step(true, true)
    this.heal()
    for (let i = 0; i < HEAL_LOAD_STEPS; i++) this.step(false, true)
    for (let i = 0; i < HEAL_QUIET_STEPS_MAX; i++) {
      if (i % 5 === 0 && this.converged() === '' && (this.clients?.busy ?? 0) === 0 && (this.clients?.answeredAfterHeal ?? 1) > 0) break
      this.clients?.probeWrite()
      this.step(false, false)
    }
    const why = this.converged()
    if (why !== '') this.#fail(`liveness: ${why}`)
    this.#checkProbe()
    const report = this.clients?.report()
    if (report !== undefined) {
      if (report.linearizable !== 'ok') this.#fail(`linearizability: consistent reads and writes are ${report.linearizable}\n${report.explanation}`)
      if (report.impossible > 0) this.#fail(`${report.impossible} read(s) returned a value no earlier state held`)
      if (report.answeredAfterHeal === 0) this.#fail('liveness: no client write issued after healing was answered')
    }
    return { seed: this.#opts.seed, steps: this.#steps, clients: report }
  }

  /** Ends every fault: the network is whole and reliable, and every crashed server restarts. */
  heal(): void {
    this.#healed = true
    this.#net.heal()
    this.#doomed.clear()
    for (const id of [...this.#down.keys()]) this.#restart(id)
    this.clients?.healed()
    this.#log('healed: network whole and reliable, all servers up')
  }

  step(faults: boolean, load: boolean): void {
    this.#now++
    this.#steps++
    if (faults) this.#faults()
    for (const [id, at] of this.#down) if (at <= this.#now) this.#restart(id)
    for (const [id, n] of this.#nodes) {
      n.tick()
      if (load && n.role === 'leader' && this.#rand() < 0.3) {
        const p = ++this.#proposals
        const r = n.propose(encodeCommand({ id: `l${p}`, op: 'put', key: '_load', value: `p${p}` }))
        if (r.ok) this.#log(`${id} proposes p${p} at ${r.index}`)
      }
      if (load && this.#opts.membership && n.role === 'leader' && this.#rand() < 0.01) this.#changeMembership(n)
      if (load && faults && this.#opts.transfers && n.role === 'leader' && this.#rand() < 0.01) {
        const to = this.#ids[Math.floor(this.#rand() * this.#ids.length)]
        if (n.transferLeadership(to)) this.#log(`${id} transfers leadership to ${to}`)
      }
    }
    this.clients?.tick(load)
    this.#drain()
    this.checks.step(this.#nodes.values(), (line) => this.#newLeader(line))
  }

  /** Takes a snapshot on `id` at its applied index, keeping `keep` entries before it. */
  compact(id: string, keep: number): number | undefined {
    const n = this.#nodes.get(id)
    if (n === undefined || n.log.applied <= n.log.snapshotIndex) return undefined
    const data = this.#fsm.get(id)!.snapshot()
    const meta = n.compact(n.log.applied, data, keep)
    if (meta === undefined) return undefined
    const st = this.#storage.get(id)!
    // The snapshot file is written and synced before the log is cut behind it.
    st.saveSnapshot({ meta, data })
    st.sync()
    st.rewrite(meta.index - keep)
    this.#log(`${id} snapshots at ${meta.index}, keeps ${keep} entries before it`)
    return meta.index
  }

  crash(id: string, why: string): void {
    this.#nodes.delete(id)
    this.#fsm.delete(id)
    this.#doomed.delete(id)
    this.#down.set(id, this.#now + 5 + Math.floor(this.#rand() * 20))
    const r = this.#storage.get(id)!.crash(this.#rand)
    this.#log(`${id} crashes ${why}${r.lost ? `, losing ${r.lost} unsynced record(s)${r.torn ? ', the first torn' : ''}` : ''}`)
    this.clients?.crashed(id)
  }

  /** '' once there is one leader and every member is up with its applied index and state; else why not. */
  converged(): string {
    const leaders = [...this.#nodes.values()].filter((n) => n.role === 'leader')
    if (leaders.length !== 1) return `${leaders.length} leaders after healing`
    const l = leaders[0]
    if (l.log.applied !== l.log.lastIndex()) return `the leader ${l.id} applied ${l.log.applied} of ${l.log.lastIndex()}`
    const want = this.#fsm.get(l.id)!.snapshot().join(',')
    const conf = l.conf()
    for (const id of [...conf.voters, ...conf.learners]) {
      const n = this.#nodes.get(id)
      if (n === undefined) return `member ${id} is down after healing`
      if (n.log.applied !== l.log.applied) return `${id} applied ${n.log.applied}, the leader ${l.log.applied}`
      if (this.#fsm.get(id)!.snapshot().join(',') !== want) return `${id}'s state differs from the leader's`
    }
    return ''
  }

  /** After healing: a proposal on the leader commits and is applied within a few election timeouts. */
  #checkProbe(): void {
    const l = this.leader()!
    const r = l.propose(encodeCommand({ id: 'probe', op: 'put', key: '_probe', value: 'probe' }))
    if (!r.ok) this.#fail(`liveness: the leader refuses a proposal after healing (${r.reason})`)
    for (let i = 0; i < 50 && (this.#nodes.get(l.id)?.log.applied ?? 0) < r.index; i++) this.step(false, false)
    if (this.#fsm.get(l.id)?.get('_probe') !== 'probe') this.#fail(`liveness: a proposal at ${r.index} did not commit after healing`)
  }

  #faults(): void {
    const r = this.#rand()
    const up = [...this.#nodes.keys()]
    if (r < this.#opts.crashRate) {
      if (up.length > 0) this.crash(up[Math.floor(this.#rand() * up.length)], 'between steps')
    } else if (r < this.#opts.crashRate + this.#opts.partitionRate) {
      if (this.#net.partition !== '' && this.#rand() < 0.5) {
        this.#net.heal()
        this.#log('partition healed')
      } else {
        const kind = PARTITION_KINDS[Math.floor(this.#rand() * PARTITION_KINDS.length)]
        this.#log(`partition: ${this.#net.cut(kind, this.#ids, this.leader()?.id ?? '')}`)
      }
    } else if (r < this.#opts.crashRate + this.#opts.partitionRate + 0.01) {
      if (up.length > 0) this.compact(up[Math.floor(this.#rand() * up.length)], Math.floor(this.#rand() * 4))
    }
    for (const [id, d] of this.#doomed) if (d.at <= this.#now) this.crash(id, 'soon after its election')
  }

  #newLeader(line: string): void {
    this.#log(line)
    if (this.#healed) return
    for (const n of this.#nodes.values()) {
      if (n.role === 'leader' && !this.#doomed.has(n.id) && (this.#opts.leaderChurn || this.#rand() < this.#opts.fragileLeaderRate)) {
        const mode = this.#opts.leaderChurn ? 1 + Math.floor(this.#rand() * 2) : Math.floor(this.#rand() * 3)
        this.#doomed.set(n.id, {
          at: mode === 0 ? this.#now + Math.floor(this.#rand() * 6) : Infinity,
          appends: mode === 1 ? 1 + Math.floor(this.#rand() * 2) : Infinity,
          commit: mode === 2 ? n.log.committed : Infinity,
        })
      }
    }
  }

  /** Adds a spare (once) or removes a member, one change at a time. */
  #changeMembership(n: RaftNode): void {
    const conf = n.conf()
    const spare = this.#ids.find((id) => !this.#everAdded.has(id) && !this.#initial.includes(id))
    if (spare !== undefined && this.#rand() < 0.6) {
      const r = n.addServer(spare)
      if (r.ok) { this.#everAdded.add(spare); this.#log(`${n.id} adds ${spare} at ${r.index}`) }
      return
    }
    if (conf.voters.length <= 3) return
    const victim = conf.voters[Math.floor(this.#rand() * conf.voters.length)]
    const r = n.proposeConfChange({ type: 'remove', id: victim })
    if (r.ok) this.#log(`${n.id} removes ${victim} at ${r.index}`)
  }

  #start(id: string): void {
    const { state, tornBytes } = this.#storage.get(id)!.load()
    const peers = this.#initial.includes(id) ? { voters: this.#initial, learners: [] } : undefined
    const n = this.#opts.createNode(
      { id, random: mulberry32(Math.floor(this.#rand() * 2 ** 31)), peers,
        electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 10, snapshotChunkBytes: 64, maxMsgBytes: this.#opts.maxMsgBytes },
      state,
    )
    const fsm = new SimKv(this.#decode)
    if (state.snapshot) fsm.restore(state.snapshot.data)
    this.#nodes.set(id, n)
    this.#fsm.set(id, fsm)
    this.checks.started(n)
    if (tornBytes > 0) this.#log(`${id} drops a torn last record (${tornBytes} bytes)`)
  }

  #restart(id: string): void {
    this.#down.delete(id)
    this.#start(id)
    const n = this.#nodes.get(id)!
    this.#log(`${id} restarts at term ${n.term}, last ${n.log.lastIndex()}/${n.log.lastTerm()}, commit ${n.log.committed}`)
  }

  /** Ready loops and message delivery for this tick, until quiet. */
  #drain(): void {
    for (let round = 0; round < 50; round++) {
      let worked = false
      for (const [id, n] of this.#nodes) {
        const rd = n.ready()
        if (rd) { worked = true; this.#handleReady(id, n, rd) }
      }
      const due = this.#net.due(this.#now)
      for (const m of due) {
        const to = this.#nodes.get(m.to)
        if (this.#opts.traceMessages) this.#log(`${to ? '' : '(down) '}${describeMessage(m)}`)
        to?.step(m)
      }
      if (!worked && due.length === 0) return
    }
  }

  /** Persist, send, apply, advance (the Ready contract), with a crash possible at each stage. */
  #handleReady(id: string, n: RaftNode, rd: Ready): void {
    const st = this.#storage.get(id)!
    this.checks.appended(n, rd.entries)
    const crash = !this.#healed && this.#rand() < this.#opts.crashRate / 2 ? Math.floor(this.#rand() * 3) : -1
    if (rd.snapshot) st.saveSnapshot(rd.snapshot)
    st.appendEntries(rd.entries)
    if (rd.hardState) st.setHardState(rd.hardState)
    // Crashing before the sync leaves any prefix of these writes (and of earlier unsynced ones).
    if (crash === 0) return this.crash(id, `persisting a Ready (${rd.entries.length} entries)`)
    if (rd.mustSync) st.sync()
    if (crash === 1) {
      const sent = Math.floor(this.#rand() * (rd.messages.length + 1))
      this.#sendAll(rd.messages.slice(0, sent))
      return this.crash(id, `after sending ${sent} of ${rd.messages.length} messages`)
    }
    const fragile = this.#fragileCrash(id, n, rd)
    if (fragile === undefined) this.#sendAll(rd.messages)
    else this.#sendAll(rd.messages.filter((m) => fragile.has(m.to)))
    const fsm = this.#fsm.get(id)!
    if (rd.snapshot) {
      fsm.restore(rd.snapshot.data)
      this.installed.set(id, (this.installed.get(id) ?? 0) + 1)
      this.clients?.restored(id, rd.snapshot.meta.index)
      this.#log(`${id} installs snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`)
    }
    for (const rs of rd.readStates) {
      if (rs.index < 0) this.#fail(`${id} got a negative read index for ${rs.context}`)
      this.clients?.readState(id, rs)
    }
    for (const e of rd.committedEntries) {
      this.checks.applied(id, e)
      if (e.type !== 'normal') continue
      const result = fsm.apply(e.index, e.data)
      this.clients?.applied(id, e, result)
    }
    if (fragile !== undefined) {
      const c = n.log.committed
      return this.crash(id, `at term ${n.term} after its messages reached [${[...fragile]}] only (the rest lost), and applying to ${c}/${n.log.term(c)}`)
    }
    if (crash === 2) return this.crash(id, 'before advancing')
    n.advance(rd)
    this.clients?.serve(id)
  }

  /**
   * A fragile leader at its first or second Ready with appends, or the first that moves its commit
   * index: the servers its messages reach (a minority of the voters, itself included); the rest are
   * lost as in a partition, and it crashes once it has applied (etcd's raftBeforeLeaderSend and
   * raftAfterApply failpoints in one). Undefined for any other Ready.
   */
  #fragileCrash(id: string, n: RaftNode, rd: Ready): Set<string> | undefined {
    const doomed = this.#doomed.get(id)
    if (doomed === undefined) return undefined
    const commits = rd.hardState !== undefined && rd.hardState.commit > doomed.commit && n.role === 'leader'
    const appends = rd.messages.some((m) => m.type === 'append') && --doomed.appends === 0
    if (!commits && !appends) return undefined
    const others = n.conf().voters.filter((v) => v !== id)
    return new Set(others.filter(() => this.#rand() < 0.5).slice(0, Math.floor((others.length + 1) / 2) - 1))
  }

  #sendAll(msgs: readonly Message[]): void {
    for (const m of msgs) this.#net.send(m, this.#now, this.#healed)
  }

  #maxCommitted(): number {
    let max = this.checks.maxCommitted
    for (const n of this.#nodes.values()) if (n.log.committed > max) max = n.log.committed
    return max
  }

  #log(line: string): void {
    this.trace.push(`t${this.#now} ${line}`)
  }

  /** One line per server: the state a failure report needs. */
  describe(): string[] {
    return this.#ids.map((id) => {
      const n = this.#nodes.get(id)
      if (!n) return `${id} down`
      const c = n.conf()
      return `${id} ${n.role} term ${n.term} leader ${n.leader || '-'} last ${n.log.lastIndex()}/${n.log.lastTerm()} commit ${n.log.committed} ` +
        `applied ${n.log.applied} snap ${n.log.snapshotIndex} voters [${c.voters}] learners [${c.learners}]`
    })
  }

  #fail(what: string): never {
    const tail = this.trace.slice(this.#opts.traceMessages ? -150 : -40)
    throw new SimFailure(this.#opts.seed, `SIM_SEED=${this.#opts.seed} (${this.#opts.nodes} servers) at tick ${this.#now}: ${what}\n${tail.join('\n')}\n${this.describe().join('\n')}`, what)
  }
}

export class SimFailure extends Error {
  constructor(readonly seed: number, message: string, readonly what: string) {
    super(message)
    this.name = 'SimFailure'
  }
}

export type FailureKind = 'safety' | 'linearizability' | 'liveness' | 'error'

/** What kind of check a failure's first line names. */
export function classify(what: string): FailureKind {
  if (what.startsWith('linearizability') || what.startsWith('ReadIndex') || what.includes('no earlier state held')) return 'linearizability'
  if (what.startsWith('liveness')) return 'liveness'
  return 'safety'
}
