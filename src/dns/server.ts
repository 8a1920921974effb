/**
 * The DNS listeners: UDP and TCP on each DNS address, sharing one port number. This file only
 * moves bytes: `DnsHandler.answer` decodes, forwards out-of-domain names to the recursors, and
 * otherwise hands the packet to the router. Whatever arrives (truncated packets, pointer loops,
 * no question, responses, garbage), the answer is FORMERR/NOTIMP/REFUSED or silence, never a
 * crash; a bug in the router turns into SERVFAIL for that one query.
 */
import type { Metrics } from '../lib/metrics.js'
import dgram from 'node:dgram'
import net from 'node:net'
import dnsPacket, { type Packet } from 'dns-packet'
import type { DnsConfig } from '../agent/config.js'
import { decodeQuery, type DnsRouter } from './router.js'
import { Recursor } from './recursor.js'
import { isPtrQuery, wireQuestionKey } from './fast-path.js'
import type { WorkerTimings } from './udp-workers.js'
import { DNS_LIMITS } from './limits.js'

type Timing = ReturnType<Metrics['timer']>
type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void

const HEADER_BYTES = 12
const QR_BIT = 0x80
const RCODE_FORMERR = 1
const RCODE_SERVFAIL = 2
/** Opcode and RD from the query's second header byte, to echo in error answers. */
const OPCODE_RD_MASK = 0x79

/** Query bytes in, answer bytes out: everything but the sockets. */
export class DnsHandler {
  readonly #recursor = new Recursor()

  readonly router: DnsRouter
  readonly config: () => DnsConfig
  readonly log: Log

  readonly #metrics: Metrics | undefined
  readonly #nodeName: () => string
  #timers: { node: string; domain: Timing; ptr: Timing } | undefined

  constructor(opts: { router: DnsRouter; config: () => DnsConfig; log?: Log; metrics?: Metrics; nodeName?: () => string }) {
    this.router = opts.router
    this.config = opts.config
    this.log = opts.log ?? (() => undefined)
    this.#metrics = opts.metrics
    this.#nodeName = opts.nodeName ?? (() => '')
  }

  /** The wire answer to one wire query, or undefined when the message deserves no answer. */
  async answer(buf: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const start = this.started()
    const now = this.answerNow(buf, transport)
    const answer = now === FORWARD ? await this.forward(buf, transport) : now
    this.answered(buf, answer, start)
    return answer
  }

  /** A reading of the metrics clock for `answered` (0 without metrics). */
  started(): number {
    return this.#metrics ? this.#metrics.clock.now() : 0
  }

  /** Consul's timings: a PTR lookup, or any other question (answered here or by the recursors). */
  answered(query: Buffer, answer: Buffer | undefined, start: number): void {
    const m = this.#metrics
    if (!m || !answer) return
    const t = this.#timersOf(m)
    ;(isPtrQuery(query) ? t.ptr : t.domain).since(start)
  }

  /** The two timers, labelled with the node name (which a reload may change). */
  #timersOf(m: Metrics): { node: string; domain: Timing; ptr: Timing } {
    const node = this.#nodeName()
    if (this.#timers?.node !== node) this.#timers = { node, domain: m.timer('dns.domain_query', { node }), ptr: m.timer('dns.ptr_query', { node }) }
    return this.#timers
  }

  /** Timings of answers given in the UDP worker processes, folded into the same series. */
  mergeTimings(t: WorkerTimings): void {
    const m = this.#metrics
    if (!m) return
    const timers = this.#timersOf(m)
    if (t.domain) timers.domain.merge(t.domain)
    if (t.ptr) timers.ptr.merge(t.ptr)
  }

