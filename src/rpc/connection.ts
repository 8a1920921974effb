/**
 * One TCP connection of the server RPC, either end: the handshake, the cutting of frames, bounded
 * writes, and the refusal of anything that is not our protocol (one log line and one count per
 * connection, then it is closed). What the frames mean beyond the handshake is the server's business.
 */
import type { Socket } from 'node:net'
import type { Clock, Timer } from '../lib/clock.js'
import { FrameReader, encodePreamble, type Hello, type OneWay, type Request, type Response, type WireCodec } from './frame.js'
import type { RpcLimits } from './limits.js'
import { TLSSocket } from 'node:tls'
import { tlsErrorText, type RpcTls } from './tls.js'

/** Why a connection was refused; each has a counter (`refused_<reason>`). */
export type RefusalReason = 'garbage' | 'truncated' | 'oversized' | 'malformed' | 'version' | 'datacenter' | 'cluster' | 'timeout' | 'by_peer' | 'tls'

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly codec: WireCodec
  readonly clock: Clock
  readonly limits: RpcLimits
  /** Peers of other datacenters are let in (the WAN), whatever cluster they belong to. */
  readonly anyDatacenter?: boolean
  /** TLS, when the server has it: server names are checked at the hello. */
  readonly tls?: RpcTls
  /** This server's hello: what a peer must match. */
  readonly local: Hello
  /** Logs one line and counts one refusal. */
  refused(reason: RefusalReason, line: string): void
}

export interface ConnectionEvents {
  /** Both hellos agree: frames may flow. */
  onReady(conn: Connection): void
  onMessage(conn: Connection, m: Request | Response | OneWay): void
  /** Called once, whatever closed it. */
  onClose(conn: Connection): void
}

/** How long a refused connection is kept for its refusal to be read before it is destroyed. */
const REFUSAL_LINGER_MS = 1_000

/**
 * Tells an inbound peer why it is refused (a Refuse frame, its first answer: the dialer logs it),
 * then ends the socket, lingering a moment so the frame is read before the socket goes.
 */
export function sendRefusal(socket: Socket, ctx: Pick<ConnectionContext, 'codec' | 'clock'>, reason: RefusalReason, detail: string): Timer {
  try {
    socket.end(ctx.codec.encode({ kind: 'refuse', error: { code: reason, message: detail } }))
  } catch {
    socket.destroy()
  }
  socket.resume()
  return ctx.clock.setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS)
}

export class Connection {
  readonly role: 'dial' | 'accept'
  /** `ip:port` of the other end, for logs. */
  readonly remote: string
  /** The peer's hello, once the handshake is done. */
  peer: Hello | undefined
  state: 'handshake' | 'ready' | 'closed' = 'handshake'
  /** The TCP connection was established (a dial that never got this far is a dial failure). */
  connected = false
  /** Why the socket failed, if it did (ECONNREFUSED...). */
  lastError: string | undefined
  /** Requests from the peer being handled (counted by the server). */
  inflight = 0
  /**
   * Inbound, under verify_incoming and verify_server_hostname: why the peer is not shown to be a
   * server of this datacenter (it may call all but the servers-only methods); undefined when it is.
   */
  notServer: string | undefined
  notServerLogged = false
  readonly #socket: Socket
  readonly #ctx: ConnectionContext
  readonly #events: ConnectionEvents
  readonly #reader: FrameReader
  #timer: Timer | undefined
  /** A refusal was logged: nothing more is said about this connection. */
  #refused = false
  #closeNotified = false
  #corked = false

