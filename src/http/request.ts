import type { Identity } from '../acl/resolver.js'
import type { IncomingMessage } from 'node:http'
import { badRequest, HttpError, tooLarge } from '../lib/errors.js'
import { parseDurationMs } from '../lib/duration.js'
import { LIMITS } from '../lib/limits.js'

import type { BlockingOutcome, Consistency, QueryMeta } from '../server/types.js'

export type { BlockingOutcome, Consistency, QueryMeta }

/**
 * One API request as handlers see it: decoded path, query, token, and a lazily read body.
 * `signal` aborts when the client goes away, so blocking queries stop waiting for nobody.
 */
export class ApiRequest {
  readonly method: string
  /** The path after percent-decoding, e.g. `/v1/kv/web/key1`. */
  readonly path: string
  readonly query: URLSearchParams
  readonly token: string
  meta: QueryMeta | undefined
  /**
   * Set by the shared-wait layer for a request that waited as a follower: the blocking query
   * keeps the deadline it got on arrival (already passed when its wait ran out) instead of a new one.
   */
  blockingDeadline: number | undefined
  /** How its blocking query ended; only a `changed` or `immediate` answer may be shared with identical waiters. */
  blockingOutcome: BlockingOutcome | undefined
  readonly #raw: IncomingMessage
  #abort: AbortController | undefined
  #onClose: (() => void) | undefined

  /** Who the caller is, for the agent's own routes (route-acl.ts); set before their handler runs. */
  identity: Identity | undefined

  /** `defaultToken`: the agent's acl.tokens.default, what a request without a token runs as. */
  constructor(raw: IncomingMessage, defaultToken = '') {
    this.#raw = raw
    this.method = raw.method ?? 'GET'
    const url = raw.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    this.query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
    this.path = decodePath(rawPath)
    this.token = tokenFrom(this.query, raw) || defaultToken
  }

