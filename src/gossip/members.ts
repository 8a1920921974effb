/**
 * A gossip pool on the wire (memberlist's net transport around the pure GossipNode): UDP packets
 * on the pool's port carry probes and broadcasts; TCP on the same port (the project's RPC
 * framing) carries push-pull exchanges, joins and the fallback probe. One timer follows the node's
 * next wake. What the agent sees is serf's view: members with tags and a status (alive, failed,
 * left), change notifications, join, leave and force-leave, and a snapshot in data_dir so a
 * restarted agent rejoins the members of its last run by itself (serf's local.snapshot).
 */
import { createHash, randomUUID } from 'node:crypto'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { decode, encode } from '@msgpack/msgpack'
import { isIPv6 } from 'node:net'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { systemClock, type Clock, type Timer } from '../lib/clock.js'
import type { Coordinate } from '../lib/coordinate.js'
import { CoordinateTracker } from './coordinates.js'
import type { RpcServer } from '../rpc/server.js'
import { LAN_CONFIG, type GossipConfig } from './core/config.js'
import { decodeStreamMessage, encodeStreamMessage } from './core/messages.js'
import { GossipNode, type Address, type NodeOutput } from './core/node.js'
import { ReplayFilter, SEALED, type Keyring } from './keyring.js'
import type { MemberRecord } from './core/state.js'

/** serf's member status codes as Consul's API shows them (Status in /v1/agent/members). */
export const MemberStatus = { alive: 1, leaving: 2, left: 3, failed: 4 } as const
export type MemberStatusName = keyof typeof MemberStatus

export interface Member {
  name: string
  /** The agent's address and gossip port. */
  addr: string
  port: number
  tags: Record<string, string>
  status: MemberStatusName
}

/** WARNING: on the wire (RPC method names of the gossip streams). */
export const PUSH_PULL_METHOD = 'Gossip.PushPull'
export const STREAM_PING_METHOD = 'Gossip.Ping'
export const QUERY_RESPONSE_METHOD = 'Gossip.QueryResponse'

/** The first byte of a gossiped user message that is a query (serf's queries); 1 is the agent's user events. WARNING: on the wire. */
export const USER_QUERY = 2
/** User messages remembered so each is relayed once (gossip spreads them epidemically, as serf's events). */
const SEEN_USER_MAX = 4096

/** One member's answer to a query. */
export interface QueryResponse {
  node: string
  body: Uint8Array
}

export interface MembersOptions {
  /** The RPC endpoint listening on this pool's port (TCP); the UDP socket is bound beside it. */
  rpc: RpcServer
  self: () => Member
  clock: Clock
  random?: () => number
  log: (level: 'info' | 'warn' | 'error', message: string) => void
  /** memberlist's timing preset (LAN by default). */
  config?: GossipConfig
  /** Where the member list is kept between runs; none in dev mode. */
  snapshotFile?: string
  /** Consul's rejoin_after_leave: a snapshot written by a graceful leave is rejoined anyway. */
  rejoinAfterLeave?: boolean
  /** Consul's reconnect_timeout: how long a failed member is kept before it is reaped. */
  reconnectTimeoutMs?: number
  /** A user message gossiped by another member (serf's user events). */
  onUser?: (data: Uint8Array) => void
  /** Gossip encryption (Consul's encrypt): packets and streams sealed with its primary key. */
  keyring?: Keyring
  /** Answers a query another member (or this one) asked (serf's queries: the keyring operations). */
  onQuery?: (body: Uint8Array) => Uint8Array
  /** encrypt_verify_incoming / _outgoing (both on by default): off for a rolling change to encryption. */
  verifyIncoming?: boolean
  verifyOutgoing?: boolean
  /** Network coordinates on the probes (serf's; Consul's disable_coordinates turns them off). */
  coordinates?: boolean
}

interface Snapshot {
  left: boolean
  members: Array<{ name: string; addr: string; port: number }>
}

/** What the stream side counts: exchanges and what was refused (the node counts packets). */
const STREAM_COUNTERS = ['push_pulls_out', 'push_pulls_in', 'push_pull_failures', 'stream_pings_out', 'bad_streams', 'udp_send_errors', 'bad_key', 'replayed'] as const

/** What a stream side answers when no installed key opens a message (or it is sealed and this member has no key). */
const NO_KEY = 'No installed keys could decrypt the message'

