/**
 * The outbound side for one peer address: one connection, made on first use and remade after it is
 * lost, with backoff between failed dials; a bounded queue while connecting; the calls awaiting
 * answers, each with its deadline. Nothing here waits without bound and nothing here throws.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { Connection } from './connection.js'
import type { Response, RpcError, WireCodec } from './frame.js'
import type { RpcLimits } from './limits.js'

export type RpcResult<T = unknown> = { ok: true; value: T } | { ok: false; error: RpcError }

/** Codes of failures the RPC layer itself reports (handlers may use others). */
export const RpcCode = {
  /** No answer within the deadline (the request may still have been carried out). */
  Timeout: 'timeout',
  /** No connection could be made (or the peer is in backoff after failed dials). */
  Unreachable: 'unreachable',
  /** The connection was lost before the answer came (the request may have been carried out). */
  Closed: 'closed',
  /** A bound was reached: too many calls in flight, or the peer's buffer is full. */
  Overloaded: 'overloaded',
  /** The request or its answer is larger than a frame may be. */
  TooLarge: 'too_large',
  /** The body could not be encoded. */
  Encode: 'encode',
  UnknownMethod: 'unknown_method',
  /** The handler threw something that is not an {code, message} value. */
  Internal: 'internal',
  Shutdown: 'shutdown',
  /** A servers-only method from a peer that is not shown to be a server (verify_server_hostname). */
  Permission: 'permission',
} as const

export interface PeerDeps {
  readonly clock: Clock
  readonly random: () => number
  readonly limits: RpcLimits
  readonly codec: WireCodec
  readonly counters: Record<string, number>
  log(level: 'info' | 'warn', message: string): void
  /** Starts a connection to the address; undefined when the address cannot be dialed. */
  dial(peer: Peer): Connection | undefined
}

interface PendingCall {
  resolve: (r: RpcResult) => void
  timer: Timer
}

const fail = (code: string, message: string): RpcResult => ({ ok: false, error: { code, message } })

export class Peer {
  readonly address: string
  /** One-way frames this peer did not take (queue or buffer full, backoff, lost with a failed dial). */
  dropped = 0
  readonly #d: PeerDeps
  #conn: Connection | undefined
  /** Frames waiting for the handshake; `seq` for a request, so a frame dropped here fails its call at once. */
  #queue: Array<{ frame: Uint8Array; seq: number }> = []
  #queuedBytes = 0
  #retryAt = 0
  #failures = 0
  #seq = 0
  #closed = false
  readonly #pending = new Map<number, PendingCall>()
  #lastUse = 0
  #idleTimer: Timer | undefined

  constructor(address: string, deps: PeerDeps) {
    this.address = address
    this.#d = deps
  }

