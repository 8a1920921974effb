/**
 * One gossip member as a pure state machine (memberlist's Memberlist with serf's reconnect and
 * reap): packets and stream results in, with the time on the driver's clock; packets, stream
 * requests and membership events out. It ties together the member rules (MemberPool), the failure
 * detector (Prober) and the broadcast queue: broadcasts ride on every ping and ack, and on gossip
 * rounds to a few random members; a full-state exchange (push-pull) runs now and then with one
 * live member, and with a failed one to heal partitions. The driver sends what `take()` holds and
 * calls `tick(now)` at `nextWake()`. No sockets, clocks or randomness of its own.
 */
import { pushPullIntervalMs, shuffle } from './math.js'
import type { GossipConfig } from './config.js'
import { BroadcastQueue } from './broadcast-queue.js'
import { decodePacket, encodeCompound, encodeMessage, type Message, type PushPull, type WireMember } from './messages.js'
import { Prober, type ProbeEffect } from './prober.js'
import { MemberPool, type Effect, type MemberRecord, type MembershipEvent } from './state.js'

export interface Address {
  addr: string
  port: number
}

export type NodeOutput =
  | { kind: 'packet'; to: Address; data: Uint8Array }
  /** Ping `node` over a TCP stream; on its ack call `ack(seq)`. */
  | { kind: 'tcp-ping'; to: Address; node: string; seq: number }
  /** Exchange `localState(join)` with the member at `to` over TCP; then `pushPullDone(to, remote or undefined)`. */
  | { kind: 'push-pull'; to: Address; join: boolean }
  | { kind: 'event'; event: MembershipEvent | 'reap'; member: MemberRecord }
  | { kind: 'user'; from: Address; data: Uint8Array }
  /** A direct probe answered: its round trip and what the target attached (serf feeds its coordinates with this). */
  | { kind: 'ping-complete'; node: string; rttMs: number; payload: Uint8Array | undefined }

export interface GossipNodeOptions {
  config: GossipConfig
  self: Pick<MemberRecord, 'name' | 'addr' | 'port' | 'meta'>
  random: () => number
  now: number
  /** The room of one UDP packet (memberlist's UDPBufferSize). */
  packetBytes?: number
  /** serf: how often a failed member is tried again, and how long it is kept before it is forgotten. */
  reconnectIntervalMs?: number
  reconnectTimeoutMs?: number
  /** serf: how long a member that left is remembered (so old gossip does not bring it back). */
  tombstoneTimeoutMs?: number
  reapIntervalMs?: number
}

/** Counters a driver reports (memberlist's metrics): what was dropped and why. */
export interface NodeCounters {
  packetsIn: number
  packetsOut: number
  badPackets: number
  truncatedParts: number
  pingsForOthers: number
  /** Membership messages received, by kind (memberlist.msg.alive, .suspect, .dead). */
  msgAlive: number
  msgSuspect: number
  msgDead: number
  /** Probes whose direct ping went unanswered, so others were asked (memberlist.degraded.probe). */
  probesDegraded: number
}

interface Relay {
  to: Address
  seq: number
  nack: boolean
  deadline: number
}

/** Each part of a compound costs its 2-byte length; the compound its 2-byte header. */
const PART_OVERHEAD = 2
const COMPOUND_HEADER = 2

export class GossipNode {
  readonly pool: MemberPool
  readonly prober: Prober
  readonly queue: BroadcastQueue
  readonly counters: NodeCounters = { packetsIn: 0, packetsOut: 0, badPackets: 0, truncatedParts: 0, pingsForOthers: 0, msgAlive: 0, msgSuspect: 0, msgDead: 0, probesDegraded: 0 }
  readonly #o: Required<Omit<GossipNodeOptions, 'self' | 'now'>>
  readonly #out: NodeOutput[] = []
  readonly #suspicionDeadlines = new Map<string, number>()
  readonly #relays = new Map<number, Relay>()
  #seq = 0
  #nextGossipAt: number
  #nextPushPullAt: number
  #nextReconnectAt: number
  #nextReapAt: number
  #leaving = false
  /** Attached to every ack this member sends for a ping to it (serf: its coordinate); the driver keeps it current. */
  ackPayload: Uint8Array | undefined