export const memberAddress = (m: Pick<Member, 'addr' | 'port'>): string => (m.addr.includes(':') ? `[${m.addr}]:${m.port}` : `${m.addr}:${m.port}`)

const STATUS: Record<MemberRecord['state'], MemberStatusName> = { alive: 'alive', suspect: 'alive', dead: 'failed', left: 'left' }

export class Members {
  readonly #o: MembersOptions & { config: GossipConfig }
  readonly #listeners = new Set<(m: Member) => void>()
  readonly #counters: Record<(typeof STREAM_COUNTERS)[number], number> = Object.fromEntries(STREAM_COUNTERS.map((k) => [k, 0])) as never
  #udp: UdpSocket | undefined
  #node: GossipNode | undefined
  #timer: Timer | undefined
  #timerAt = Infinity
  #dirty = false
  #lastSnapshotAt = 0
  #stopped = false
  #startedAt = 0
  #lastKeyWarning = -Infinity
  readonly #seenUser = new Set<string>()
  readonly #queries = new Map<string, { responses: QueryResponse[]; done: () => void }>()
  /** Members force-left while alive, with the incarnation they had. */
  readonly #leaving = new Map<string, number>()
  #coords: CoordinateTracker | undefined
  readonly #replays = new ReplayFilter()
  /** The node's time: sub-millisecond on the real clock, so a loopback round trip is not 0 ms. */
  readonly #now: () => number