  /** Aborts when the client disconnects. Created on first use: only long waits need it. */
  get signal(): AbortSignal {
    if (!this.#abort) {
      const abort = (this.#abort = new AbortController())
      const socket = this.#raw.socket
      if (!socket || socket.destroyed) abort.abort()
      else socket.once('close', (this.#onClose = () => abort.abort()))
    }
    return this.#abort.signal
  }

  /**
   * Calls `fn` once if the client disconnects, until the returned function is called: the cheap
   * form of `signal` (no AbortController) for requests parked by the thousand.
   */
  onClientGone(fn: () => void): () => void {
    const socket = this.#raw.socket
    if (!socket || socket.destroyed) {
      queueMicrotask(fn)
      return () => undefined
    }
    socket.once('close', fn)
    return () => socket.off('close', fn)
  }

  /** Drops the disconnect listener once the response is written (keep-alive sockets live on). */
  dispose(): void {
    if (this.#onClose) this.#raw.socket?.off('close', this.#onClose)
    this.#onClose = undefined
  }

  /** The request line's URL as sent, and the client's address (Consul's `Request finished` line). */
  get url(): string {
    return this.#raw.url ?? ''
  }

  get from(): string {
    const s = this.#raw.socket
    return s ? `${s.remoteAddress ?? ''}:${s.remotePort ?? ''}` : ''
  }

  get headers(): IncomingMessage['headers'] {
    return this.#raw.headers
  }

  /** Presence-based boolean parameter (`?recurse`, `?keys`, `?raw`), as Consul reads them. */
  has(name: string): boolean {
    return this.query.has(name)
  }

  param(name: string): string | undefined {
    return this.query.get(name) ?? undefined
  }

  /** The rest of the path after a route prefix (`/v1/health/service/` → `web`); 400 `Missing <what>` when empty. */
  pathArg(prefix: string, what: string): string {
    const value = this.path.slice(prefix.length)
    if (!value) throw badRequest(`Missing ${what}`)
    return value
  }

  /**
   * Reads the body, refusing more than `limitBytes` with 413 and the given explanation. An
   * oversize body is still read to its end (and thrown away) when it is not huge, so the client
   * gets the 413 instead of a connection reset while it is still sending.
   */
  body(limitBytes: number, describeLimit: (size: number) => string): Promise<Buffer> {
    const drainMax = Math.max(limitBytes * 4, LIMITS.oversizeDrainMinBytes)
    const declared = Number(this.#raw.headers['content-length'] ?? NaN)
    if (Number.isFinite(declared) && declared > drainMax) return Promise.reject(closing(tooLarge(describeLimit(declared))))
    const raw = this.#raw
    if (raw.readableEnded) return Promise.resolve(Buffer.alloc(0))
    // Listeners rather than `for await`: the async iterator cost 3% of a leader's event loop under PUTs.
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      const done = (err?: Error): void => {
        raw.off('data', onData).off('end', onEnd).off('error', onCut).off('close', onCut)
        if (err) reject(err)
        else if (size > limitBytes) reject(tooLarge(describeLimit(size)))
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
      }
      const onData = (chunk: Buffer): void => {
        size += chunk.length
        if (size > drainMax) {
          // As leaving a `for await` early would: stop reading what is left.
          raw.destroy()
          done(closing(tooLarge(describeLimit(size))))
        } else if (size <= limitBytes) chunks.push(chunk)
      }
      const onEnd = (): void => done()
      // A client gone mid-body is its own doing, not the agent's error: a 400 nobody reads, not a logged 500.
      const onCut = (): void => done(badRequest('Request body was cut off: the client closed the connection'))
      raw.on('data', onData).once('end', onEnd).once('error', onCut).once('close', onCut)
    })
  }
}

/** A 413 sent before the body is read: the connection cannot be reused. */
function closing(err: HttpError): HttpError {
  return new HttpError(err.status, err.message, { ...err.headers, Connection: 'close' })
}

function decodePath(rawPath: string): string {
  if (!rawPath.includes('%')) return rawPath
  try {
    return decodeURIComponent(rawPath)
  } catch {
    throw badRequest('Invalid URL path: not valid percent-encoded UTF-8')
  }
}

/** Token lookup order of Consul: ?token=, X-Consul-Token, then Authorization: Bearer. */
function tokenFrom(query: URLSearchParams, raw: IncomingMessage): string {
  const fromQuery = query.get('token')
  if (fromQuery) return fromQuery
  const header = raw.headers['x-consul-token']
  if (typeof header === 'string' && header) return header
  const auth = raw.headers.authorization
  if (typeof auth === 'string') {
    const [scheme, value] = auth.trim().split(/\s+/, 2)
    if (scheme?.toLowerCase() === 'bearer' && value) return value
  }
  return ''
}

export interface BlockingParams {
  minIndex: number
  waitMs: number
  consistency: Consistency
  /** ?max_stale: a stale read from a server that heard from the leader longer ago than this is not served stale. */
  maxStaleMs: number | undefined
}

/** Parses ?index, ?wait, ?stale, ?max_stale and ?consistent with Consul's errors and limits. */
export function blockingParams(req: ApiRequest, limits: { defaultWaitMs: number; maxWaitMs: number }): BlockingParams {
  let maxStaleMs: number | undefined
  const maxStale = req.param('max_stale')
  if (maxStale !== undefined && maxStale !== '') {
    try {
      maxStaleMs = parseDurationMs(maxStale)
    } catch {
      throw badRequest(`Invalid max_stale value "${maxStale}"`)
    }
  }
  const stale = req.has('stale') || (maxStaleMs !== undefined && maxStaleMs > 0)
  const consistent = req.has('consistent')
  if (stale && consistent) throw badRequest('Cannot specify ?stale with ?consistent, conflicting semantics.')
  let minIndex = 0
  const index = req.param('index')
  if (index !== undefined && index !== '') {
    if (!/^[0-9]+$/.test(index) || !Number.isSafeInteger(Number(index))) throw badRequest('Invalid index')
    minIndex = Number(index)
  }
  let waitMs = limits.defaultWaitMs
  const wait = req.param('wait')
  if (wait !== undefined && wait !== '') {
    try {
      waitMs = parseDurationMs(wait)
    } catch {
      throw badRequest('Invalid wait time')
    }
    if (waitMs < 0) throw badRequest('Invalid wait time')
    if (waitMs === 0) waitMs = limits.defaultWaitMs
  }
  waitMs = Math.min(waitMs, limits.maxWaitMs)
  return { minIndex, waitMs, consistency: stale ? 'stale' : consistent ? 'consistent' : 'default', maxStaleMs }
}