  constructor(o: GossipNodeOptions) {
    this.#o = {
      config: o.config,
      random: o.random,
      packetBytes: o.packetBytes ?? 1400,
      reconnectIntervalMs: o.reconnectIntervalMs ?? 30_000,
      reconnectTimeoutMs: o.reconnectTimeoutMs ?? 72 * 3_600_000,
      tombstoneTimeoutMs: o.tombstoneTimeoutMs ?? 24 * 3_600_000,
      reapIntervalMs: o.reapIntervalMs ?? 15_000,
    }
    this.pool = new MemberPool(o.config, o.self, o.now)
    this.prober = new Prober(this.pool, o.config, o.random, o.now, () => ++this.#seq)
    this.queue = new BroadcastQueue(o.config.retransmitMult, () => this.pool.liveCount())
    // Spread the periodic work so members started together do not act in step.
    this.#nextGossipAt = o.now + Math.floor(o.random() * o.config.gossipIntervalMs)
    this.#nextPushPullAt = o.now + this.#pushPullInterval() * (0.5 + o.random() / 2)
    this.#nextReconnectAt = o.now + this.#o.reconnectIntervalMs
    this.#nextReapAt = o.now + this.#o.reapIntervalMs
  }

  get name(): string {
    return this.pool.selfName
  }

  get leaving(): boolean {
    return this.#leaving
  }

  /** Everything to send or report since the last call. */
  take(): NodeOutput[] {
    return this.#out.splice(0)
  }