  /**
   * The answer when it needs no waiting (everything but recursion), so the UDP path answers
   * without a promise per packet; FORWARD when the query must go to the recursors.
   */
  answerNow(buf: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined | typeof FORWARD {
    // Too short to carry an ID we could answer to, or itself a response (answering would let
    // two servers bounce messages forever): drop.
    if (buf.length < HEADER_BYTES || (buf[2]! & QR_BIT) !== 0) return undefined
    try {
      // A question answered whole since the last catalog change: no decoding (fast-path.ts).
      const wireKey = wireQuestionKey(buf, transport)
      const cached = wireKey === undefined ? undefined : this.router.answerCached(wireKey, buf.readUInt16BE(0))
      if (cached) return cached
      const query = decodeQuery(buf)
      if (!query) return headerOnly(buf, RCODE_FORMERR)
      const q = query.questions?.[0]
      const cfg = this.config()
      const opcode = ((query.flags ?? 0) >> 11) & 0xf
      if (q && opcode === 0 && cfg.recursors.length > 0 && typeof q.name === 'string' && this.router.domainOf(q.name) === undefined) return FORWARD
      return this.router.answer(query, { transport, wireKey })
    } catch (err) {
      this.log('error', `dns: failed to answer a query: ${(err as Error).message}`)
      return headerOnly(buf, RCODE_SERVFAIL)
    }
  }

  /** Sends a query to the recursors; SERVFAIL when none answered. */
  async forward(buf: Buffer, transport: 'udp' | 'tcp' = 'udp'): Promise<Buffer> {
    const cfg = this.config()
    const upstream = await this.#recursor.forward(buf, { recursors: cfg.recursors, timeoutMs: cfg.recursorTimeoutMs, strategy: cfg.recursorStrategy, transport })
    if (upstream) return upstream
    this.log('debug', 'dns: no recursor answered')
    return headerOnly(buf, RCODE_SERVFAIL, true)
  }
}

/** dgram's `lookup` for addresses that are already IP literals (the `rinfo.address` of a query). */
function literalLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, net.isIP(address) || 4)
}

/** `answerNow`'s word for "this one goes to the recursors". */
export const FORWARD = Symbol('forward')

/** An answer with no records, echoing the query's ID (and question when it decodes). */
function headerOnly(query: Buffer, rcode: number, recursionAvailable = false): Buffer {
  const packet: Packet = {
    id: query.readUInt16BE(0),
    type: 'response',
    flags: ((query[2]! & OPCODE_RD_MASK) << 8) | (recursionAvailable ? dnsPacket.RECURSION_AVAILABLE : 0) | rcode,
    questions: [],
  }
  return dnsPacket.encode(packet)
}

export interface DnsListener {
  address: string
  port: number
}

/** The UDP and TCP sockets of the DNS interface. */
export class DnsServer {
  readonly listeners: DnsListener[] = []
  readonly #udp: dgram.Socket[] = []
  readonly #tcp: net.Server[] = []
  readonly #conns = new Set<net.Socket>()

  private constructor(readonly handler: DnsHandler) {}

  /**
   * Listens on every address at `port` (0: one ephemeral port, the same for UDP and TCP and
   * for every address: UDP is bound first, then TCP on the port it got).
   */
  static async start(handler: DnsHandler, opts: { addresses: readonly string[]; port: number }): Promise<DnsServer> {
    const server = new DnsServer(handler)
    try {
      let port = opts.port
      for (const address of opts.addresses) port = await server.#bindPair(address, port)
    } catch (err) {
      await server.close()
      throw err
    }
    return server
  }

