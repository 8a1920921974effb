/**
 * A seeded simulator for the gossip core: N GossipNodes on a simulated network, in milliseconds of
 * simulated time. Packets take 1-5 ms and are lost at a rate; directed links can be cut
 * (partitions); members can crash (silent from then on), pause (nothing delivered or run until
 * resumed, as SIGSTOP) and restart. TCP exchanges (push-pull, fallback pings) are reliable
 * where the link is up in both directions. One PRNG drives every decision, so a seed replays.
 */
import { GossipNode, type Address, type NodeOutput } from '../../src/gossip/core/node.js'
import type { GossipConfig } from '../../src/gossip/core/config.js'
import type { MembershipEvent } from '../../src/gossip/core/state.js'
import { mulberry32 } from '../../src/lib/prng.js'

export interface SimEvent {
  at: number
  /** Who reports it. */
  observer: string
  event: MembershipEvent | 'reap'
  member: string
  incarnation: number
}

interface Scheduled {
  at: number
  seq: number
  run: () => void
}

/** A binary min-heap of scheduled actions by (time, arrival order): ties keep their order, so runs replay. */
class Agenda {
  readonly #heap: Scheduled[] = []
  #seq = 0

  get size(): number {
    return this.#heap.length
  }

  push(at: number, run: () => void): void {
    const h = this.#heap
    h.push({ at, seq: this.#seq++, run })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  peek(): Scheduled | undefined {
    return this.#heap[0]
  }

  pop(): Scheduled | undefined {
    const h = this.#heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

const before = (a: Scheduled, b: Scheduled): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

interface SimMember {
  name: string
  address: Address
  node: GossipNode
  state: 'up' | 'crashed' | 'paused'
  /** The wake this member has scheduled (a later reschedule makes older ones stale). */
  wakeAt: number
  /** What arrived while paused, delivered on resume. */
  held: Array<() => void>
  /** Extra delay of every delivery to this member while its timers keep time (Lifeguard's slow member: its acks are read late). */
  lagMs: number
  /** Packets this member sent, and their bytes. */
  sent: number
  sentBytes: number
}

export interface SimOptions {
  seed: number
  config: GossipConfig
  /** Share of UDP packets lost. */
  loss?: number
  reconnectIntervalMs?: number
  reconnectTimeoutMs?: number
  tombstoneTimeoutMs?: number
  /** TCP fallback pings answered (off: a test of what the UDP paths alone achieve). */
  tcpFallback?: boolean
  /** One-way delay of a packet between two members, in ms (default: 1-5 ms at random). */
  latency?: (from: string, to: string) => number
  /** Every direct probe answered (a coordinate layer above the core listens here). */
  onPingComplete?: (member: string, out: Extract<NodeOutput, { kind: 'ping-complete' }>) => void
}

export class GossipSim {
  readonly random: () => number
  readonly agenda = new Agenda()
  readonly members = new Map<string, SimMember>()
  readonly #byAddress = new Map<string, string>()
  readonly events: SimEvent[] = []
  /** Blocked directed links, "from>to" by name. */
  readonly blocked = new Set<string>()
  loss: number
  now = 0
  packets = 0
  lost = 0

  constructor(readonly o: SimOptions) {
    this.random = mulberry32(o.seed)
    this.loss = o.loss ?? 0
  }

  /** Adds (or restarts, with a fresh state) a member named `name`; it knows no one until it joins. */
  add(name: string): GossipNode {
    const address = { addr: `10.0.${(this.members.size >> 8) & 255}.${this.members.size & 255}`, port: 8301 }
    const existing = this.members.get(name)
    const at = existing?.address ?? address
    const node = new GossipNode({
      config: this.o.config,
      self: { name, addr: at.addr, port: at.port, meta: { role: 'node' } },
      random: this.random,
      now: this.now,
      reconnectIntervalMs: this.o.reconnectIntervalMs,
      reconnectTimeoutMs: this.o.reconnectTimeoutMs,
      tombstoneTimeoutMs: this.o.tombstoneTimeoutMs,
    })
    const m: SimMember = { name, address: at, node, state: 'up', wakeAt: Infinity, held: [], lagMs: 0, sent: 0, sentBytes: 0 }
    this.members.set(name, m)
    this.#byAddress.set(key(at), name)
    this.#settle(m)
    return node
  }

  node(name: string): GossipNode {
    return this.members.get(name)!.node
  }

  join(name: string, others: readonly string[]): void {
    const m = this.members.get(name)!
    m.node.join(others.map((o) => this.members.get(o)!.address))
    this.#settle(m)
  }

  leave(name: string): void {
    const m = this.members.get(name)!
    m.node.leave(this.now)
    this.#settle(m)
  }

  crash(name: string): void {
    this.members.get(name)!.state = 'crashed'
  }

  pause(name: string): void {
    this.members.get(name)!.state = 'paused'
  }

  resume(name: string): void {
    const m = this.members.get(name)!
    m.state = 'up'
    for (const run of m.held.splice(0)) run()
    m.wakeAt = Infinity
    this.#settle(m)
  }

  /** From now on every packet and stream answer reaches `name` `ms` late; its own timers still fire on time. */
  lag(name: string, ms: number): void {
    this.members.get(name)!.lagMs = ms
  }

  /** Cuts both directions between the two groups. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`).add(`${y}>${x}`)
  }

  heal(): void {
    this.blocked.clear()
  }

  /** Runs until `until` (simulated ms). */
  runUntil(until: number): void {
    for (;;) {
      const next = this.agenda.peek()
      if (!next || next.at > until) break
      this.agenda.pop()
      this.now = next.at
      next.run()
    }
    this.now = until
  }

  run(ms: number): void {
    this.runUntil(this.now + ms)
  }

  /** What `observer` holds about `member` now. */
  stateOf(observer: string, member: string): string | undefined {
    return this.members.get(observer)!.node.pool.member(member)?.state
  }

  /** Every up member's view agrees: `member` is in `state` (or every live member, when `member` is omitted, is alive everywhere). */
  converged(expect: (observer: string, member: string) => string | undefined): boolean {
    for (const o of this.members.values()) {
      if (o.state !== 'up') continue
      for (const m of this.members.values()) {
        if (m.name === o.name) continue
        if (o.node.pool.member(m.name)?.state !== expect(o.name, m.name)) return false
      }
    }
    return true
  }

  /** Runs until `done()` holds, checking every `stepMs`; false when `withinMs` passes first. */
  runUntilTrue(done: () => boolean, withinMs: number, stepMs = 100): boolean {
    const end = this.now + withinMs
    while (this.now < end) {
      if (done()) return true
      this.run(stepMs)
    }
    return done()
  }

  #up(name: string): boolean {
    return this.members.get(name)?.state === 'up'
  }

  #linked(from: string, to: string): boolean {
    return !this.blocked.has(`${from}>${to}`)
  }

  /** Runs a delivery to `m` now, or holds it while `m` is paused; crashed members get nothing. */
  #deliver(m: SimMember, run: () => void, lagged = false): void {
    if (m.state === 'crashed') return
    if (m.state === 'paused') {
      m.held.push(run)
      return
    }
    if (m.lagMs > 0 && !lagged) {
      this.agenda.push(this.now + m.lagMs, () => this.#deliver(m, run, true))
      return
    }
    run()
    this.#settle(m)
  }

  /** Sends what `m` has to send and (re)schedules its next wake. */
  #settle(m: SimMember): void {
    if (m.state !== 'up') return
    for (const out of m.node.take()) this.#output(m, out)
    const wake = m.node.nextWake()
    if (wake < m.wakeAt) {
      m.wakeAt = wake
      this.agenda.push(Math.max(wake, this.now), () => {
        if (m.wakeAt !== wake || m.state !== 'up') return
        m.wakeAt = Infinity
        m.node.tick(this.now)
        this.#settle(m)
      })
    }
  }

  #latency(from?: string, to?: string): number {
    if (this.o.latency && from !== undefined && to !== undefined) return this.o.latency(from, to)
    return 1 + Math.floor(this.random() * 5)
  }

