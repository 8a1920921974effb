/**
 * The driver's telemetry under hashicorp/raft's names (as Consul exports them): commit and FSM
 * apply times, state transitions, replication round trips per peer, the leader's last contact
 * with each follower, snapshots. Kept out of the core, which stays free of clocks.
 */
import type { Metrics } from '../lib/metrics.js'
import type { Message, Role } from './core/types.js'

type Timer = ReturnType<Metrics['timer']>

/** An answer later than this is to a message the peer never got in time (it was down, or cut off). */
const STALE_MS = 10_000

export class RaftMetrics {
  readonly #m: Metrics
  readonly apply: ReturnType<Metrics['counter']>
  readonly commitTime: Timer
  readonly fsmApply: Timer
  readonly snapshotCreate: Timer
  readonly snapshotPersist: Timer
  readonly installSnapshot: Timer
  readonly #leaderLastContact: Timer
  readonly #isLeader: ReturnType<Metrics['gauge']>
  /** Per peer: the last append (its last index) or heartbeat sent and when, until its answer. */
  readonly #appends = new Map<string, { index: number; at: number }>()
  readonly #heartbeats = new Map<string, number>()
  #role: Role | undefined
  #lastContactSampled = 0

  constructor(m: Metrics) {
    this.#m = m
    this.apply = m.counter('raft.apply')
    this.commitTime = m.timer('raft.commitTime')
    this.fsmApply = m.timer('raft.fsm.apply')
    this.snapshotCreate = m.timer('raft.snapshot.create')
    this.snapshotPersist = m.timer('raft.snapshot.persist')
    this.installSnapshot = m.timer('raft.fsm.restore')
    this.#leaderLastContact = m.timer('raft.leader.lastContact')
    this.#isLeader = m.gauge('server.isLeader')
    this.#isLeader.set(0)
  }

  now(): number {
    return this.#m.clock.now()
  }

  /** A role change: counted as raft.state.<role>, as hashicorp/raft counts entering each state. */
  role(role: Role): void {
    const r = role === 'preCandidate' ? 'candidate' : role
    if (r === this.#role) return
    this.#role = r
    this.#m.incr(`raft.state.${r}`)
    this.#isLeader.set(r === 'leader' ? 1 : 0)
    if (r !== 'leader') {
      this.#appends.clear()
      this.#heartbeats.clear()
    }
  }

  /** Times one message in flight per peer; one unanswered past STALE_MS gives way to the next. */
  sent(msg: Message): void {
    if (msg.type !== 'append' && msg.type !== 'heartbeat') return
    const now = this.now()
    if (msg.type === 'append') {
      const last = msg.entries.length > 0 ? msg.entries[msg.entries.length - 1]!.index : msg.prevIndex
      if (msg.entries.length > 0) this.#m.incr('raft.replication.appendEntries.logs', msg.entries.length, { peer_id: msg.to })
      const open = this.#appends.get(msg.to)
      if (!open || now - open.at > STALE_MS) this.#appends.set(msg.to, { index: last, at: now })
      return
    }
    const open = this.#heartbeats.get(msg.to)
    if (open === undefined || now - open > STALE_MS) this.#heartbeats.set(msg.to, now)
  }

  received(msg: Message): void {
    if (msg.type === 'appendResp') {
      const a = this.#appends.get(msg.from)
      if (!a) return
      this.#appends.delete(msg.from)
      // A follower that was away answers an append sent long ago: that is downtime, not a round trip.
      if (msg.reject || msg.index < a.index || this.now() - a.at > STALE_MS) return
      this.#m.timer('raft.replication.appendEntries.rpc', { peer_id: msg.from }).since(a.at)
    } else if (msg.type === 'heartbeatResp') {
      const at = this.#heartbeats.get(msg.from)
      if (at === undefined) return
      this.#heartbeats.delete(msg.from)
      if (this.now() - at > STALE_MS) return
      this.#m.timer('raft.replication.heartbeat', { peer_id: msg.from }).since(at)
    }
  }

  /** On the leader's ticks, at most once a second: the time since each follower was last heard. */
  leaderContact(nowMs: number, contacts: () => readonly number[]): void {
    if (nowMs - this.#lastContactSampled < 1000) return
    this.#lastContactSampled = nowMs
    for (const ms of contacts()) if (ms >= 0) this.#leaderLastContact.observe(ms)
  }
}