  async #bindPair(address: string, port: number): Promise<number> {
    const attempts = port === 0 ? DNS_LIMITS.bindAttempts : 1
    let lastErr: unknown
    for (let i = 0; i < attempts; i++) {
      const udp = await this.#bindUdp(address, port)
      const bound = udp.address().port
      try {
        const tcp = await this.#listenTcp(address, bound)
        this.#udp.push(udp)
        this.#tcp.push(tcp)
        this.listeners.push({ address, port: bound })
        return bound
      } catch (err) {
        // The ephemeral UDP port is taken on TCP by someone else: try another.
        lastErr = err
        udp.close()
      }
    }
    throw lastErr
  }

  #bindUdp(address: string, port: number): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      // Replies go to the sender's IP literal: a lookup that answers at once spares every
      // send the default dns.lookup round through the next tick.
      const socket = dgram.createSocket({ type: net.isIP(address) === 6 ? 'udp6' : 'udp4', lookup: literalLookup })
      socket.once('error', reject)
      socket.bind(port, address, () => {
        socket.off('error', reject)
        socket.on('error', (err) => this.handler.log('warn', `dns: udp socket error: ${err.message}`))
        socket.on('message', (msg, rinfo) => this.#answerOn(socket, msg, rinfo.port, rinfo.address))
        resolve(socket)
      })
    })
  }

  /** The UDP sockets, by listener (UDP workers receive on the same ones). */
  get udpSockets(): readonly dgram.Socket[] {
    return this.#udp
  }

  /** Answers a datagram a UDP worker relayed from listener `listener`. */
  answerRelayed(listener: number, msg: Buffer, port: number, address: string): void {
    const socket = this.#udp[listener]
    if (socket) this.#answerOn(socket, msg, port, address)
  }

  #answerOn(socket: dgram.Socket, msg: Buffer, port: number, address: string): void {
    const start = this.handler.started()
    const send = (out: Buffer | undefined): void => {
      this.handler.answered(msg, out, start)
      // No callback: Node then tries a synchronous send (uv_udp_try_send) instead of queueing a
      // request and a completion callback per answer. A failed send surfaces on the socket's
      // 'error' listener (logged).
      if (out) socket.send(out, port, address)
    }
    const now = this.handler.answerNow(msg, 'udp')
    if (now === FORWARD) void this.handler.forward(msg).then(send)
    else send(now)
  }

  #listenTcp(address: string, port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((conn) => this.#onConnection(conn))
      server.once('error', reject)
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', reject)
        server.on('error', (err) => this.handler.log('warn', `dns: tcp listener error: ${err.message}`))
        resolve(server)
      })
    })
  }

  /** RFC 1035 4.2.2 framing: a 16-bit length before each message; pipelined answers in order. */
  #onConnection(conn: net.Socket): void {
    if (this.#conns.size >= DNS_LIMITS.tcpMaxConnections) {
      conn.destroy()
      return
    }
    this.#conns.add(conn)
    conn.on('close', () => this.#conns.delete(conn))
    conn.on('error', () => conn.destroy())
    conn.setTimeout(DNS_LIMITS.tcpIdleMs, () => conn.destroy())
    conn.setNoDelay(true)
    let buffered: Buffer = Buffer.alloc(0)
    let pending = 0
    let tail: Promise<void> = Promise.resolve()
    conn.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0)
        // A message shorter than a header cannot be answered, and the stream has lost its framing.
        if (len < HEADER_BYTES) {
          conn.destroy()
          return
        }
        if (buffered.length < 2 + len) break // wait for the rest; the idle timeout bounds the wait
        const msg = buffered.subarray(2, 2 + len)
        buffered = buffered.subarray(2 + len)
        if (++pending > DNS_LIMITS.tcpMaxPending) {
          conn.destroy()
          return
        }
        const answered = this.handler.answer(Buffer.from(msg), 'tcp')
        tail = tail.then(async () => {
          const out = await answered
          pending--
          if (!out || conn.destroyed) return
          // A client that pipelines but never reads must not make us hold its answers forever.
          if (conn.writableLength > DNS_LIMITS.tcpMaxQueuedBytes) {
            conn.destroy()
            return
          }
          const frame = Buffer.allocUnsafe(2 + out.length)
          frame.writeUInt16BE(out.length, 0)
          out.copy(frame, 2)
          conn.write(frame)
        })
      }
    })
  }

  /** Closes every socket and connection. Idempotent. */
  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy()
    this.#conns.clear()
    const udp = this.#udp.splice(0)
    const tcp = this.#tcp.splice(0)
    await Promise.all([
      ...udp.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ...tcp.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ])
  }
}
