/**
 * The membership rules of SWIM with Lifeguard (memberlist's state.go aliveNode / suspectNode /
 * deadNode), pure: each message about a member comes in with the time on the driver's clock, and
 * out come effects (what to gossip, which suspicion timer to arm or cancel, which membership event
 * to report) instead of calls to the network. Each rule is a column of guard clauses (unknown
 * member, older incarnation, about this member itself: refute) before one change.
 */
import type { GossipConfig } from './config.js'
import { Awareness, suspicionTimeoutMs } from './math.js'
import { expectedConfirmations, Suspicion } from './suspicion.js'

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

export interface MemberRecord {
  name: string
  addr: string
  port: number
  meta: Readonly<Record<string, string>>
  incarnation: number
  state: MemberState
  /** When it entered its state, on the driver's clock. */
  stateChange: number
}

/** What members say about each other (memberlist's alive, suspect and dead messages). */
export interface AliveMessage {
  node: string
  incarnation: number
  addr: string
  port: number
  meta: Readonly<Record<string, string>>
}
export interface SuspectMessage {
  node: string
  incarnation: number
  /** Who suspects it. */
  from: string
}
export interface DeadMessage {
  node: string
  incarnation: number
  /** Who declares it dead; the member itself when it leaves. */
  from: string
}

export type GossipMessage = ({ type: 'alive' } & AliveMessage) | ({ type: 'suspect' } & SuspectMessage) | ({ type: 'dead' } & DeadMessage)

export type MembershipEvent = 'join' | 'update' | 'leave' | 'failed'

export type Effect =
  | { kind: 'broadcast'; key: string; message: GossipMessage }
  | { kind: 'event'; event: MembershipEvent; member: MemberRecord }
  /** Arm (or move) the suspicion timer of `node`; on expiry call `suspicionExpired`. */
  | { kind: 'suspect-timer'; node: string; deadline: number }
  | { kind: 'cancel-suspect-timer'; node: string }

export class MemberPool {
  /** This member's name (its record is in the pool like any other). */
  readonly selfName: string
  readonly #members = new Map<string, MemberRecord>()
  readonly #suspicions = new Map<string, Suspicion>()
  readonly awareness: Awareness
  #leaving = false

  constructor(
    readonly config: GossipConfig,
    self: Pick<MemberRecord, 'name' | 'addr' | 'port' | 'meta'>,
    now: number,
  ) {
    this.awareness = new Awareness(config.awarenessMaxMultiplier)
    this.#members.set(self.name, { ...self, incarnation: 0, state: 'alive', stateChange: now })
    this.selfName = self.name
  }

  get self(): MemberRecord {
    return this.#members.get(this.selfName)!
  }

  member(name: string): MemberRecord | undefined {
    return this.#members.get(name)
  }