  #output(from: SimMember, out: NodeOutput): void {
    const toName = 'to' in out ? this.#byAddress.get(key(out.to)) : undefined
    const to = toName !== undefined ? this.members.get(toName) : undefined
    switch (out.kind) {
      case 'event':
        this.events.push({ at: this.now, observer: from.name, event: out.event, member: out.member.name, incarnation: out.member.incarnation })
        return
      case 'user':
        return
      case 'ping-complete':
        this.o.onPingComplete?.(from.name, out)
        return
      case 'packet': {
        this.packets++
        from.sent++
        from.sentBytes += out.data.byteLength
        if (!to || !this.#linked(from.name, to.name) || this.random() < this.loss) {
          this.lost++
          return
        }
        const data = out.data
        const source = from.address
        this.agenda.push(this.now + this.#latency(from.name, to.name), () => this.#deliver(to, () => to.node.packet(source, data, this.now)))
        return
      }
      case 'tcp-ping': {
        const rtt = 2 * this.#latency()
        const ok = this.o.tcpFallback !== false && to !== undefined && this.#linked(from.name, to.name) && this.#linked(to.name, from.name) && to.name === out.node
        // A lagging member reads the ping late too.
        this.agenda.push(this.now + rtt + (to?.lagMs ?? 0), () => {
          if (ok && this.#up(to!.name)) this.#deliver(from, () => from.node.ack(out.seq, this.now))
        })
        return
      }
      case 'push-pull': {
        const mine = from.node.localState(out.join)
        const linked = to !== undefined && this.#linked(from.name, to.name) && this.#linked(to.name, from.name)
        if (!linked) return
        this.agenda.push(this.now + this.#latency(), () => {
          if (!this.#up(to.name)) return
          const theirs = to.node.localState(false)
          this.#deliver(to, () => to.node.merge(mine, this.now))
          this.agenda.push(this.now + this.#latency(), () => this.#deliver(from, () => from.node.merge(theirs, this.now)))
        })
        return
      }
    }
  }
}

const key = (a: Address): string => `${a.addr}:${a.port}`