  get state(): 'idle' | 'connecting' | 'ready' | 'backoff' {
    if (this.#conn) return this.#conn.state === 'ready' ? 'ready' : 'connecting'
    return this.#failures > 0 && this.#d.clock.now() < this.#retryAt ? 'backoff' : 'idle'
  }

  get pendingCalls(): number {
    return this.#pending.size
  }

  /** Ends a backoff now: the next use dials at once (an operator's join retries on its own schedule). */
  retryNow(): void {
    this.#retryAt = 0
  }

  /** Sends a one-way frame; false (and counted) when it was dropped. */
  send(frame: Uint8Array): boolean {
    if (this.#offer(frame, 0) === undefined) return true
    this.dropped++
    this.#d.counters.dropped!++
    return false
  }

  call(method: string, body: unknown, timeoutMs: number): Promise<RpcResult> {
    const d = this.#d
    if (this.#closed) return Promise.resolve(fail(RpcCode.Shutdown, 'rpc: the server is shutting down'))
    if (this.#pending.size >= d.limits.maxPendingCallsPerPeer) return Promise.resolve(fail(RpcCode.Overloaded, `rpc: ${this.#pending.size} calls in flight to ${this.address}`))
    const seq = ++this.#seq
    let frame: Uint8Array
    try {
      frame = d.codec.encode({ kind: 'request', seq, method, timeoutMs, body })
    } catch (err) {
      return Promise.resolve(fail(RpcCode.Encode, `rpc: cannot encode the request: ${(err as Error).message}`))
    }
    if (frame.byteLength > d.limits.maxFrameBytes) return Promise.resolve(fail(RpcCode.TooLarge, `rpc: a request of ${frame.byteLength} bytes`))
    d.counters.requests_out!++
    return new Promise<RpcResult>((resolve) => {
      const timer = d.clock.setTimeout(() => {
        if (!this.#pending.delete(seq)) return
        d.counters.call_timeouts!++
        resolve(fail(RpcCode.Timeout, `rpc: ${method} to ${this.address}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(seq, { resolve, timer })
      const refused = this.#offer(frame, seq)
      if (refused) this.#settle(seq, fail(refused.code, `rpc: ${method} to ${this.address}: ${refused.message}`))
    })
  }

  /** An answer from the peer; a late one (its call timed out) is counted and dropped. */
  response(m: Response): void {
    this.#touch()
    const ok: RpcResult = m.error ? { ok: false, error: m.error } : { ok: true, value: m.body }
    if (!this.#settle(m.seq, ok)) this.#d.counters.late_responses!++
  }

  /** The connection finished its handshake: what waited goes out in order. */
  ready(conn: Connection): void {
    if (conn !== this.#conn) return
    if (this.#failures > 0) this.#d.log('info', `rpc: connected to ${this.address} (${conn.peer?.id}) after ${this.#failures} failed attempts`)
    this.#failures = 0
    const queue = this.#queue
    this.#queue = []
    this.#queuedBytes = 0
    for (const q of queue) {
      if (conn.write(q.frame)) continue
      this.#dropQueued(1)
      if (q.seq > 0) this.#settle(q.seq, fail(RpcCode.Overloaded, `rpc: the send buffer to ${this.address} is full`))
    }
  }

  /** The connection closed: a dial that never got ready backs off; calls on it fail. */
  closed(conn: Connection): void {
    if (conn !== this.#conn) return
    this.#conn = undefined
    const wasReady = conn.peer !== undefined
    if (wasReady) {
      this.#d.log('info', `rpc: the connection to ${this.address} (${conn.peer!.id}) was lost`)
    } else {
      this.#failures++
      const base = Math.min(this.#d.limits.backoffMaxMs, this.#d.limits.backoffMinMs * 2 ** Math.min(this.#failures - 1, 20))
      this.#retryAt = this.#d.clock.now() + base / 2 + (this.#d.random() * base) / 2
      this.#d.counters.dial_failures!++
      if (this.#failures === 1) this.#d.log('warn', `rpc: cannot reach ${this.address}: ${conn.lastError ?? 'the handshake failed'}; retrying with backoff`)
    }
    this.#dropQueued(this.#queue.length)
    this.#queue = []
    this.#queuedBytes = 0
    const why = wasReady ? fail(RpcCode.Closed, `rpc: the connection to ${this.address} was lost`) : fail(RpcCode.Unreachable, `rpc: cannot reach ${this.address}: ${conn.lastError ?? 'the handshake failed'}`)
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, why)
  }

  close(): void {
    this.#closed = true
    this.#idleTimer?.cancel()
    this.#idleTimer = undefined
    this.#conn?.close()
    this.#conn = undefined
    this.#queue = []
    this.#queuedBytes = 0
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, fail(RpcCode.Shutdown, 'rpc: the server is shutting down'))
  }

  /** Takes a frame for the peer, or says why not. */
  #offer(frame: Uint8Array, seq: number): RpcError | undefined {
    const d = this.#d
    if (this.#closed) return { code: RpcCode.Shutdown, message: 'the server is shutting down' }
    if (!this.#conn) {
      if (this.state === 'backoff') return { code: RpcCode.Unreachable, message: 'unreachable, retrying later' }
      this.#conn = d.dial(this)
      if (!this.#conn) return { code: RpcCode.Unreachable, message: 'not a dialable address' }
      d.counters.connections_dialed!++
    }
    this.#touch()
    if (this.#conn.state === 'ready') return this.#conn.write(frame) ? undefined : { code: RpcCode.Overloaded, message: 'its send buffer is full' }
    const fits = this.#queue.length === 0 || (this.#queue.length < d.limits.maxPeerQueueFrames && this.#queuedBytes + frame.byteLength <= d.limits.maxPeerBufferBytes)
    if (!fits) return { code: RpcCode.Overloaded, message: 'its queue is full while connecting' }
    this.#queue.push({ frame, seq })
    this.#queuedBytes += frame.byteLength
    return undefined
  }

  /** Marks the connection used; the idle check runs once per idle period, not per frame. */
  #touch(): void {
    this.#lastUse = this.#d.clock.now()
    if (this.#idleTimer === undefined && this.#d.limits.idleCloseMs > 0) this.#idleTimer = this.#d.clock.setTimeout(() => this.#idleCheck(), this.#d.limits.idleCloseMs)
  }

  #idleCheck(): void {
    this.#idleTimer = undefined
    const conn = this.#conn
    if (!conn || this.#closed) return
    const period = this.#d.limits.idleCloseMs
    const idleMs = this.#d.clock.now() - this.#lastUse
    // A call in flight (a blocking query may take minutes) looks again a whole period later, not at once.
    const busy = this.#pending.size > 0 || this.#queue.length > 0
    if (busy || idleMs < period) {
      this.#idleTimer = this.#d.clock.setTimeout(() => this.#idleCheck(), busy ? period : Math.max(1, period - idleMs))
      return
    }
    // Dropped before it closes: closed() then sees a connection that is no longer ours, so nothing is logged as lost.
    this.#conn = undefined
    this.#d.counters.idle_closed!++
    conn.close()
  }

  #settle(seq: number, r: RpcResult): boolean {
    const p = this.#pending.get(seq)
    if (!p) return false
    this.#pending.delete(seq)
    p.timer.cancel()
    if (!r.ok) this.#d.counters.call_failures!++
    p.resolve(r)
    return true
  }

  /** Queued frames lost: requests among them fail through their own settle; all count as drops. */
  #dropQueued(n: number): void {
    this.dropped += n
    this.#d.counters.dropped! += n
  }
}