  list(): MemberRecord[] {
    return [...this.#members.values()]
  }

  /** How many members are known (this one and the dead included). */
  get size(): number {
    return this.#members.size
  }

  /** Members not dead or gone: what timeouts and retransmit limits scale with. */
  liveCount(): number {
    let n = 0
    for (const m of this.#members.values()) if (m.state === 'alive' || m.state === 'suspect') n++
    return n
  }

  /** This member leaves: it says so as a dead message about itself, which the others read as a leave. */
  leave(now: number): Effect[] {
    this.#leaving = true
    return this.dead({ node: this.selfName, incarnation: this.self.incarnation, from: this.selfName }, now)
  }

  alive(a: AliveMessage, now: number): Effect[] {
    if (this.#leaving && a.node === this.selfName) return []
    let m = this.#members.get(a.node)
    const known = m !== undefined
    if (a.node === this.selfName) {
      // Someone tells of us with a newer incarnation or other meta than ours: say who we are.
      if (a.incarnation < this.self.incarnation || (a.incarnation === this.self.incarnation && sameMeta(a.meta, this.self.meta))) return []
      return this.#refute(a.incarnation)
    }
    // Old news; a member back from the dead comes with a higher incarnation (it refutes what it hears of itself).
    if (m && a.incarnation <= m.incarnation) return []
    const effects: Effect[] = []
    const wasLive = m !== undefined && (m.state === 'alive' || m.state === 'suspect')
    const metaChanged = m !== undefined && (!sameMeta(m.meta, a.meta) || m.addr !== a.addr || m.port !== a.port)
    if (!m) {
      m = { name: a.node, addr: a.addr, port: a.port, meta: a.meta, incarnation: a.incarnation, state: 'alive', stateChange: now }
      this.#members.set(a.node, m)
    } else {
      Object.assign(m, { addr: a.addr, port: a.port, meta: a.meta, incarnation: a.incarnation })
      if (m.state !== 'alive') Object.assign(m, { state: 'alive', stateChange: now })
    }
    if (this.#suspicions.delete(a.node)) effects.push({ kind: 'cancel-suspect-timer', node: a.node })
    effects.push({ kind: 'broadcast', key: a.node, message: { type: 'alive', ...a } })
    if (!known || !wasLive) effects.push({ kind: 'event', event: 'join', member: { ...m } })
    else if (metaChanged) effects.push({ kind: 'event', event: 'update', member: { ...m } })
    return effects
  }

  suspect(s: SuspectMessage, now: number): Effect[] {
    const m = this.#members.get(s.node)
    if (!m || s.incarnation < m.incarnation) return []
    const pending = this.#suspicions.get(s.node)
    if (m.state === 'suspect' && pending) {
      // A confirmation from someone new brings the deadline closer and is passed on.
      if (!pending.confirm(s.from)) return []
      return [{ kind: 'broadcast', key: s.node, message: { type: 'suspect', ...s } }, { kind: 'suspect-timer', node: s.node, deadline: pending.deadline() }]
    }
    if (m.state !== 'alive') return []
    if (s.node === this.selfName) return this.#refute(s.incarnation)
    const minMs = suspicionTimeoutMs(this.config.suspicionMult, this.liveCount(), this.config.probeIntervalMs)
    const suspicion = new Suspicion(s.from, expectedConfirmations(this.config.suspicionMult, this.liveCount()), minMs, minMs * this.config.suspicionMaxTimeoutMult, now)
    this.#suspicions.set(s.node, suspicion)
    Object.assign(m, { state: 'suspect', incarnation: s.incarnation, stateChange: now })
    return [{ kind: 'broadcast', key: s.node, message: { type: 'suspect', ...s } }, { kind: 'suspect-timer', node: s.node, deadline: suspicion.deadline() }]
  }

  /** The suspicion timer of `node` ran out: unless it refuted meanwhile, it is dead. */
  suspicionExpired(node: string, now: number): Effect[] {
    const m = this.#members.get(node)
    if (!m || m.state !== 'suspect' || !this.#suspicions.has(node)) return []
    return this.dead({ node, incarnation: m.incarnation, from: this.selfName }, now)
  }

  dead(d: DeadMessage, now: number): Effect[] {
    const m = this.#members.get(d.node)
    if (!m || d.incarnation < m.incarnation) return []
    const effects: Effect[] = []
    if (this.#suspicions.delete(d.node)) effects.push({ kind: 'cancel-suspect-timer', node: d.node })
    const left = d.from === d.node
    // A failed member said to have left (serf's force-leave) is left; nothing else moves a dead or gone one.
    if (m.state === 'left' || (m.state === 'dead' && !left)) return effects
    // Declared dead by another while we are alive and staying: refute.
    if (d.node === this.selfName && !this.#leaving) return [...effects, ...this.#refute(d.incarnation)]
    Object.assign(m, { state: left ? 'left' : 'dead', incarnation: d.incarnation, stateChange: now })
    effects.push({ kind: 'broadcast', key: d.node, message: { type: 'dead', ...d } })
    effects.push({ kind: 'event', event: left ? 'leave' : 'failed', member: { ...m } })
    return effects
  }

  /**
   * A push-pull exchange's view of the pool, merged as memberlist merges remote state: what the
   * other side has alive is an alive message; left is a leave; dead or suspect is only a suspicion
   * here (its word alone does not kill a member we may still reach), raised in its name.
   */
  merge(remote: readonly MemberRecord[], from: string, now: number): Effect[] {
    const effects: Effect[] = []
    for (const r of remote) {
      if (r.state === 'alive') effects.push(...this.alive({ node: r.name, incarnation: r.incarnation, addr: r.addr, port: r.port, meta: r.meta }, now))
      else if (r.state === 'left') effects.push(...this.dead({ node: r.name, incarnation: r.incarnation, from: r.name }, now))
      else {
        // An unknown member is learned first (it exists), then suspected.
        if (!this.#members.has(r.name)) effects.push(...this.alive({ node: r.name, incarnation: r.incarnation, addr: r.addr, port: r.port, meta: r.meta }, now))
        effects.push(...this.suspect({ node: r.name, incarnation: r.incarnation, from }, now))
      }
    }
    return effects
  }

  /**
   * Forgets members dead or gone for longer than `afterMs` (Consul's reconnect_timeout for failed
   * ones, serf's tombstone time for those that left); returns the names forgotten.
   */
  reap(now: number, deadAfterMs: number, leftAfterMs: number): string[] {
    const gone: string[] = []
    for (const m of this.#members.values()) {
      if (m.name === this.selfName) continue
      const after = m.state === 'dead' ? deadAfterMs : m.state === 'left' ? leftAfterMs : Infinity
      if (now - m.stateChange >= after) gone.push(m.name)
    }
    for (const name of gone) this.#members.delete(name)
    return gone
  }

  /**
   * serf's force-leave of a failed member: it is marked left in its own name, as if it had left,
   * and that is gossiped (a member that holds it alive marks it left too, until it refutes).
   */
  forceLeave(node: string, now: number): Effect[] {
    const m = this.#members.get(node)
    if (!m || node === this.selfName || m.state !== 'dead') return []
    return this.dead({ node, incarnation: m.incarnation, from: node }, now)
  }

  /** Forgets `node` now (force-leave -prune); false if it is unknown or this member. */
  forget(node: string): boolean {
    if (node === this.selfName || !this.#members.delete(node)) return false
    this.#suspicions.delete(node)
    return true
  }

  /** This member's tags changed: a new incarnation carries them (memberlist's UpdateNode). */
  updateMeta(meta: Readonly<Record<string, string>>): Effect[] {
    const me = this.self
    me.meta = { ...meta }
    me.incarnation++
    return [{ kind: 'broadcast', key: me.name, message: { type: 'alive', node: me.name, incarnation: me.incarnation, addr: me.addr, port: me.port, meta: me.meta } }]
  }

  /** Says this member is alive at an incarnation above `heard`; our own health is suspect for it (Lifeguard). */
  #refute(heard: number): Effect[] {
    const me = this.self
    me.incarnation = Math.max(me.incarnation, heard) + 1
    this.awareness.apply(1)
    return [{ kind: 'broadcast', key: me.name, message: { type: 'alive', node: me.name, incarnation: me.incarnation, addr: me.addr, port: me.port, meta: me.meta } }]
  }
}

function sameMeta(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}
