import { resolveConfig, type RaftConfig, type ResolvedConfig } from './config.js'
import { ConfHistory, applyConfChange, cloneConf, encodeConfChange } from './confchange.js'
import { crc32 } from './crc32.js'
import { RaftLog, type EntryReader } from './log.js'
import { Progress, ProgressState } from './progress.js'
import { SnapshotReceiver } from './snapshot-receiver.js'
import { invalidMessage } from './validate.js'
import {
  Role, type AppendRequest, type AppendResponse, type ConfChange, type ConfState, type Entry, type EntryKind,
  type HardState, type Heartbeat, type Message, type ReadState, type Ready, type Snapshot, type SnapshotChunk,
  type SnapshotMeta, type SnapshotResponse, type SoftState, type VoteRequest, type VoteResponse,
} from './types.js'

/** What a node starts from: its persisted hard state, snapshot and log (all empty for a new server). */
export interface InitialState {
  hardState?: HardState
  snapshot?: Snapshot
  entries?: Entry[]
  /** The state machine's applied index, when it survives restarts; default: the snapshot index. */
  applied?: number
  /** Reads stable entries back (see RaftLog); without it every entry stays in memory until compacted. */
  reader?: EntryReader
  /** Stable, applied entries kept in memory with a reader (default 4096). */
  cacheEntries?: number
}

export type ProposeResult = { ok: true; index: number; term: number } | { ok: false; reason: string; leader: string }

interface PendingRead { id: string; context: string; from: string; index: number; acks: Set<string> }

/**
 * One raft server as a pure, synchronous state machine (etcd-io/raft raft.go + rawnode.go). Inputs:
 * `tick()`, `step(message)`, `propose(data)` and the other requests; output: `ready()`, acknowledged
 * with `advance(ready)` (see Ready for the ordering contract). No I/O, no clock; the only randomness is config.random.
 * Not re-entrant; several nodes may share a process (no module state).
 */
export class RaftNode {
  readonly id: string
  readonly #c: ResolvedConfig
  readonly #log: RaftLog
  readonly #conf: ConfHistory
  #term = 0
  #vote = ''
  #leader = ''
  #role: Role = Role.Follower
  #electionElapsed = 0
  #heartbeatElapsed = 0
  #randomizedElectionTicks = 0
  #votes = new Map<string, boolean>()
  #progress = new Map<string, Progress>()
  #msgs: Message[] = []
  #readStates: ReadState[] = []
  #pendingReads: PendingRead[] = []
  #readsAwaitingCommit: { context: string; from: string }[] = []
  #readSeq = 0
  /** Contexts forwarded to a leader and not yet answered (bounded; a duplicate answer is dropped). */
  #forwardedReads = new Set<string>()
  #appendPending = false
  #leadTransferee = ''
  #transferElapsed = 0
  #pendingConfIndex = 0
  #snapshot: Snapshot | undefined
  #snapshotToInstall: Snapshot | undefined
  readonly #receiver = new SnapshotReceiver()
  #outstanding: Ready | undefined
  #prevHard: HardState
  #prevSoft: SoftState

