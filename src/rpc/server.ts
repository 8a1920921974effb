/**
 * Server RPC (Consul's port 8300): one instance per server, listening for peers and calling them.
 * Requests and one-way messages are multiplexed over one outbound connection per peer address;
 * answers come back on the connection a request arrived on. Handlers are registered by method name
 * ('Raft.Message', 'KVS.Apply'). Failures are values ({code, message}); nothing here throws at a
 * caller, and no bad input from the network reaches the process as an exception.
 *
 * The sockets and the clock are this module's I/O edge: `connect` and `clock` are injected, and all
 * state lives in the instance, so several servers can run in one process.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { systemClock, type Clock } from '../lib/clock.js'
import { mulberry32 } from '../lib/prng.js'
import { Connection, sendRefusal, type ConnectionContext, type ConnectionEvents, type RefusalReason } from './connection.js'
import { RPC_PROTOCOL_VERSION, WireCodec, parseAddress, type Hello, type OneWay, type Request, type RpcError } from './frame.js'
import { RPC_LIMITS, type RpcLimits } from './limits.js'
import { RpcTls, tlsErrorText } from './tls.js'
import { Peer, RpcCode, type RpcResult } from './peer.js'

export { RpcCode, type RpcResult } from './peer.js'
export type { RpcError } from './frame.js'

export interface RpcServerOptions {
  /** This server's id (its raft id / node id), told to every peer in the handshake. */
  id: string
  datacenter: string
  /** The cluster identity every server of one cluster shares ("" before it has one); read at each handshake. */
  cluster: string | (() => string)
  clock?: Clock
  /** Uniform in [0, 1): reconnect jitter. */
  random?: () => number
  log?: (level: 'info' | 'warn' | 'error', message: string) => void
  limits?: Partial<RpcLimits>
  /** The WAN: peers of any datacenter (and so of any cluster) are let in. */
  anyDatacenter?: boolean
  /** Opens a socket to a peer (tests, a bind address); `net.createConnection` by default. */
  connect?: (host: string, port: number) => Socket
  /** TLS (tls.internal_rpc): inbound TLS is taken when set, plaintext refused under verify_incoming, dials are TLS under verify_outgoing. */
  tls?: RpcTls
}

export interface HandlerOptions {
  /** Only servers may call it (raft, a forwarded write): under verify_server_hostname the caller's certificate must say so. */
  serversOnly?: boolean
}

/** What a handler learns of the request besides its body. */
export interface RpcContext {
  /** The calling server's id, from its handshake. */
  from: string
  /** `ip:port` of the calling socket. */
  remoteAddress: string
  /** The caller's deadline on this server's clock (the caller's remaining time, counted from arrival). */
  deadline: number
}

/**
 * Answers a request (its value, or a promise of it) or takes a one-way message (the value is
 * ignored). To fail a request, throw an {code, message} value (RpcError); anything else thrown is
 * answered as code 'internal'.
 */
export type RpcHandler = (body: unknown, ctx: RpcContext) => unknown

const COUNTERS = [
  'connections_accepted', 'connections_dialed', 'idle_closed', 'handshakes', 'inbound_rejected', 'dial_failures',
  'refused_garbage', 'refused_truncated', 'refused_oversized', 'refused_malformed', 'refused_version',
  'refused_datacenter', 'refused_cluster', 'refused_timeout', 'refused_by_peer',
  'requests_in', 'requests_out', 'oneway_in', 'oneway_out', 'call_timeouts', 'call_failures',
  'late_responses', 'unexpected_responses', 'handler_errors', 'unknown_method', 'dropped', 'refused_tls', 'not_server',
] as const

export class RpcServer {
  readonly id: string
  readonly #clock: Clock
  readonly #log: NonNullable<RpcServerOptions['log']>
  readonly #limits: RpcLimits
  readonly #connect: (host: string, port: number) => Socket
  readonly #random: () => number
  readonly #codec: WireCodec
  readonly #ctx: ConnectionContext
  readonly #handlers = new Map<string, RpcHandler>()
  readonly #serversOnly = new Set<string>()
  readonly #tls: RpcTls | undefined
  readonly #tlsAccept: ((raw: Socket) => void) | undefined
  /** Raw inbound sockets of a TLS listener until they close: being told apart, in a handshake, or under a TLS connection. */
  readonly #pending = new Set<Socket>()
  readonly #peers = new Map<string, Peer>()
  readonly #inbound = new Set<Connection>()
  readonly #counters: Record<string, number> = Object.fromEntries(COUNTERS.map((k) => [k, 0]))
  #server: Server | undefined
  #closed = false