  constructor(socket: Socket, opts: { role: 'dial' | 'accept'; remote: string; ctx: ConnectionContext; events: ConnectionEvents }) {
    this.#socket = socket
    this.role = opts.role
    this.remote = opts.remote
    this.#ctx = opts.ctx
    this.#events = opts.events
    this.#reader = new FrameReader({ preamble: opts.role === 'accept', maxFrameBytes: opts.ctx.limits.maxFrameBytes })
    this.connected = opts.role === 'accept'
    socket.setNoDelay(true)
    // Finds a peer that vanished without a FIN (a cut network) while raft keeps writing to it.
    socket.setKeepAlive(true, 10_000)
    socket.on('connect', () => (this.connected = true))
    socket.on('data', (chunk: Buffer) => this.#data(chunk))
    socket.on('error', (err) => (this.lastError = socket instanceof TLSSocket ? tlsErrorText(err) : ((err as NodeJS.ErrnoException).code ?? err.message)))
    socket.on('close', () => this.#closed())
    this.#timer = opts.ctx.clock.setTimeout(() => this.#handshakeTimeout(), opts.ctx.limits.handshakeTimeoutMs)
    if (this.role === 'dial') {
      socket.write(encodePreamble())
      socket.write(opts.ctx.codec.encode(opts.ctx.local))
    }
  }

  /** Bytes written and not yet taken by the kernel. */
  get bufferedBytes(): number {
    return this.#socket.writableLength
  }

  /**
   * Writes one whole frame unless the connection is not ready or its buffer is full (a frame is always
   * taken by an empty buffer, however large). Returns whether it was taken.
   */
  write(frame: Uint8Array): boolean {
    if (this.state !== 'ready' || this.#socket.destroyed) return false
    const queued = this.#socket.writableLength
    if (queued > 0 && queued + frame.byteLength > this.#ctx.limits.maxPeerBufferBytes) return false
    // The frames of one turn (a Ready's messages, a burst of answers) leave in one writev.
    if (!this.#corked) {
      this.#corked = true
      this.#socket.cork()
      process.nextTick(() => {
        this.#corked = false
        this.#socket.uncork()
      })
    }
    this.#socket.write(frame)
    return true
  }

  close(): void {
    this.state = 'closed'
    this.#socket.destroy()
  }

  #data(chunk: Buffer): void {
    if (this.state === 'closed') return
    for (const e of this.#reader.push(chunk)) {
      // A handler may have closed the connection while an earlier frame of this chunk was handled.
      if (this.#socket.destroyed || (this.state as Connection['state']) === 'closed') return
      if (e.type === 'error') return this.#refuse(e.reason, e.detail)
      if (e.type === 'preamble') {
        if (e.version !== this.#ctx.local.version) return this.#refuse('version', `an unknown protocol version ${e.version} (this server speaks ${this.#ctx.local.version})`)
        continue
      }
      const m = this.#ctx.codec.decode(e.kind, e.body)
      if (typeof m === 'string') return this.#refuse('malformed', m)
      if (this.state === 'handshake') {
        if (m.kind === 'refuse' && this.role === 'dial') return this.#refuse('by_peer', `${m.error.code}: ${m.error.message}`)
        if (m.kind !== 'hello') return this.#refuse('malformed', `a ${m.kind} frame before the handshake`)
        this.#hello(m)
        continue
      }
      if (m.kind === 'hello' || m.kind === 'refuse') return this.#refuse('malformed', `a ${m.kind} frame after the handshake`)
      this.#events.onMessage(this, m)
    }
  }

  #hello(h: Hello): void {
    const local = this.#ctx.local
    if (h.version !== local.version) return this.#refuse('version', `an unknown protocol version ${h.version} (this server speaks ${local.version})`)
    if (!this.#ctx.anyDatacenter && h.datacenter !== local.datacenter) return this.#refuse('datacenter', `server ${h.id} is in datacenter "${h.datacenter}", not "${local.datacenter}"`)
    // A server that has not joined any cluster yet ("" as its identity) may join this one.
    if (!this.#ctx.anyDatacenter && h.cluster !== '' && local.cluster !== '' && h.cluster !== local.cluster) return this.#refuse('cluster', `server ${h.id} belongs to cluster "${h.cluster}", not "${local.cluster}"`)
    const tls = this.#ctx.tls
    if (tls?.checksServerNames) {
      const problem = tls.serverNameProblem(this.#socket, h.datacenter)
      // A dialer only ever calls servers; an inbound peer may be a client agent, kept from the servers-only methods.
      if (problem && this.role === 'dial') return this.#refuse('tls', `server ${h.id}: ${problem}`)
      if (problem && tls.verifyIncoming) this.notServer = problem
    }
    this.peer = h
    this.state = 'ready'
    this.#timer?.cancel()
    this.#timer = undefined
    if (this.role === 'accept') this.#socket.write(this.#ctx.codec.encode(local))
    this.#events.onReady(this)
  }

  #handshakeTimeout(): void {
    this.#timer = undefined
    if (this.state !== 'handshake') return
    // A dial that never connected is a dial failure, not a refusal.
    if (!this.connected) {
      this.lastError ??= 'connect timeout'
      this.close()
      return
    }
    this.#refuse('timeout', `no handshake within ${this.#ctx.limits.handshakeTimeoutMs} ms`)
  }

  /**
   * Logs and counts once, then closes. The acceptor tells the dialer why (a Refuse frame, as its
   * first answer), and lingers a moment so the dialer can read it before the socket goes.
   */
  #refuse(reason: RefusalReason, detail: string): void {
    if (this.role === 'dial') this.lastError = `${reason === 'by_peer' ? 'refused' : reason}: ${detail}`
    if (!this.#refused) {
      this.#refused = true
      const who = this.peer ? `${this.peer.id} at ${this.remote}` : this.remote
      this.#ctx.refused(reason, reason === 'by_peer' ? `rpc: ${who} refused this server: ${detail}` : `rpc: refused ${this.role === 'accept' ? 'a connection from' : 'the server at'} ${who}: ${reason}: ${detail}`)
    }
    this.#timer?.cancel()
    this.#timer = undefined
    const wasReady = this.state === 'ready'
    this.state = 'closed'
    if (this.role === 'accept' && !wasReady && reason !== 'truncated') {
      this.#timer = sendRefusal(this.#socket, this.#ctx, reason, detail)
      return
    }
    this.#socket.destroy()
  }

  #closed(): void {
    this.#timer?.cancel()
    this.#timer = undefined
    // Bytes of a frame that never completed: a peer cut off mid-frame (empty probes say nothing).
    if (this.#reader.buffered > 0 && !this.#refused && this.state !== 'closed') this.#refuse('truncated', `the connection ended inside a frame (${this.#reader.buffered} bytes)`)
    this.state = 'closed'
    if (this.#closeNotified) return
    this.#closeNotified = true
    this.#events.onClose(this)
  }
}
