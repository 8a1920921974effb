/**
 * The retransmit-limited broadcast queue of SWIM gossip (memberlist's TransmitLimitedQueue): what a
 * member has to tell (alive, suspect, dead, user events) rides on its probes and gossip rounds. Each
 * broadcast goes out at most `retransmitLimit(mult, members)` times; the ones sent least go first
 * (the newest among equals), packed into the room a packet has. A newer broadcast about the same
 * member replaces the older one, which is then never sent again. Pure: no clock, no sockets.
 */
import { retransmitLimit } from './math.js'

export interface Broadcast {
  /** The member the broadcast is about (a newer broadcast with the same key replaces it); undefined: never replaced. */
  key: string | undefined
  /** The encoded message. */
  message: Uint8Array
}

interface Queued {
  b: Broadcast
  transmits: number
  /** Arrival order: among equal transmit counts the newest goes first. */
  id: number
}

export class BroadcastQueue {
  readonly #queued: Queued[] = []
  #nextId = 0

  constructor(
    readonly retransmitMult: number,
    /** The pool size, read whenever the limit is needed (it changes as members come and go). */
    readonly members: () => number,
  ) {}

  get length(): number {
    return this.#queued.length
  }

  /** How many queued broadcasts are user messages (serf's events): the rest are about members. */
  get userMessages(): number {
    let n = 0
    for (const q of this.#queued) if (q.b.key === undefined) n++
    return n
  }

  /** Queues a broadcast, dropping any queued one about the same member. */
  push(b: Broadcast): void {
    if (b.key !== undefined) {
      const i = this.#queued.findIndex((q) => q.b.key === b.key)
      if (i >= 0) this.#queued.splice(i, 1)
    }
    this.#queued.push({ b, transmits: 0, id: this.#nextId++ })
  }

  /**
   * The broadcasts to piggyback on one packet: least transmitted first (newest among equals), each
   * costing its length plus `overhead` bytes, within `limit` bytes. Each one taken counts a transmit;
   * one that reached the retransmit limit leaves the queue.
   */
  take(overhead: number, limit: number): Uint8Array[] {
    if (this.#queued.length === 0) return []
    const max = retransmitLimit(this.retransmitMult, this.members())
    const order = [...this.#queued].sort((a, b) => a.transmits - b.transmits || b.id - a.id)
    const out: Uint8Array[] = []
    let used = 0
    const spent = new Set<Queued>()
    for (const q of order) {
      const cost = q.b.message.byteLength + overhead
      if (used + cost > limit) continue
      used += cost
      out.push(q.b.message)
      if (++q.transmits >= max) spent.add(q)
    }
    if (spent.size > 0) {
      for (let i = this.#queued.length - 1; i >= 0; i--) if (spent.has(this.#queued[i]!)) this.#queued.splice(i, 1)
    }
    return out
  }

  /** Drops everything (leaving the pool). */
  reset(): void {
    this.#queued.length = 0
  }
}