  constructor(config: RaftConfig, initial: InitialState = {}) {
    this.#c = resolveConfig(config)
    this.id = this.#c.id
    const snap = initial.snapshot
    this.#snapshot = snap
    this.#log = new RaftLog({
      snapshotIndex: snap?.meta.index ?? 0, snapshotTerm: snap?.meta.term ?? 0,
      // Storage may keep trailing entries the snapshot covers (hashicorp's TrailingLogs): skip them.
      entries: (initial.entries ?? []).filter((e) => e.index > (snap?.meta.index ?? 0)),
      committed: initial.hardState?.commit ?? 0, applied: initial.applied,
      reader: initial.reader, cacheEntries: initial.cacheEntries,
    })
    this.#conf = new ConfHistory(snap?.meta.conf ?? { voters: [], learners: [] }, snap?.meta.index ?? 0)
    this.#conf.rescan(this.#log.firstIndex(), this.#log.slice(this.#log.firstIndex(), Infinity) ?? [], this.#c.logger)
    this.#term = initial.hardState?.term ?? 0
    this.#vote = initial.hardState?.vote ?? ''
    this.#prevHard = this.hardState()
    if (config.peers !== undefined) this.bootstrap(config.peers)
    this.#prevSoft = this.softState()
    this.#resetElectionTimer()
  }

  // ---- observation -------------------------------------------------------------------------------

  get role(): Role { return this.#role }
  get term(): number { return this.#term }
  get leader(): string { return this.#leader }
  get log(): RaftLog { return this.#log }
  conf(): ConfState { return cloneConf(this.#conf.current()) }
  confIndex(): number { return this.#conf.currentIndex() }
  hardState(): HardState { return { term: this.#term, vote: this.#vote, commit: this.#log.committed } }
  softState(): SoftState { return { leader: this.#leader, role: this.#role } }
  /** The leader's view of a follower, for tests and stats. */
  progress(id: string): Readonly<Progress> | undefined { return this.#progress.get(id) }
  isVoter(id = this.id): boolean { return this.#conf.current().voters.includes(id) }
  isMember(id: string): boolean { const c = this.#conf.current(); return c.voters.includes(id) || c.learners.includes(id) }

  // ---- inputs --------------------------------------------------------------------------------------

  /** One unit of logical time. */
  tick(): void {
    if (this.#role === Role.Leader) this.#tickLeader()
    else this.#tickElection()
  }

  /** hashicorp's BootstrapCluster: a server that never held state starts its log with `peers`; false otherwise. */
  bootstrap(peers: ConfState): boolean {
    if (this.#term !== 0 || this.#log.lastIndex() !== 0 || this.#snapshot !== undefined || peers.voters.length === 0) return false
    const entry: Entry = { index: 1, term: 1, type: 'config', data: encodeConfChange({ type: 'bootstrap', conf: peers }) }
    this.#log.append([entry])
    this.#log.commitTo(1)
    this.#term = 1
    this.#conf.rescan(1, [entry], this.#c.logger)
    this.#resetElectionTimer()
    return true
  }

  /** Starts an election now (pre-vote first when enabled), as if the election timer had fired. */
  campaign(): void {
    this.#campaign(this.#c.preVote ? 'pre' : 'real', false)
  }

  /** Appends a command (leader only). Returns where it will be if it commits. */
  propose(data: Uint8Array, type: EntryKind = 'normal'): ProposeResult {
    if (this.#role !== Role.Leader) return { ok: false, reason: 'not the leader', leader: this.#leader }
    if (this.#leadTransferee !== '') return { ok: false, reason: 'leadership transfer in progress', leader: this.#leader }
    if (!(data instanceof Uint8Array)) return { ok: false, reason: 'data must be bytes', leader: this.#leader }
    if (this.#log.lastIndex() - this.#log.committed >= this.#c.maxUncommittedEntries) {
      return { ok: false, reason: 'too many uncommitted entries', leader: this.#leader }
    }
    const index = this.#appendEntry(type, data)
    return { ok: true, index, term: this.#term }
  }

  /** hashicorp/raft's Barrier: an entry that, once applied, means every earlier entry was applied. */
  barrier(): ProposeResult {
    return this.propose(new Uint8Array(0), 'noop')
  }

  /** One membership change at a time; refused while an earlier one is not yet applied. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.#role !== Role.Leader) return { ok: false, reason: 'not the leader', leader: this.#leader }
    if (this.#pendingConfIndex > this.#log.applied) return { ok: false, reason: 'a configuration change is in progress', leader: this.id }
    const next = applyConfChange(this.#conf.current(), cc)
    if (typeof next === 'string') return { ok: false, reason: next, leader: this.id }
    const r = this.propose(encodeConfChange(cc), 'config')
    if (r.ok) this.#pendingConfIndex = r.index
    return r
  }

  /**
   * Adds a server as a staged learner; a leader (this one or a later one: the intent is in the
   * configuration) promotes it to voter once it has caught up.
   */
  addServer(id: string): ProposeResult {
    return this.proposeConfChange({ type: 'addLearner', id, promote: true })
  }

  /** Hands leadership to `to` (a voter): it is caught up, then told to campaign (TimeoutNow). */
  transferLeadership(to: string): boolean {
    if (this.#role !== Role.Leader || to === this.id || !this.isVoter(to)) return false
    if (this.#leadTransferee === to) return true
    this.#leadTransferee = to
    this.#transferElapsed = 0
    const pr = this.#progress.get(to)!
    if (pr.match === this.#log.lastIndex()) this.#send({ type: 'timeoutNow', to, term: this.#term, from: this.id })
    else this.#sendAppend(to)
    return true
  }

  /**
   * Asks for a linearizable read point; the answer is a ReadState in a later Ready (none if leadership
   * is lost meanwhile; the caller retries). `context` identifies the request to the caller.
   */
  readIndex(context: string): boolean {
    if (this.#pendingReads.length + this.#readsAwaitingCommit.length >= this.#c.maxPendingReads) return false
    if (this.#role === Role.Leader) {
      this.#leaderReadIndex(context, this.id)
      return true
    }
    if (this.#leader === '') return false
    if (this.#forwardedReads.size >= MAX_FORWARDED_READS) this.#forwardedReads.delete(this.#forwardedReads.values().next().value!)
    this.#forwardedReads.add(context)
    this.#send({ type: 'readIndex', to: this.#leader, from: this.id, term: this.#term, context })
    return true
  }

  /**
   * The state machine has a snapshot at `index` (<= applied): keep it for followers far behind and
   * drop the log up to `index - keepEntries`. Returns the snapshot's metadata, which the caller persists.
   */
  compact(index: number, data: Uint8Array, keepEntries = 0): SnapshotMeta | undefined {
    if (index > this.#log.applied || index <= this.#log.snapshotIndex || this.#log.term(index) === undefined) return undefined
    const meta: SnapshotMeta = {
      index, term: this.#log.term(index)!, conf: cloneConf(this.#conf.at(index)), size: data.byteLength, crc32: crc32(data),
    }
    this.#snapshot = { meta, data }
    const through = index - Math.max(0, keepEntries)
    if (this.#log.compact(through)) this.#conf.compactTo(through)
    return meta
  }

  /** Handles a message from the network. Returns why it was ignored, or undefined if it was processed. */
  step(input: unknown): string | undefined {
    const bad = invalidMessage(input)
    if (bad !== undefined) return this.#ignore(`malformed message: ${bad}`, 'warn')
    const m = input as Message
    if (m.to !== this.id) return this.#ignore(`message for ${m.to} delivered to ${this.id}`)
    if (!this.isMember(m.from) && !this.#acceptsFromUnknown(m)) return this.#ignore(`${m.type} from ${m.from}, not a member`)
    const why = this.#checkTerm(m)
    if (why !== undefined) return why
    switch (m.type) {
      case 'vote': case 'preVote': this.#handleVoteRequest(m); return undefined
      case 'voteResp': case 'preVoteResp': return this.#handleVoteResponse(m)
      case 'readIndexResp':
        if (!this.#forwardedReads.delete(m.context)) return this.#ignore(`readIndexResp for ${m.context}, which is not outstanding`)
        if (m.index >= 0) this.#readStates.push({ context: m.context, index: m.index })
        return undefined
      case 'timeoutNow':
        if (this.#role === Role.Leader) return this.#ignore('timeoutNow to the leader')
        if (!this.isVoter()) return this.#ignore('timeoutNow to a non-voter')
        this.#campaign('real', true)
        return undefined
      default:
        return this.#role === Role.Leader ? this.#stepLeader(m) : this.#stepFollower(m)
    }
  }

  // ---- output ------------------------------------------------------------------------------------

  /** The next batch of work, or undefined when there is none or the previous one is not advanced yet. */
  ready(): Ready | undefined {
    if (this.#outstanding !== undefined) return undefined
    if (this.#appendPending) this.#flushAppends()
    const hard = this.hardState()
    const soft = this.softState()
    const hardChanged = hard.term !== this.#prevHard.term || hard.vote !== this.#prevHard.vote || hard.commit !== this.#prevHard.commit
    const softChanged = soft.leader !== this.#prevSoft.leader || soft.role !== this.#prevSoft.role
    const rd: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      entries: this.#log.unstableEntries(),
      snapshot: this.#snapshotToInstall,
      committedEntries: this.#log.committedAfter(this.#log.applied, this.#c.maxApplyBytes),
      messages: this.#msgs,
      readStates: this.#readStates,
      mustSync: false,
    }
    rd.mustSync = rd.entries.length > 0 || rd.snapshot !== undefined || hard.term !== this.#prevHard.term || hard.vote !== this.#prevHard.vote
    if (!softChanged && !hardChanged && rd.entries.length === 0 && !rd.snapshot && rd.committedEntries.length === 0 &&
      rd.messages.length === 0 && rd.readStates.length === 0) return undefined
    this.#msgs = []
    this.#readStates = []
    this.#snapshotToInstall = undefined
    this.#prevHard = hard
    this.#prevSoft = soft
    this.#outstanding = rd
    return rd
  }

  /** The caller has done everything `rd` asked (persisted, sent, applied). */
  advance(rd: Ready): void {
    if (rd !== this.#outstanding) {
      this.#ignore('advance() with a Ready that is not the outstanding one')
      return
    }
    this.#outstanding = undefined
    const last = rd.entries.at(-1)
    if (last) this.#log.stableTo(last.index, last.term)
    const applied = rd.committedEntries.at(-1)
    if (applied) this.#log.appliedTo(applied.index)
    if (this.#role === Role.Leader) {
      if (this.#maybeCommit()) this.#bcastAppend()
      this.#maybeStepDownRemoved()
    }
  }

  /** Every bootstrapping server writes the same entry 1 (term 1), so their logs match from the start. */
  // ---- roles -------------------------------------------------------------------------------------

  #becomeFollower(term: number, leader: string): void {
    if (term > this.#term) {
      this.#term = term
      this.#vote = ''
    }
    if (this.#role !== Role.Follower || this.#leader !== leader) this.#c.logger(`${this.id} became follower at term ${term} (leader ${leader || 'none'})`)
    this.#role = Role.Follower
    this.#leader = leader
    this.#votes.clear()
    this.#leadTransferee = ''
    this.#pendingReads = []
    this.#readsAwaitingCommit = []
    this.#appendPending = false
    this.#resetElectionTimer()
  }

  #becomeLeader(): void {
    this.#role = Role.Leader
    this.#leader = this.id
    this.#votes.clear()
    this.#heartbeatElapsed = 0
    this.#electionElapsed = 0
    this.#progress.clear()
    this.#syncProgress()
    // A no-op of the new term lets earlier-term entries commit (Raft §5.4.2) and ReadIndex start (§6.4).
    this.#pendingConfIndex = this.#log.lastIndex()
    this.#c.logger(`${this.id} became leader at term ${this.#term}`)
    this.#appendEntry('noop', new Uint8Array(0))
  }

  #campaign(kind: 'pre' | 'real', transfer: boolean): void {
    if (!this.isVoter()) return
    if (kind === 'pre') {
      this.#role = Role.PreCandidate
      this.#leader = ''
    } else {
      this.#term += 1
      this.#vote = this.id
      this.#role = Role.Candidate
      this.#leader = ''
    }
    this.#votes.clear()
    this.#resetElectionTimer()
    this.#c.logger(`${this.id} became ${this.#role} at term ${this.#term}`)
    const term = kind === 'pre' ? this.#term + 1 : this.#term
    const type = kind === 'pre' ? 'preVote' : 'vote'
    if (this.#tally(this.id, true)) return
    for (const to of this.#conf.current().voters) {
      if (to === this.id) continue
      this.#send({ type, to, from: this.id, term, lastLogIndex: this.#log.lastIndex(), lastLogTerm: this.#log.lastTerm(), transfer })
    }
  }

  /** Records a vote; returns true when the outcome is decided (and acted on). */
  #tally(from: string, granted: boolean): boolean {
    if (!this.isVoter(from)) return false
    if (!this.#votes.has(from)) this.#votes.set(from, granted)
    const voters = this.#conf.current().voters
    const q = quorum(voters.length)
    let yes = 0
    let no = 0
    for (const v of voters) {
      const g = this.#votes.get(v)
      if (g === true) yes++
      else if (g === false) no++
    }
    if (yes >= q) {
      if (this.#role === Role.PreCandidate) this.#campaign('real', false)
      else this.#becomeLeader()
      return true
    }
    if (no > voters.length - q) {
      this.#becomeFollower(this.#term, '')
      return true
    }
    return false
  }

  // ---- step: term rules and shared handlers ----------------------------------------------------------

  /** Raft §5.1 term rules plus pre-vote and the leader lease of check-quorum. Undefined: go on. */
  #checkTerm(m: Message): string | undefined {
    if (m.term > this.#term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.#c.checkQuorum && this.#leader !== '' && this.#electionElapsed < this.#c.electionTicks
        if (inLease && !m.transfer) return this.#ignore(`${m.type} from ${m.from} at term ${m.term} within the leader lease`)
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) return undefined
      const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot'
      this.#becomeFollower(m.term, fromLeader ? m.from : '')
      return undefined
    }
    if (m.term < this.#term) {
      if ((m.type === 'append' || m.type === 'heartbeat') && (this.#c.checkQuorum || this.#c.preVote)) {
        // Tell a deposed leader (or one cut off while we moved on) about our term.
        this.#send(appendResp(this, m.from, false, this.#log.lastIndex()))
      } else if (m.type === 'preVote') {
        this.#send({ type: 'preVoteResp', to: m.from, from: this.id, term: this.#term, reject: true })
      }
      return this.#ignore(`${m.type} from ${m.from} at stale term ${m.term} < ${this.#term}`)
    }
    return undefined
  }

  #handleVoteRequest(m: VoteRequest): void {
    const canVote = this.#vote === m.from || (this.#vote === '' && this.#leader === '') || (m.type === 'preVote' && m.term > this.#term)
    const grant = canVote && this.#log.isUpToDate(m.lastLogIndex, m.lastLogTerm)
    const type = m.type === 'vote' ? 'voteResp' : 'preVoteResp'
    if (!grant) {
      this.#send({ type, to: m.from, from: this.id, term: this.#term, reject: true })
      return
    }
    if (m.type === 'vote') {
      this.#vote = m.from
      this.#electionElapsed = 0
    }
    // A granted pre-vote answers at the candidate's future term, so it is not taken for a stale reply.
    this.#send({ type, to: m.from, from: this.id, term: m.term, reject: false })
  }

  #handleVoteResponse(m: VoteResponse): string | undefined {
    const wanted = this.#role === Role.PreCandidate ? 'preVoteResp' : this.#role === Role.Candidate ? 'voteResp' : ''
    const term = this.#role === Role.PreCandidate ? this.#term + 1 : this.#term
    if (m.type !== wanted || m.term !== term) return this.#ignore(`${m.type} from ${m.from} while ${this.#role} at term ${this.#term}`)
    this.#tally(m.from, !m.reject)
    return undefined
  }

  #stepFollower(m: Message): string | undefined {
    switch (m.type) {
      case 'append': case 'heartbeat': case 'snapshot':
        if (this.#role !== Role.Follower) this.#becomeFollower(m.term, m.from)
        this.#leader = m.from
        this.#electionElapsed = 0
        if (m.type === 'append') this.#handleAppend(m)
        else if (m.type === 'heartbeat') this.#handleHeartbeat(m)
        else this.#handleSnapshot(m)
        return undefined
      case 'readIndex':
        this.#send({ type: 'readIndexResp', to: m.from, from: this.id, term: this.#term, context: m.context, index: -1 })
        return undefined
      default:
        return this.#ignore(`${m.type} from ${m.from} while ${this.#role}`)
    }
  }

  #handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.#log.committed) {
      this.#send(appendResp(this, m.from, false, this.#log.committed))
      return
    }
    const before = this.#log.lastIndex()
    const lastNew = this.#log.maybeAppend(m.prevIndex, m.prevTerm, m.entries)
    if (lastNew === undefined) {
      const hint = this.#log.findConflictByTerm(Math.min(m.prevIndex, this.#log.lastIndex()), m.prevTerm)
      this.#send({ ...appendResp(this, m.from, true, m.prevIndex), hintIndex: hint.index, hintTerm: hint.term })
      return
    }
    const first = m.entries.find((e) => e.index > before || this.#log.entry(e.index) === e)
    if (first) this.#conf.rescan(first.index, this.#log.slice(first.index, Infinity) ?? [], this.#c.logger)
    this.#log.commitTo(Math.min(m.commit, lastNew))
    this.#send(appendResp(this, m.from, false, lastNew))
  }

  #handleHeartbeat(m: Heartbeat): void {
    // The leader sends min(match, commit), so this never commits an entry we do not share with it.
    this.#log.commitTo(Math.min(m.commit, this.#log.lastIndex()))
    this.#send({ type: 'heartbeatResp', to: m.from, from: this.id, term: this.#term, context: m.context })
  }

  #handleSnapshot(m: SnapshotChunk): void {
    const reply = (offset: number, reject: boolean): void =>
      this.#send({ type: 'snapshotResp', to: m.from, from: this.id, term: this.#term, snapshotIndex: m.meta.index, offset, reject })
    if (m.meta.index <= this.#log.committed) {
      this.#send(appendResp(this, m.from, false, this.#log.committed))
      return
    }
    const out = this.#receiver.accept(m)
    if (out.kind === 'refused') {
      this.#ignore(`snapshot ${m.meta.index} from ${m.from} refused: ${out.reason}`)
      reply(0, true)
      return
    }
    if (out.kind === 'more') {
      reply(out.offset, false)
      return
    }
    const { meta } = out.snapshot
    if (this.#log.matchTerm(meta.index, meta.term)) {
      // We already hold the entries: just move the commit point (etcd's fast-forward).
      this.#log.commitTo(meta.index)
    } else {
      this.#log.restore(meta.index, meta.term)
      this.#conf.reset(meta.conf, meta.index)
      this.#snapshot = out.snapshot
      this.#snapshotToInstall = out.snapshot
      this.#c.logger(`${this.id} installing snapshot at ${meta.index} term ${meta.term}`)
    }
    reply(meta.size, false)
  }

  // ---- leader ------------------------------------------------------------------------------------

  #stepLeader(m: Message): string | undefined {
    const pr = this.#progress.get(m.from)
    if (m.type === 'readIndex') {
      if (this.#pendingReads.length + this.#readsAwaitingCommit.length >= this.#c.maxPendingReads) {
        this.#send({ type: 'readIndexResp', to: m.from, from: this.id, term: this.#term, context: m.context, index: -1 })
        return this.#ignore(`readIndex from ${m.from}: too many pending reads`)
      }
      this.#leaderReadIndex(m.context, m.from)
      return undefined
    }
    if (pr === undefined) return this.#ignore(`${m.type} from ${m.from}, which has no progress`)
    pr.recentActive = true
    switch (m.type) {
      case 'appendResp': this.#handleAppendResp(pr, m); return undefined
      case 'heartbeatResp':
        pr.probeSent = false
        // The follower is alive: if appends were lost and filled the window, let one more through.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne()
        if (pr.match < this.#log.lastIndex()) this.#sendAppend(m.from)
        if (m.context !== '') this.#ackRead(m.context, m.from)
        return undefined
      case 'snapshotResp': this.#handleSnapshotResp(pr, m); return undefined
      default:
        return this.#ignore(`${m.type} from ${m.from} to the leader at term ${this.#term}`)
    }
  }

  #handleAppendResp(pr: Progress, m: AppendResponse): void {
    if (m.reject) {
      const hint = m.hintTerm > 0 ? this.#log.findConflictByTerm(m.hintIndex, m.hintTerm).index : m.hintIndex
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe()
        this.#sendAppend(m.from)
      }
      return
    }
    const wasPaused = pr.isPaused()
    if (!pr.maybeUpdate(m.index)) return
    if (pr.state === ProgressState.Probe) pr.becomeReplicate()
    else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe()
      pr.becomeReplicate()
    } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index)
    if (this.#maybeCommit()) this.#bcastAppend()
    else if (wasPaused) this.#sendAppend(m.from)
    while (this.#sendAppend(m.from, false)) { /* pipeline while the window allows */ }
    if (m.from === this.#leadTransferee && pr.match === this.#log.lastIndex()) {
      this.#send({ type: 'timeoutNow', to: m.from, from: this.id, term: this.#term })
    }
    this.#maybePromote(m.from, pr)
  }

  #handleSnapshotResp(pr: Progress, m: SnapshotResponse): void {
    if (pr.state !== ProgressState.Snapshot || m.snapshotIndex !== pr.pendingSnapshot) return
    pr.snapshotChunkInFlight = false
    if (m.reject) {
      pr.becomeProbe()
      this.#sendAppend(m.from)
      return
    }
    const snap = this.#snapshot
    if (snap === undefined || snap.meta.index !== pr.pendingSnapshot) {
      pr.becomeProbe()
      return
    }
    if (m.offset >= snap.meta.size) {
      pr.maybeUpdate(snap.meta.index)
      pr.becomeProbe()
      this.#sendAppend(m.from)
      return
    }
    pr.snapshotOffset = m.offset
    this.#sendSnapshotChunk(m.from, pr)
  }

  #tickLeader(): void {
    this.#heartbeatElapsed++
    this.#electionElapsed++
    if (this.#leadTransferee !== '' && ++this.#transferElapsed >= this.#c.electionTicks) {
      this.#c.logger(`${this.id} abandons the transfer to ${this.#leadTransferee}`)
      this.#leadTransferee = ''
    }
    if (this.#electionElapsed >= this.#c.leaderLeaseTicks) {
      this.#electionElapsed = 0
      if (this.#c.checkQuorum && !this.#quorumActive()) {
        this.#c.logger(`${this.id} steps down: no quorum heard within the leader lease`, 'warn')
        this.#becomeFollower(this.#term, '')
        return
      }
      for (const [id, pr] of this.#progress) if (id !== this.id) pr.recentActive = false
    }
    if (this.#heartbeatElapsed >= this.#c.heartbeatTicks) {
      this.#heartbeatElapsed = 0
      this.#bcastHeartbeat('')
      for (const [id, pr] of this.#progress) {
        // A lost chunk would leave a transfer stuck: resend the current one each heartbeat.
        if (pr.state === ProgressState.Snapshot && id !== this.id) this.#sendSnapshotChunk(id, pr)
      }
    }
  }

  #tickElection(): void {
    this.#electionElapsed++
    if (this.isVoter() && this.#electionElapsed >= this.#randomizedElectionTicks) {
      this.#electionElapsed = 0
      this.campaign()
    }
  }

  #quorumActive(): boolean {
    const voters = this.#conf.current().voters
    let active = 0
    for (const v of voters) if (v === this.id || this.#progress.get(v)?.recentActive) active++
    return active >= quorum(voters.length)
  }

  #appendEntry(type: EntryKind, data: Uint8Array): number {
    const index = this.#log.lastIndex() + 1
    this.#log.append([{ index, term: this.#term, type, data }])
    if (type === 'config') {
      this.#conf.rescan(index, [this.#log.entry(index)!], this.#c.logger)
      this.#syncProgress()
    }
    this.#appendPending = true
    return index
  }

  /** Commits the highest index a quorum of voters has, if it is of the current term (Raft §5.4.2). */
  #maybeCommit(): boolean {
    const voters = this.#conf.current().voters
    if (voters.length === 0) return false
    const matches = voters.map((v) => (v === this.id ? this.#log.stableIndex() : this.#progress.get(v)?.match ?? 0))
    matches.sort((a, b) => b - a)
    const index = matches[quorum(voters.length) - 1]
    if (index <= this.#log.committed || this.#log.term(index) !== this.#term) return false
    this.#log.commitTo(index)
    this.#releaseReadsAwaitingCommit()
    return true
  }

  #flushAppends(): void {
    this.#appendPending = false
    if (this.#role === Role.Leader) this.#bcastAppend()
  }

  #bcastAppend(): void {
    for (const id of this.#progress.keys()) if (id !== this.id) this.#sendAppend(id)
  }

  /** Sends the next append to `to` if flow control allows; returns whether a message went out. */
  #sendAppend(to: string, sendIfEmpty = true): boolean {
    const pr = this.#progress.get(to)
    if (pr === undefined || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const prevTerm = this.#log.term(prevIndex)
    const entries = this.#log.slice(pr.next, this.#log.lastIndex() + 1, this.#c.maxMsgBytes)
    if (prevTerm === undefined || entries === undefined) return this.#startSnapshot(to, pr)
    if (entries.length === 0 && !sendIfEmpty) return false
    const commit = this.#log.committed
    this.#send({ type: 'append', to, from: this.id, term: this.#term, prevIndex, prevTerm, entries, commit })
    pr.sentEntries(prevIndex + entries.length, entries.length)
    return true
  }

  #startSnapshot(to: string, pr: Progress): boolean {
    const snap = this.#snapshot
    if (snap === undefined || !pr.recentActive) {
      this.#c.logger(`${to} needs a snapshot, ${snap === undefined ? 'but there is none' : 'but is not active'}`)
      return false
    }
    pr.becomeSnapshot(snap.meta.index)
    this.#sendSnapshotChunk(to, pr)
    return true
  }

  #sendSnapshotChunk(to: string, pr: Progress): void {
    const snap = this.#snapshot
    if (snap === undefined || snap.meta.index !== pr.pendingSnapshot) {
      pr.becomeProbe()
      return
    }
    const end = Math.min(snap.meta.size, pr.snapshotOffset + this.#c.snapshotChunkBytes)
    const data = snap.data.subarray(pr.snapshotOffset, end)
    this.#send({ type: 'snapshot', to, from: this.id, term: this.#term, meta: snap.meta, offset: pr.snapshotOffset, data, done: end >= snap.meta.size })
    pr.snapshotChunkInFlight = true
  }

  #bcastHeartbeat(context: string): void {
    for (const [to, pr] of this.#progress) {
      if (to === this.id) continue
      const commit = Math.min(pr.match, this.#log.committed)
      this.#send({ type: 'heartbeat', to, from: this.id, term: this.#term, commit, context })
    }
  }

  /** Progress entries for exactly the current members (after election or a configuration change). */
  #syncProgress(): void {
    const conf = this.#conf.current()
    const members = new Set([...conf.voters, ...conf.learners])
    for (const id of [...this.#progress.keys()]) if (!members.has(id)) this.#progress.delete(id)
    for (const id of members) {
      let pr = this.#progress.get(id)
      if (pr === undefined) {
        pr = new Progress(this.#log.lastIndex() + 1, this.#c.maxInflight, false)
        pr.recentActive = true
        this.#progress.set(id, pr)
      }
      pr.isLearner = conf.learners.includes(id)
    }
    const self = this.#progress.get(this.id)
    if (self) self.match = this.#log.stableIndex()
  }

  #maybePromote(id: string, pr: Progress): void {
    if (!pr.isLearner || !(this.#conf.current().staging ?? []).includes(id)) return
    if (pr.match + this.#c.learnerCatchUpEntries < this.#log.lastIndex() || pr.match < this.#log.committed) return
    const r = this.proposeConfChange({ type: 'promote', id })
    if (r.ok) {
      this.#c.logger(`${this.id} promotes ${id} to voter (caught up at ${pr.match})`)
    }
  }

  /** Raft dissertation §4.2.2: a leader removed from the configuration steps down once that commits. */
  #maybeStepDownRemoved(): void {
    if (!this.isVoter() && this.#log.committed >= this.#conf.currentIndex()) {
      this.#c.logger(`${this.id} steps down: removed from the configuration`)
      this.#becomeFollower(this.#term, '')
    }
  }

  // ---- ReadIndex (Raft dissertation §6.4) ----------------------------------------------------------

  #leaderReadIndex(context: string, from: string): void {
    if (this.#log.term(this.#log.committed) !== this.#term) {
      this.#readsAwaitingCommit.push({ context, from })
      return
    }
    const index = this.#log.committed
    if (this.#conf.current().voters.length === 1 && this.isVoter()) {
      this.#answerRead({ id: '', context, from, index, acks: new Set() })
      return
    }
    const id = `${this.#term}.${++this.#readSeq}`
    this.#pendingReads.push({ id, context, from, index, acks: new Set(this.isVoter() ? [this.id] : []) })
    this.#bcastHeartbeat(id)
  }

  #ackRead(id: string, from: string): void {
    const at = this.#pendingReads.findIndex((r) => r.id === id)
    if (at < 0 || !this.isVoter(from)) return
    const read = this.#pendingReads[at]
    read.acks.add(from)
    if (read.acks.size < quorum(this.#conf.current().voters.length)) return
    // A quorum confirmed leadership after every earlier request was made too: answer them all.
    for (const r of this.#pendingReads.splice(0, at + 1)) this.#answerRead(r)
  }

  #answerRead(r: PendingRead): void {
    if (r.from === this.id) this.#readStates.push({ context: r.context, index: r.index })
    else this.#send({ type: 'readIndexResp', to: r.from, from: this.id, term: this.#term, context: r.context, index: r.index })
  }

  #releaseReadsAwaitingCommit(): void {
    if (this.#readsAwaitingCommit.length === 0 || this.#log.term(this.#log.committed) !== this.#term) return
    const waiting = this.#readsAwaitingCommit
    this.#readsAwaitingCommit = []
    for (const r of waiting) this.#leaderReadIndex(r.context, r.from)
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /**
   * Raft dissertation §4.1: servers process RPCs without consulting their configuration. A lagging
   * server's configuration can predate the leader's (or the candidate's) addition, and ignoring them
   * can leave the cluster without a leader (the simulator found both). Term and log checks keep this
   * safe, and the leader lease (check-quorum) keeps a removed server from disrupting (§4.2.3).
   * Everything else from a non-member (responses, TimeoutNow, reads) is ignored.
   */
  #acceptsFromUnknown(m: Message): boolean {
    return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'vote' || m.type === 'preVote'
  }

  #resetElectionTimer(): void {
    this.#electionElapsed = 0
    const r = this.#c.random()
    const jitter = Number.isFinite(r) && r >= 0 && r < 1 ? Math.floor(r * this.#c.electionTicks) : 0
    this.#randomizedElectionTicks = this.#c.electionTicks + jitter
  }

  #send(m: Message): void {
    this.#msgs.push(m)
  }

  #ignore(reason: string, level: 'debug' | 'warn' = 'debug'): string {
    this.#c.logger(`${this.id} ignored: ${reason}`, level)
    return reason
  }
}

const MAX_FORWARDED_READS = 4096

function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1
}

function appendResp(n: RaftNode, to: string, reject: boolean, index: number): AppendResponse {
  return { type: 'appendResp', to, from: n.id, term: n.term, reject, index, hintIndex: 0, hintTerm: 0 }
}