  /** When `tick` has something to do. */
  nextWake(): number {
    let t = Math.min(this.#nextGossipAt, this.#nextPushPullAt, this.#nextReconnectAt, this.#nextReapAt)
    if (!this.#leaving) t = Math.min(t, this.prober.nextWake())
    for (const d of this.#suspicionDeadlines.values()) t = Math.min(t, d)
    for (const r of this.#relays.values()) t = Math.min(t, r.deadline)
    return t
  }

  tick(now: number): void {
    if (!this.#leaving) for (const e of this.prober.advance(now)) this.#probeEffect(e, now)
    for (const [node, deadline] of [...this.#suspicionDeadlines]) {
      if (deadline > now) continue
      this.#suspicionDeadlines.delete(node)
      this.#apply(this.pool.suspicionExpired(node, now))
    }
    for (const [seq, r] of [...this.#relays]) {
      if (r.deadline > now) continue
      this.#relays.delete(seq)
      if (r.nack) this.#send(r.to, encodeMessage({ type: 'nack', body: { seq: r.seq } }))
    }
    if (now >= this.#nextGossipAt) {
      this.#nextGossipAt = now + this.#o.config.gossipIntervalMs
      this.#gossip(now)
    }
    if (now >= this.#nextPushPullAt) {
      this.#nextPushPullAt = now + this.#pushPullInterval()
      const peer = this.#randomMembers(1, (m) => m.state === 'alive')[0]
      if (peer && !this.#leaving) this.#out.push({ kind: 'push-pull', to: addressOf(peer), join: false })
    }
    if (now >= this.#nextReconnectAt) {
      this.#nextReconnectAt = now + this.#o.reconnectIntervalMs
      this.#reconnect()
    }
    if (now >= this.#nextReapAt) {
      this.#nextReapAt = now + this.#o.reapIntervalMs
      const before = new Map(this.pool.list().map((m) => [m.name, m]))
      for (const name of this.pool.reap(now, this.#o.reconnectTimeoutMs, this.#o.tombstoneTimeoutMs)) {
        this.#out.push({ kind: 'event', event: 'reap', member: { ...before.get(name)! } })
      }
    }
  }

  /** A UDP packet from `from`. Garbage is counted and dropped. */
  packet(from: Address, data: Uint8Array, now: number): void {
    this.counters.packetsIn++
    const decoded = decodePacket(data)
    if (!decoded.ok) {
      this.counters.badPackets++
      return
    }
    this.counters.truncatedParts += decoded.truncated
    for (const m of decoded.messages) this.#message(from, m, now)
  }

  /** An ack, by UDP or another way (the TCP fallback probe). */
  ack(seq: number, now: number, payload?: Uint8Array): void {
    const relay = this.#relays.get(seq)
    if (relay) {
      this.#relays.delete(seq)
      this.#send(relay.to, encodeMessage({ type: 'ack', body: { seq: relay.seq } }))
      return
    }
    const direct = this.prober.ack(seq, now)
    if (direct) this.#out.push({ kind: 'ping-complete', node: direct.target.name, rttMs: direct.rttMs, payload })
  }

  /**
   * Contacts each address with a join exchange (the driver reports which answered). A member that
   * left stays left: rejoining (rejoin_after_leave) is a new GossipNode, whose refutation of its
   * old `left` record brings it back.
   */
  join(addresses: readonly Address[]): void {
    if (this.#leaving) return
    for (const to of addresses) this.#out.push({ kind: 'push-pull', to, join: true })
  }

  /** This member's side of a push-pull exchange. */
  localState(join: boolean): PushPull {
    const members: WireMember[] = this.pool.list().map((m) => ({ name: m.name, addr: m.addr, port: m.port, meta: m.meta, incarnation: m.incarnation, state: m.state }))
    return { from: this.name, join, members }
  }

  /** The other side's state from a push-pull exchange (as its initiator or its server). */
  merge(remote: PushPull, now: number): void {
    if (this.#leaving) return
    this.#apply(this.pool.merge(remote.members.map((m) => ({ ...m, stateChange: now })), remote.from, now))
  }

  /** New tags for this member, gossiped with a new incarnation. */
  updateMeta(meta: Readonly<Record<string, string>>): void {
    this.#apply(this.pool.updateMeta(meta))
  }

  /**
   * `consul force-leave`. A failed member is marked left and that is gossiped; with `prune` it is
   * forgotten here at once (the others forget it at their next reap). A member still alive is only
   * `leaving` (serf's word): it is suspected, told so directly, and refutes. False for an unknown
   * member or this one.
   */
  forceLeave(name: string, prune: boolean, now: number): 'left' | 'leaving' | false {
    const m = this.pool.member(name)
    if (!m || name === this.name) return false
    if (m.state === 'alive' || m.state === 'suspect') {
      const suspect = { node: name, incarnation: m.incarnation, from: this.name }
      this.#apply(this.pool.suspect(suspect, now))
      this.#send(addressOf(m), encodeMessage({ type: 'suspect', body: suspect }))
      return 'leaving'
    }
    this.#suspicionDeadlines.delete(name)
    this.#apply(this.pool.forceLeave(name, now))
    if (prune) {
      const record = { ...this.pool.member(name)! }
      this.pool.forget(name)
      this.#out.push({ kind: 'event', event: 'reap', member: record })
    }
    return 'left'
  }

  /** A user message (serf's events) to gossip to everyone; false when it is larger than a packet holds. */
  broadcastUser(data: Uint8Array): boolean {
    const message = encodeMessage({ type: 'user', body: data })
    if (message.byteLength + PART_OVERHEAD + COMPOUND_HEADER > this.#o.packetBytes) return false
    this.queue.push({ key: undefined, message })
    return true
  }

  /**
   * Leaves: the others hear it from this member directly and through gossip; it stops probing
   * (and so never suspects anyone on its way out). The driver lets a few gossip rounds pass before
   * it stops. The `leave` event about this member itself comes out too: the driver's to drop or log.
   */
  leave(now: number): void {
    const effects = this.pool.leave(now)
    this.#leaving = true
    this.#apply(effects)
    const last = this.queue.take(PART_OVERHEAD, this.#o.packetBytes)
    for (const m of this.pool.list()) {
      if (m.name === this.name || m.state !== 'alive') continue
      for (const msg of last) this.#send(addressOf(m), msg)
    }
    this.#nextGossipAt = now
  }

  #message(from: Address, m: Message, now: number): void {
    switch (m.type) {
      case 'ping':
        // A ping for another member (an old address reused) is not ours to answer.
        if (m.body.node !== this.name) {
          this.counters.pingsForOthers++
          return
        }
        this.#sendWithBroadcasts(from, encodeMessage({ type: 'ack', body: this.ackPayload ? { seq: m.body.seq, payload: this.ackPayload } : { seq: m.body.seq } }))
        return
      case 'indirectPing': {
        const seq = ++this.#seq
        this.#relays.set(seq, { to: from, seq: m.body.seq, nack: m.body.nack, deadline: now + this.#o.config.probeTimeoutMs })
        this.#sendWithBroadcasts({ addr: m.body.addr, port: m.body.port }, encodeMessage({ type: 'ping', body: { seq, node: m.body.target } }))
        return
      }
      case 'ack':
        this.ack(m.body.seq, now, m.body.payload)
        return
      case 'nack':
        this.prober.nack(m.body.seq)
        return
      case 'alive':
        this.counters.msgAlive++
        this.#apply(this.pool.alive(m.body, now))
        return
      case 'suspect':
        this.counters.msgSuspect++
        this.#answerStale(from, m.body)
        this.#apply(this.pool.suspect(m.body, now))
        return
      case 'dead':
        this.counters.msgDead++
        this.#answerStale(from, m.body)
        this.#apply(this.pool.dead(m.body, now))
        return
      case 'user':
        this.#out.push({ kind: 'user', from, data: m.body })
        return
    }
  }

  /**
   * A suspicion or death of this member at an incarnation it has already refuted: the sender missed
   * the refutation (memberlist just ignores it, and the sender may declare us dead). It gets our
   * alive message straight back.
   */
  #answerStale(from: Address, body: { node: string; incarnation: number }): void {
    const me = this.pool.self
    if (body.node !== me.name || body.incarnation >= me.incarnation || this.#leaving) return
    this.#send(from, encodeMessage({ type: 'alive', body: { node: me.name, incarnation: me.incarnation, addr: me.addr, port: me.port, meta: me.meta } }))
  }

  #probeEffect(e: ProbeEffect, now: number): void {
    switch (e.kind) {
      case 'ping': {
        const ping = encodeMessage({ type: 'ping', body: { seq: e.seq, node: e.to.name } })
        // Lifeguard's buddy system: a suspect member hears it from whoever probes it, not only by chance through gossip.
        const current = this.pool.member(e.to.name)
        const buddy = current?.state === 'suspect' ? [encodeMessage({ type: 'suspect', body: { node: current.name, incarnation: current.incarnation, from: this.name } })] : []
        this.#sendWithBroadcasts(addressOf(e.to), ping, buddy)
        return
      }
      case 'indirect-ping':
        this.#send(addressOf(e.via), encodeMessage({ type: 'indirectPing', body: { seq: e.seq, target: e.target.name, addr: e.target.addr, port: e.target.port, nack: true } }))
        return
      case 'tcp-ping':
        // One per probe that went indirect (the TCP fallback goes with the indirect pings).
        this.counters.probesDegraded++
        this.#out.push({ kind: 'tcp-ping', to: addressOf(e.to), node: e.to.name, seq: e.seq })
        return
      case 'suspect':
        this.#apply(this.pool.suspect({ node: e.node, incarnation: e.incarnation, from: this.name }, now))
        return
    }
  }

  #apply(effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'broadcast': {
          const { type, ...body } = e.message
          this.queue.push({ key: e.key, message: encodeMessage({ type, body } as Message) })
          break
        }
        case 'event':
          this.#out.push({ kind: 'event', event: e.event, member: e.member })
          break
        case 'suspect-timer':
          this.#suspicionDeadlines.set(e.node, e.deadline)
          break
        case 'cancel-suspect-timer':
          this.#suspicionDeadlines.delete(e.node)
          break
      }
    }
  }

  /** One gossip round: queued broadcasts to a few random members (the recently dead included, so they learn it). */
  #gossip(now: number): void {
    if (this.queue.length === 0) return
    const targets = this.#randomMembers(this.#o.config.gossipNodes, (m) => {
      if (m.state === 'alive' || m.state === 'suspect') return true
      return m.state === 'dead' && now - m.stateChange < this.#o.config.gossipToTheDeadMs
    })
    for (const m of targets) {
      const parts = this.queue.take(PART_OVERHEAD, this.#o.packetBytes - COMPOUND_HEADER)
      if (parts.length === 0) return
      this.#send(addressOf(m), parts.length === 1 ? parts[0]! : encodeCompound(parts))
    }
  }

  /** serf's reconnect: now and then a push-pull with one failed member, more often the more have failed. */
  #reconnect(): void {
    if (this.#leaving) return
    const members = this.pool.list()
    const failed = members.filter((m) => m.state === 'dead')
    if (failed.length === 0) return
    const alive = members.filter((m) => m.state === 'alive' || m.state === 'suspect').length
    if (this.#o.random() > failed.length / Math.max(1, alive)) return
    const pick = failed[Math.floor(this.#o.random() * failed.length)]!
    this.#out.push({ kind: 'push-pull', to: addressOf(pick), join: false })
  }

  /** `message` (and any `own` parts) with as many queued broadcasts as the packet has room for. */
  #sendWithBroadcasts(to: Address, message: Uint8Array, own: readonly Uint8Array[] = []): void {
    const first = [message, ...own]
    const room = this.#o.packetBytes - COMPOUND_HEADER - first.reduce((n, p) => n + p.byteLength + PART_OVERHEAD, 0)
    const parts = [...first, ...(room > 0 ? this.queue.take(PART_OVERHEAD, room) : [])]
    this.#send(to, parts.length === 1 ? message : encodeCompound(parts))
  }

  #send(to: Address, data: Uint8Array): void {
    this.counters.packetsOut++
    this.#out.push({ kind: 'packet', to, data })
  }

  #pushPullInterval(): number {
    return pushPullIntervalMs(this.#o.config.pushPullIntervalMs, this.pool.liveCount())
  }

  /** Up to `k` distinct members other than this one that `keep` accepts, at random. */
  #randomMembers(k: number, keep: (m: MemberRecord) => boolean): MemberRecord[] {
    return shuffle(this.pool.list().filter((m) => m.name !== this.name && keep(m)), this.#o.random).slice(0, k)
  }
}

export const addressOf = (m: Address): Address => ({ addr: m.addr, port: m.port })