  constructor(opts: RpcServerOptions) {
    this.id = opts.id
    this.#clock = opts.clock ?? systemClock
    this.#log = opts.log ?? (() => {})
    this.#limits = { ...RPC_LIMITS, ...opts.limits }
    this.#connect = opts.connect ?? ((host, port) => createConnection({ host, port }))
    this.#random = opts.random ?? mulberry32(hashString(opts.id))
    this.#tls = opts.tls
    this.#tlsAccept = opts.tls?.acceptor({
      handshakeTimeoutMs: this.#limits.handshakeTimeoutMs,
      secure: (socket) => this.#secured(socket),
      failed: (err, socket) => {
        this.#ctx.refused('tls', `rpc: refused a connection from ${remoteOf(socket)}: ${tlsErrorText(err)}`)
        socket.destroy()
      },
    })
    this.#codec = new WireCodec({ maxFrameBytes: this.#limits.maxFrameBytes, maxNameLength: this.#limits.maxNameLength })
    const cluster = opts.cluster
    const hello = (): Hello => ({ kind: 'hello', version: RPC_PROTOCOL_VERSION, datacenter: opts.datacenter, cluster: typeof cluster === 'string' ? cluster : cluster(), id: opts.id })
    this.#ctx = {
      codec: this.#codec,
      clock: this.#clock,
      limits: this.#limits,
      anyDatacenter: opts.anyDatacenter === true,
      tls: opts.tls,
      get local() {
        return hello()
      },
      refused: (reason: RefusalReason, line: string) => {
        this.#counters[`refused_${reason}`]!++
        this.#log('warn', line)
      },
    }
  }

  /** Registers the handler of a method (replacing any before it). */
  handle(method: string, handler: RpcHandler, opts: HandlerOptions = {}): void {
    this.#handlers.set(method, handler)
    if (opts.serversOnly) this.#serversOnly.add(method)
    else this.#serversOnly.delete(method)
  }

  /**
   * Starts accepting peers on `host:port` (port 0: any free port). Resolves with the bound address;
   * rejects when it cannot listen (the one error this class lets out: the caller must not start).
   */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.#server) return Promise.reject(new Error('rpc: already listening'))
    const server = createServer((socket) => this.#accept(socket))
    server.maxConnections = this.#limits.maxInboundConnections
    server.on('drop', () => this.#counters.inbound_rejected!++)
    this.#server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        server.on('error', (err) => this.#log('error', `rpc: listener: ${err.message}`))
        const a = server.address() as AddressInfo
        resolve({ host: a.address, port: a.port })
      })
    })
  }

  /** `ip:port` the listener is bound to, or "" before `listen`. */
  address(): string {
    const a = this.#server?.address()
    if (!a || typeof a === 'string') return ''
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
  }

  /**
   * Calls `method` on the server at `address` (`ip:port`) and resolves with its answer or a failure
   * value (RpcCode); never rejects. `timeoutMs` is the deadline, told to the handler too.
   */
  call<T = unknown>(address: string, method: string, body: unknown, opts: { timeoutMs?: number } = {}): Promise<RpcResult<T>> {
    const timeoutMs = Math.max(0, opts.timeoutMs ?? this.#limits.defaultCallTimeoutMs)
    return this.#peer(address).call(method, body, timeoutMs) as Promise<RpcResult<T>>
  }

  /** Sends a one-way message; false when it was dropped (counted: unreachable, buffer full, too large). */
  send(address: string, method: string, body: unknown): boolean {
    let frame: Uint8Array
    try {
      frame = this.#codec.encode({ kind: 'oneway', method, body })
    } catch (err) {
      this.#counters.dropped!++
      this.#log('error', `rpc: cannot encode a ${method} message: ${(err as Error).message}`)
      return false
    }
    if (frame.byteLength > this.#limits.maxFrameBytes) {
      this.#counters.dropped!++
      this.#log('error', `rpc: a ${method} message of ${frame.byteLength} bytes is over the frame limit`)
      return false
    }
    this.#counters.oneway_out!++
    return this.#peer(address).send(frame)
  }

  /** A call to `address` dials at once even if it is backing off after failed dials (joins keep their own interval). */
  retryNow(address: string): void {
    this.#peers.get(address)?.retryNow()
  }

  /** Drops the connection to an address no longer used (a server that left). */
  forget(address: string): void {
    this.#peers.get(address)?.close()
    this.#peers.delete(address)
  }

  /** Counters since start, and gauges: open connections, known peers, calls in flight. */
  stats(): Record<string, number> {
    const peers = [...this.#peers.values()]
    return {
      ...this.#counters,
      connections_inbound: this.#inbound.size,
      connections_outbound: peers.filter((p) => p.state === 'ready' || p.state === 'connecting').length,
      peers: peers.length,
      calls_pending: peers.reduce((n, p) => n + p.pendingCalls, 0),
    }
  }

  /** Per peer address: connection state, drops, calls in flight. */
  peerStats(): Array<{ address: string; state: Peer['state']; dropped: number; pendingCalls: number }> {
    return [...this.#peers.values()].map((p) => ({ address: p.address, state: p.state, dropped: p.dropped, pendingCalls: p.pendingCalls }))
  }

  /** Stops listening, closes every connection and fails every call in flight with 'shutdown'. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const p of this.#peers.values()) p.close()
    for (const c of this.#inbound) c.close()
    this.#inbound.clear()
    for (const s of this.#pending) s.destroy()
    this.#pending.clear()
    const server = this.#server
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  #peer(address: string): Peer {
    let p = this.#peers.get(address)
    if (!p) {
      p = new Peer(address, {
        clock: this.#clock,
        random: this.#random,
        limits: this.#limits,
        codec: this.#codec,
        counters: this.#counters,
        log: (level, m) => this.#log(level, m),
        dial: (peer) => this.#dial(peer),
      })
      if (this.#closed) p.close()
      else this.#peers.set(address, p)
    }
    return p
  }

  #dial(peer: Peer): Connection | undefined {
    const target = parseAddress(peer.address)
    if (!target) return undefined
    let socket: Socket
    try {
      socket = this.#connect(target.host, target.port)
      if (this.#tls?.verifyOutgoing) socket = this.#tls.dial(socket, this.#ctx.local.datacenter)
    } catch (err) {
      this.#log('warn', `rpc: cannot dial ${peer.address}: ${(err as Error).message}`)
      return undefined
    }
    const events: ConnectionEvents = {
      onReady: (c) => {
        this.#counters.handshakes!++
        peer.ready(c)
      },
      onMessage: (c, m) => (m.kind === 'response' ? peer.response(m) : this.#dispatch(c, m)),
      onClose: (c) => peer.closed(c),
    }
    return new Connection(socket, { role: 'dial', remote: peer.address, ctx: this.#ctx, events })
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy()
      return
    }
    this.#counters.connections_accepted!++
    const remote = remoteOf(socket)
    const tls = this.#tls
    if (!tls) return this.#open(socket, remote)
    // TLS or not is told by the first byte, read here and put back for whoever reads next.
    // Until it closes, close() finds it here (a TLS connection's Connection holds the TLS socket, not this one).
    this.#pending.add(socket)
    socket.once('close', () => this.#pending.delete(socket))
    socket.on('error', () => {})
    const timer = this.#clock.setTimeout(() => {
      socket.destroy()
      this.#ctx.refused('timeout', `rpc: refused a connection from ${remote}: timeout: nothing sent within ${this.#limits.handshakeTimeoutMs} ms`)
    }, this.#limits.handshakeTimeoutMs)
    socket.once('close', () => timer.cancel())
    socket.once('data', (first: Buffer) => {
      timer.cancel()
      socket.pause()
      socket.unshift(first)
      if (this.#closed) return socket.destroy()
      if (RpcTls.startsTls(first)) return this.#tlsAccept!(socket)
      socket.resume()
      if (!tls.verifyIncoming) return this.#open(socket, remote)
      this.#refuseTls(socket, remote, 'a plaintext connection, and verify_incoming wants TLS with a certificate signed by the CA')
    })
  }

  /** An inbound TLS connection, its handshake done: in, or refused with the reason told to the dialer. */
  #secured(socket: TLSSocket): void {
    const remote = remoteOf(socket)
    if (this.#closed) return void socket.destroy()
    const problem = this.#tls!.incomingProblem(socket)
    if (problem) return this.#refuseTls(socket, remote, problem)
    this.#open(socket, remote)
  }

  /** One log line and count, and a Refuse frame the dialer reads in its handshake and logs. */
  #refuseTls(socket: Socket, remote: string, why: string): void {
    this.#ctx.refused('tls', `rpc: refused a connection from ${remote}: tls: ${why}`)
    socket.on('error', () => {})
    sendRefusal(socket, this.#ctx, 'tls', why)
  }

  #open(socket: Socket, remote: string): void {
    const conn = new Connection(socket, {
      role: 'accept',
      remote,
      ctx: this.#ctx,
      events: {
        onReady: () => this.#counters.handshakes!++,
        onMessage: (c, m) => {
          // Answers come only on connections this server dialed.
          if (m.kind === 'response') this.#counters.unexpected_responses!++
          else this.#dispatch(c, m)
        },
        onClose: (c) => this.#inbound.delete(c),
      },
    })
    this.#inbound.add(conn)
  }

  #dispatch(conn: Connection, m: Request | OneWay): void {
    const handler = this.#handlers.get(m.method)
    if (conn.notServer !== undefined && this.#serversOnly.has(m.method)) return this.#notServer(conn, m)
    const ctx = (timeoutMs: number): RpcContext => ({ from: conn.peer?.id ?? '', remoteAddress: conn.remote, deadline: this.#clock.now() + timeoutMs })
    if (m.kind === 'oneway') {
      this.#counters.oneway_in!++
      if (!handler) {
        this.#counters.unknown_method!++
        return
      }
      try {
        const r = handler(m.body, ctx(0)) as { then?: unknown } | undefined
        if (r && typeof r.then === 'function') (r as Promise<unknown>).then(undefined, (err) => this.#handlerFailed(m.method, err))
      } catch (err) {
        this.#handlerFailed(m.method, err)
      }
      return
    }
    this.#counters.requests_in!++
    if (!handler) {
      this.#counters.unknown_method!++
      return this.#reply(conn, m.seq, { code: RpcCode.UnknownMethod, message: `rpc: unknown method ${m.method}` })
    }
    if (conn.inflight >= this.#limits.maxInflightPerConnection) return this.#reply(conn, m.seq, { code: RpcCode.Overloaded, message: 'rpc: too many requests in progress' })
    conn.inflight++
    let answer: Promise<unknown>
    try {
      answer = Promise.resolve(handler(m.body, ctx(m.timeoutMs)))
    } catch (err) {
      answer = Promise.reject(err)
    }
    answer.then(
      (value) => {
        conn.inflight--
        this.#reply(conn, m.seq, null, value)
      },
      (err) => {
        conn.inflight--
        const e = toRpcError(err)
        if (e.code === RpcCode.Internal) this.#handlerFailed(m.method, err)
        this.#reply(conn, m.seq, e)
      },
    )
  }

  #reply(conn: Connection, seq: number, error: RpcError | null, body?: unknown): void {
    let frame: Uint8Array
    try {
      frame = this.#codec.encode({ kind: 'response', seq, error, body })
    } catch (err) {
      frame = this.#codec.encode({ kind: 'response', seq, error: { code: RpcCode.Encode, message: `rpc: cannot encode the answer: ${(err as Error).message}` }, body: null })
    }
    if (frame.byteLength > this.#limits.maxFrameBytes) {
      frame = this.#codec.encode({ kind: 'response', seq, error: { code: RpcCode.TooLarge, message: `rpc: an answer of ${frame.byteLength} bytes` }, body: null })
    }
    if (!conn.write(frame)) this.#counters.dropped!++
  }

  /** A servers-only method called by a peer whose certificate does not make it a server: refused, logged once per connection. */
  #notServer(conn: Connection, m: Request | OneWay): void {
    this.#counters.not_server!++
    const message = `rpc: ${m.method} is for servers only: ${conn.notServer}`
    if (!conn.notServerLogged) {
      conn.notServerLogged = true
      this.#log('warn', `rpc: refused ${m.method} from ${conn.peer?.id ?? '?'} at ${conn.remote}: ${conn.notServer}`)
    }
    if (m.kind === 'request') this.#reply(conn, m.seq, { code: RpcCode.Permission, message })
  }

  #handlerFailed(method: string, err: unknown): void {
    this.#counters.handler_errors!++
    this.#log('error', `rpc: the ${method} handler failed: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** An {code, message} value (thrown by a handler) as it is; anything else as 'internal'. */
export function toRpcError(err: unknown): RpcError {
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown }
    if (typeof code === 'string' && typeof message === 'string') return { code, message }
    if (typeof message === 'string') return { code: RpcCode.Internal, message }
  }
  return { code: RpcCode.Internal, message: String(err) }
}

/** `ip:port` (IPv6 in brackets) of a socket's other end, for logs. */
function remoteOf(socket: Socket): string {
  return socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`
}

/** FNV-1a: a seed for the reconnect jitter that differs between servers of one process. */
function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}