  constructor(o: MembersOptions) {
    this.#o = { ...o, config: o.config ?? LAN_CONFIG }
    this.#now = o.clock === systemClock ? () => performance.now() : () => o.clock.now()
    o.rpc.handle(QUERY_RESPONSE_METHOD, (body, ctx) => this.#queryResponse(body, ctx.remoteAddress))
    o.rpc.handle(PUSH_PULL_METHOD, (body, ctx) => this.#answerPushPull(body, ctx.remoteAddress))
    o.rpc.handle(STREAM_PING_METHOD, (body, ctx) => this.#answerPing(body, ctx.remoteAddress))
  }

  /** Binds the UDP side on the port the RPC endpoint listens on. */
  listenUdp(host: string, port: number): Promise<void> {
    const udp = (this.#udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' }))
    udp.on('message', (raw, rinfo) => {
      if (!this.#node || this.#stopped) return
      const data = this.#open(raw, `${rinfo.address}:${rinfo.port}`)
      if (!data) return
      if (raw[0] === SEALED && this.#replays.seen(raw)) {
        this.#counters.replayed++
        return
      }
      this.#node.packet({ addr: rinfo.address, port: rinfo.port }, data, this.#now())
      this.#flush()
    })
    return new Promise((resolve, reject) => {
      udp.once('error', reject)
      udp.bind({ address: host, port, exclusive: true }, () => {
        udp.off('error', reject)
        // After binding, a socket error (an ICMP unreachable on some systems) is logged, never thrown.
        udp.on('error', (err) => this.#o.log('warn', `memberlist: UDP: ${err.message}`))
        resolve()
      })
    })
  }

  /** Every member, this agent first. */
  list(): Member[] {
    const self = this.#o.self()
    if (!this.#node) return [self]
    const others = this.#node.pool.list().filter((m) => m.name !== self.name)
    return [self, ...others.map((m) => this.#view(m))]
  }

  /** Called with a member that appeared, changed or was forgotten (reaped: status left). */
  onChange(fn: (m: Member) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /** Starts gossiping, and rejoins the members of the last run (unless it ended in a leave). */
  start(): void {
    const self = this.#o.self()
    this.#startedAt = this.#now()
    this.#node = new GossipNode({
      config: this.#o.config,
      self: { name: self.name, addr: self.addr, port: self.port, meta: self.tags },
      random: this.#o.random ?? Math.random,
      now: this.#now(),
      reconnectTimeoutMs: this.#o.reconnectTimeoutMs,
    })
    if (this.#o.coordinates !== false) {
      this.#coords = new CoordinateTracker(self.name, this.#o.random ?? Math.random)
      this.#node.ackPayload = this.#coords.payload
    }
    this.#flush()
    const snap = this.#readSnapshot()
    if (!snap || snap.members.length === 0) return
    if (snap.left && !this.#o.rejoinAfterLeave) {
      this.#o.log('info', 'serf: the last run ended in a leave; not rejoining its members (rejoin_after_leave is off)')
      return
    }
    const addresses = snap.members.map(memberAddress)
    void this.join(addresses, 0).then((r) => {
      if (r.joined > 0) this.#o.log('info', `serf: rejoined ${r.joined} of ${addresses.length} members of the last run`)
      else this.#o.log('warn', `serf: could not rejoin the members of the last run: ${r.errors.join('; ')}`)
    })
  }

  /**
   * A join exchange with each address (`host`, `host:port`; the default port is `defaultPort`).
   * Resolves with the number that answered and why the others did not.
   */
  async join(addresses: readonly string[], defaultPort: number): Promise<{ joined: number; errors: string[] }> {
    const results = await Promise.all(
      addresses.map((a) => {
        const address = withPort(a, defaultPort)
        // retry_join has its own interval: each attempt really dials, whatever the last one found.
        this.#o.rpc.retryNow(address)
        return this.#pushPull(address, true)
      }),
    )
    const errors = results.filter((r): r is string => typeof r === 'string')
    return { joined: results.length - errors.length, errors }
  }

  /** Whether this member has exchanged full state with another, or gossiped for a whole push-pull interval alone. */
  settled(): boolean {
    return this.#counters.push_pulls_in + this.#counters.push_pulls_out - this.#counters.push_pull_failures > 0 || (this.#startedAt > 0 && this.#now() - this.#startedAt >= this.#o.config.pushPullIntervalMs)
  }

  /** Leaves gracefully: the others hear it now and through a few gossip rounds; then it stops. */
  async leave(): Promise<void> {
    const node = this.#node
    if (!node || this.#stopped) return
    node.leave(this.#now())
    this.#flush()
    this.#writeSnapshot(true)
    await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, this.#o.config.gossipIntervalMs * 3))
    this.stop()
  }

  /** Gossips a user message to every member; false when it does not fit a packet. */
  broadcastUser(data: Uint8Array): boolean {
    if (!this.#node || this.#stopped) return false
    this.#remember(data)
    const ok = this.#node.broadcastUser(data)
    this.#flush()
    return ok
  }

  /**
   * Asks every member (this one too) and gathers their answers (serf's queries): gossiped like a
   * user message, answered over RPC to this member. Resolves when every live member answered or
   * after `timeoutMs`, whichever is first.
   */
  async query(body: Uint8Array, timeoutMs: number): Promise<QueryResponse[]> {
    const node = this.#node
    if (!node || this.#stopped) throw new Error('not gossiping')
    const id = randomUUID()
    const self = this.#o.self()
    const message = encode({ id, from: memberAddress(self), body })
    const data = new Uint8Array(message.byteLength + 1)
    data[0] = USER_QUERY
    data.set(message, 1)
    const pending = { responses: [] as QueryResponse[], done: () => undefined as void }
    this.#queries.set(id, pending)
    try {
      if (!this.broadcastUser(data)) throw new Error('the query is larger than a gossip packet holds')
      pending.responses.push({ node: self.name, body: this.#o.onQuery?.(body) ?? new Uint8Array() })
      const expected = node.pool.liveCount()
      if (pending.responses.length < expected) {
        await new Promise<void>((resolve) => {
          const timer = this.#o.clock.setTimeout(resolve, timeoutMs)
          pending.done = () => {
            if (pending.responses.length < node.pool.liveCount()) return
            timer.cancel()
            resolve()
          }
        })
      }
      return pending.responses
    } finally {
      this.#queries.delete(id)
    }
  }

  /** This member's network coordinate (undefined with coordinates off). */
  coordinate(): Coordinate | undefined {
    return this.#coords?.coordinate()
  }

  /** The last coordinate heard from `name` (serf's coordinate cache; this member's own for itself). */
  coordinateOf(name: string): Coordinate | undefined {
    return this.#coords?.get(name)
  }

  /** The timing preset this pool runs with. */
  get config(): GossipConfig {
    return this.#o.config
  }

  /** The number of members alive (or suspected) now, this one included. */
  liveCount(): number {
    return this.#node?.pool.liveCount() ?? 1
  }

  /** `consul force-leave`: false when no such member is known. An alive one shows `leaving` until it refutes. */
  forceLeave(name: string, prune: boolean): boolean {
    const node = this.#node
    if (!node) return false
    const incarnation = node.pool.member(name)?.incarnation ?? 0
    const r = node.forceLeave(name, prune, this.#now())
    if (r === 'leaving') this.#leaving.set(name, incarnation)
    this.#flush()
    return r !== false
  }

  /** serf's stats as /v1/agent/self shows them under serf_lan / serf_wan, and what was dropped. */
  stats(): Record<string, string> {
    const members = this.list()
    const node = this.#node
    const count = (s: MemberStatusName): string => String(members.filter((m) => m.status === s).length)
    return {
      members: String(members.length),
      failed: count('failed'),
      left: count('left'),
      health_score: String(node?.pool.awareness.score ?? 0),
      queued_broadcasts: String(node?.queue.length ?? 0),
      queued_events: String(node?.queue.userMessages ?? 0),
      member_time: String(node?.pool.self.incarnation ?? 0),
      encrypted: String(this.#o.keyring !== undefined),
      coordinate_updates: String(this.#coords?.counters.updates ?? 0),
      coordinate_rejected: String(this.#coords?.counters.rejected ?? 0),
      ...Object.fromEntries(Object.entries(node?.counters ?? {}).map(([k, v]) => [snake(k), String(v)])),
      ...Object.fromEntries(Object.entries(this.#counters).map(([k, v]) => [k, String(v)])),
    }
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#timer?.cancel()
    this.#timer = undefined
    if (this.#dirty) this.#writeSnapshot(this.#node?.leaving ?? false)
    try {
      this.#udp?.close()
    } catch {
      // Never bound, or closed already.
    }
  }

  /** serf's status of a member: `leaving` after a force-leave until it refutes (a new incarnation). */
  #view(m: MemberRecord): Member {
    const member = toMember(m)
    const at = this.#leaving.get(m.name)
    if (at === undefined) return member
    if (m.incarnation === at && member.status === 'alive') return { ...member, status: 'leaving' }
    this.#leaving.delete(m.name)
    return member
  }

  /** Sends and reports what the node has for the world, then sets the timer for its next wake. */
  #flush(): void {
    const node = this.#node
    if (!node || this.#stopped) return
    for (const out of node.take()) this.#output(out)
    const wake = node.nextWake()
    if (this.#timer && this.#timerAt <= wake) return
    this.#timer?.cancel()
    this.#timerAt = wake
    this.#timer = this.#o.clock.setTimeout(() => this.#tick(), Math.max(0, wake - this.#now()))
  }

  #tick(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    const node = this.#node
    if (!node || this.#stopped) return
    const now = this.#now()
    node.tick(now)
    if (this.#dirty && now - this.#lastSnapshotAt >= 1000) this.#writeSnapshot(false)
    this.#flush()
  }

  #output(out: NodeOutput): void {
    switch (out.kind) {
      case 'packet':
        this.#udp?.send(this.#seal(out.data), out.to.port, out.to.addr, (err) => {
          if (err) this.#counters.udp_send_errors++
        })
        return
      case 'tcp-ping':
        void this.#streamPing(out.to, out.node, out.seq)
        return
      case 'push-pull':
        void this.#pushPull(memberAddress(out.to), out.join)
        return
      case 'ping-complete':
        if (!this.#coords || !this.#node) return
        if (this.#coords.pingComplete(out.node, out.rttMs, out.payload)) this.#node.ackPayload = this.#coords.payload
        return
      case 'event': {
        if (out.member.name === this.#node?.name) return
        this.#dirty = true
        if (out.event === 'reap' || out.event === 'leave') this.#coords?.forget(out.member.name)
        const member = out.event === 'reap' ? { ...toMember(out.member), status: 'left' as const } : this.#view(out.member)
        if (out.event !== 'update') this.#o.log('info', `serf: EventMember${eventName(out.event)}: ${out.member.name} ${memberAddress(out.member)}`)
        for (const fn of this.#listeners) fn(member)
        return
      }
      case 'user':
        // Each member passes a user message on once, so it spreads to everyone as serf's events do.
        if (!this.#remember(out.data)) return
        this.#node?.broadcastUser(out.data)
        if (out.data[0] === USER_QUERY) this.#answerQuery(out.data)
        else this.#o.onUser?.(out.data)
        return
    }
  }

  /** One push-pull with `address`; undefined on success, else the reason. */
  async #pushPull(address: string, join: boolean): Promise<string | undefined> {
    const node = this.#node
    if (!node || this.#stopped) return `${address}: not gossiping`
    this.#counters.push_pulls_out++
    const body = this.#seal(encodeStreamMessage({ type: 'pushPull', body: node.localState(join) }))
    const r = await this.#o.rpc.call<unknown>(address, PUSH_PULL_METHOD, body, { timeoutMs: this.#o.config.tcpTimeoutMs })
    if (!r.ok) {
      this.#counters.push_pull_failures++
      return `${address}: ${r.error.message}`
    }
    const answer = r.value instanceof Uint8Array ? this.#open(r.value, address) : undefined
    if (!answer) {
      this.#counters.push_pull_failures++
      return `${address}: ${r.value instanceof Uint8Array ? `${NO_KEY} (the answer)` : 'a bad push-pull answer'}`
    }
    const decoded = decodeStreamMessage(answer)
    if (!decoded.ok || decoded.message.type !== 'pushPull') {
      this.#counters.bad_streams++
      return `${address}: a bad push-pull answer (${decoded.ok ? `a ${decoded.message.type}` : decoded.reason})`
    }
    if (this.#stopped) return undefined
    node.merge(decoded.message.body, this.#now())
    this.#flush()
    return undefined
  }

  #answerPushPull(body: unknown, from: string): Uint8Array {
    const node = this.#node
    if (!node || this.#stopped) throw { code: 'unavailable', message: 'not gossiping' }
    const plain = body instanceof Uint8Array ? this.#open(body, from, false) : undefined
    if (body instanceof Uint8Array && !plain) {
      this.#o.log('warn', `memberlist: refused a push-pull from ${from}: ${this.#o.keyring ? 'no installed key opens it (another encrypt key, or none)' : 'it is encrypted and this agent has no encrypt key'}`)
      throw { code: 'bad_request', message: NO_KEY }
    }
    const decoded = plain ? decodeStreamMessage(plain) : undefined
    if (!decoded?.ok || decoded.message.type !== 'pushPull') {
      this.#counters.bad_streams++
      throw { code: 'bad_request', message: 'a malformed push-pull message' }
    }
    this.#counters.push_pulls_in++
    node.merge(decoded.message.body, this.#now())
    this.#flush()
    return this.#seal(encodeStreamMessage({ type: 'pushPull', body: node.localState(false) }))
  }

  /** The TCP fallback probe: a ping over a stream, its ack fed back to the node. */
  async #streamPing(to: Address, name: string, seq: number): Promise<void> {
    this.#counters.stream_pings_out++
    const body = this.#seal(encodeStreamMessage({ type: 'ping', body: { seq, node: name } }))
    const r = await this.#o.rpc.call<unknown>(memberAddress(to), STREAM_PING_METHOD, body, { timeoutMs: this.#o.config.probeTimeoutMs * 2 })
    if (!r.ok || !(r.value instanceof Uint8Array) || !this.#node || this.#stopped) return
    const plain = this.#open(r.value, memberAddress(to))
    const decoded = plain ? decodeStreamMessage(plain) : undefined
    if (decoded?.ok && decoded.message.type === 'ack') {
      this.#node.ack(decoded.message.body.seq, this.#now())
      this.#flush()
    }
  }

  #answerPing(body: unknown, from: string): Uint8Array {
    const plain = body instanceof Uint8Array ? this.#open(body, from) : undefined
    if (body instanceof Uint8Array && !plain) throw { code: 'bad_request', message: NO_KEY }
    const decoded = plain ? decodeStreamMessage(plain) : undefined
    if (!decoded?.ok || decoded.message.type !== 'ping') {
      this.#counters.bad_streams++
      throw { code: 'bad_request', message: 'a malformed ping' }
    }
    // A ping for another member (an old address reused) is not ours to answer.
    if (!this.#node || this.#stopped || decoded.message.body.node !== this.#node.name) throw { code: 'not_found', message: 'not that member' }
    return this.#seal(encodeStreamMessage({ type: 'ack', body: { seq: decoded.message.body.seq } }))
  }

  /** Records a user message; false when it was seen before. */
  #remember(data: Uint8Array): boolean {
    const key = createHash('sha1').update(data).digest('base64')
    if (this.#seenUser.has(key)) return false
    this.#seenUser.add(key)
    if (this.#seenUser.size > SEEN_USER_MAX) this.#seenUser.delete(this.#seenUser.values().next().value!)
    return true
  }

  /** Another member's query: answered to it over RPC. */
  #answerQuery(data: Uint8Array): void {
    let q: { id?: unknown; from?: unknown; body?: unknown }
    try {
      q = decode(data.subarray(1)) as typeof q
    } catch {
      this.#counters.bad_streams++
      return
    }
    if (typeof q?.id !== 'string' || typeof q.from !== 'string' || !(q.body instanceof Uint8Array) || !this.#o.onQuery) return
    const answer = encode({ id: q.id, node: this.#o.self().name, body: this.#o.onQuery(q.body) })
    void this.#o.rpc.call(q.from, QUERY_RESPONSE_METHOD, this.#seal(answer), { timeoutMs: this.#o.config.tcpTimeoutMs })
  }

  #queryResponse(body: unknown, from: string): true {
    const plain = body instanceof Uint8Array ? this.#open(body, from) : undefined
    let r: { id?: unknown; node?: unknown; body?: unknown } | undefined
    try {
      r = plain ? (decode(plain) as typeof r) : undefined
    } catch {
      r = undefined
    }
    if (typeof r?.id !== 'string' || typeof r.node !== 'string' || !(r.body instanceof Uint8Array)) {
      this.#counters.bad_streams++
      throw { code: 'bad_request', message: 'a malformed query response' }
    }
    const pending = this.#queries.get(r.id)
    if (pending && !pending.responses.some((x) => x.node === r.node)) {
      pending.responses.push({ node: r.node, body: r.body })
      pending.done()
    }
    return true
  }

  /** A message as it leaves: sealed with the primary key when encrypting (and encrypt_verify_outgoing). */
  #seal(plain: Uint8Array): Uint8Array {
    const ring = this.#o.keyring
    return ring && this.#o.verifyOutgoing !== false ? ring.seal(plain) : plain
  }

  /**
   * A message as it arrives, opened; undefined (counted, and logged at most once a minute) when
   * no installed key opens it, when it is sealed and this member has no key, or when it is plain
   * and encrypt_verify_incoming wants every message sealed.
   */
  #open(data: Uint8Array, from: string, warn = true): Uint8Array | undefined {
    const ring = this.#o.keyring
    const sealed = data[0] === SEALED
    if (ring) {
      const opened = sealed ? ring.open(data) : undefined
      if (opened) return opened
      if (!sealed && this.#o.verifyIncoming === false) return data
    } else if (!sealed) return data
    this.#counters.bad_key++
    const now = this.#now()
    if (warn && now - this.#lastKeyWarning >= 60_000) {
      this.#lastKeyWarning = now
      this.#o.log('warn', `memberlist: dropped a message from ${from}: ${!ring ? 'it is encrypted and this agent has no encrypt key' : sealed ? 'no installed key opens it' : 'it is not encrypted (encrypt_verify_incoming)'}`)
    }
    return undefined
  }

  #readSnapshot(): Snapshot | undefined {
    if (!this.#o.snapshotFile) return undefined
    try {
      const s = JSON.parse(readFileSync(this.#o.snapshotFile, 'utf8')) as Partial<Snapshot>
      const members = Array.isArray(s.members) ? s.members.filter((m) => typeof m?.addr === 'string' && Number.isInteger(m.port)) : []
      return { left: s.left === true, members }
    } catch {
      return undefined
    }
  }

  #writeSnapshot(left: boolean): void {
    const file = this.#o.snapshotFile
    this.#dirty = false
    this.#lastSnapshotAt = this.#now()
    if (!file) return
    try {
      mkdirSync(dirname(file), { recursive: true })
      // Failed members too: after a whole-cluster restart they are who to try.
      const members = this.list().slice(1).filter((m) => m.status !== 'left').map(({ name, addr, port }) => ({ name, addr, port }))
      const snap: Snapshot = { left, members }
      writeFileSync(`${file}.tmp`, JSON.stringify(snap))
      renameSync(`${file}.tmp`, file)
    } catch (err) {
      this.#o.log('warn', `serf: cannot write ${file}: ${(err as Error).message}`)
    }
  }
}

function toMember(m: MemberRecord): Member {
  return { name: m.name, addr: m.addr, port: m.port, tags: { ...m.meta }, status: STATUS[m.state] }
}

const EVENT_NAMES = { join: 'Join', update: 'Update', leave: 'Leave', failed: 'Failed', reap: 'Reap' } as const
const eventName = (e: keyof typeof EVENT_NAMES): string => EVENT_NAMES[e]
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** `host` or `host:port` (IPv6 in brackets) as `host:port`. */
export function withPort(address: string, defaultPort: number): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address
  if (/^\[.*\]$/.test(address)) return `${address}:${defaultPort}`
  if (address.includes(':')) return `[${address}]:${defaultPort}`
  return `${address}:${defaultPort}`
}
