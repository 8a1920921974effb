/**
 * SWIM's failure detector with Lifeguard's refinements (memberlist's probeNode), pure: once a probe
 * interval, the next member in a shuffled round-robin is pinged; without an ack within the probe
 * timeout, `indirectChecks` other members are asked to ping it (and to nack when it stays silent)
 * and it is pinged over TCP too; without any ack by the end of the interval it is suspected. Both
 * durations are stretched by this member's awareness score (a member whose own probes go wrong, or
 * whose asked helpers stay silent, probes more slowly). The driver calls `advance(now)` at
 * `nextWake()` and hands over acks and nacks; effects say what to send.
 */
import type { GossipConfig } from './config.js'
import { shuffle } from './math.js'
import type { MemberPool, MemberRecord } from './state.js'

export type ProbeEffect =
  | { kind: 'ping'; to: MemberRecord; seq: number }
  | { kind: 'indirect-ping'; via: MemberRecord; target: MemberRecord; seq: number }
  | { kind: 'tcp-ping'; to: MemberRecord; seq: number }
  /** No ack at all: the pool's suspect rule runs with this (the driver feeds it to MemberPool.suspect). */
  | { kind: 'suspect'; node: string; incarnation: number }

interface Probe {
  target: MemberRecord
  seq: number
  sentAt: number
  /** When the direct ping gives up (then the indirect ones start), and when the whole probe does. */
  timeoutAt: number
  endAt: number
  indirect: boolean
  nacksExpected: number
  nacks: number
}

export class Prober {
  readonly #pool: MemberPool
  readonly #config: GossipConfig
  readonly #random: () => number
  #order: string[] = []
  /** The names `#order` holds (members who joined since the last shuffle are not among them yet). */
  #inOrder = new Set<string>()
  #next = 0
  readonly #nextSeq: () => number
  #probe: Probe | undefined
  #nextProbeAt: number

  /** `nextSeq`: the node's one sequence (its relayed pings draw from it too, so acks never collide). */
  constructor(pool: MemberPool, config: GossipConfig, random: () => number, now: number, nextSeq?: () => number) {
    let seq = 0
    this.#nextSeq = nextSeq ?? (() => ++seq)
    this.#pool = pool
    this.#config = config
    this.#random = random
    this.#nextProbeAt = now + this.#scaled(config.probeIntervalMs)
  }

  /** When `advance` has something to do. */
  nextWake(): number {
    const p = this.#probe
    if (!p) return this.#nextProbeAt
    return p.indirect ? p.endAt : p.timeoutAt
  }

  advance(now: number): ProbeEffect[] {
    const p = this.#probe
    if (p) {
      if (!p.indirect && now >= p.timeoutAt) return this.#goIndirect(p)
      if (p.indirect && now >= p.endAt) return this.#fail(p, now)
      return []
    }
    if (now < this.#nextProbeAt) return []
    return this.#start(now)
  }

  /**
   * An ack for `seq` (from the target, or relayed by a helper). Answers the round trip when it was
   * the direct ping's (only the target answers before the indirect probes start), as memberlist's
   * ping delegate hears it: the one time a round trip measures the path to the target alone.
   */
  ack(seq: number, now: number): { target: MemberRecord; rttMs: number } | undefined {
    const p = this.#probe
    if (!p || p.seq !== seq) return undefined
    this.#probe = undefined
    // A probe that worked: this member's own health looks better.
    this.#pool.awareness.apply(-1)
    this.#nextProbeAt = Math.max(now, p.endAt)
    return p.indirect ? undefined : { target: p.target, rttMs: now - p.sentAt }
  }

  /** A helper's nack: it could not reach the target either (so our own network is not the one to blame). */
  nack(seq: number): void {
    const p = this.#probe
    if (p && p.seq === seq) p.nacks++
  }

  #start(now: number): ProbeEffect[] {
    const target = this.#pickTarget()
    if (!target) {
      this.#nextProbeAt = now + this.#scaled(this.#config.probeIntervalMs)
      return []
    }
    const seq = this.#nextSeq()
    const interval = this.#scaled(this.#config.probeIntervalMs)
    this.#probe = { target, seq, sentAt: now, timeoutAt: now + this.#scaled(this.#config.probeTimeoutMs), endAt: now + interval, indirect: false, nacksExpected: 0, nacks: 0 }
    return [{ kind: 'ping', to: target, seq }]
  }

  #goIndirect(p: Probe): ProbeEffect[] {
    p.indirect = true
    const helpers = this.#randomMembers(this.#config.indirectChecks, (m) => m.name !== p.target.name)
    p.nacksExpected = helpers.length
    return [...helpers.map((via): ProbeEffect => ({ kind: 'indirect-ping', via, target: p.target, seq: p.seq })), { kind: 'tcp-ping', to: p.target, seq: p.seq }]
  }

  #fail(p: Probe, now: number): ProbeEffect[] {
    this.#probe = undefined
    this.#nextProbeAt = now
    // Lifeguard: helpers that did not even nack suggest the trouble is on our side.
    if (p.nacksExpected > 0 && p.nacks < p.nacksExpected) this.#pool.awareness.apply(p.nacksExpected - p.nacks)
    const current = this.#pool.member(p.target.name)
    if (!current || current.state === 'dead' || current.state === 'left') return []
    return [{ kind: 'suspect', node: current.name, incarnation: current.incarnation }]
  }

  /**
   * The next live member in a round-robin over a shuffled list, reshuffled after each pass. A member
   * that joined during a pass is put at a random place in the rest of it (memberlist inserts new
   * members at random too), so it is probed within this pass rather than only after it.
   */
  #pickTarget(): MemberRecord | undefined {
    // Compared by count, so a pass costs one scan per change of membership, not one per probe.
    if (this.#pool.size !== this.#inOrder.size) {
      for (const m of this.#pool.list()) {
        if (this.#inOrder.has(m.name)) continue
        this.#inOrder.add(m.name)
        const at = this.#next + Math.floor(this.#random() * (this.#order.length - this.#next + 1))
        this.#order.splice(at, 0, m.name)
      }
      // Members forgotten since the shuffle (their names are skipped where they stand in the order).
      for (const name of this.#inOrder) if (!this.#pool.member(name)) this.#inOrder.delete(name)
    }
    for (let tries = 0; tries < 2; tries++) {
      while (this.#next < this.#order.length) {
        const m = this.#pool.member(this.#order[this.#next++]!)
        if (m && m.name !== this.#pool.selfName && (m.state === 'alive' || m.state === 'suspect')) return m
      }
      this.#order = shuffle(this.#pool.list().map((m) => m.name), this.#random)
      this.#inOrder = new Set(this.#order)
      this.#next = 0
    }
    return undefined
  }

  /** Up to `k` distinct alive members other than this one that `keep` accepts, at random. */
  #randomMembers(k: number, keep: (m: MemberRecord) => boolean): MemberRecord[] {
    const candidates = this.#pool.list().filter((m) => m.name !== this.#pool.selfName && m.state === 'alive' && keep(m))
    return shuffle(candidates, this.#random).slice(0, k)
  }

  #scaled(ms: number): number {
    return this.#pool.awareness.scale(ms)
  }
}
