/**
 * One long-poll loop per distinct dependency (upstream's watch/view.go), shared by every template
 * that uses it: index handling, the 100 ms floor between fetches, max_stale with a retry on the
 * leader, and exponential retry on errors.
 */
import type { ConsulClient } from '../client/client.js'
import { sleep, type Dependency } from './deps.js'
import type { Logger } from '../lib/line-log.js'

/** Upstream's minimum delay between two fetches of one view, plus up to this much jitter. */
export const MIN_FETCH_INTERVAL_MS = 100
export const FETCH_JITTER_MS = 20

export interface RetryConfig {
  enabled: boolean
  /** 0 = retry forever. */
  attempts: number
  backoffMs: number
  maxBackoffMs: number
}

export interface ViewOptions {
  client: ConsulClient
  retry: RetryConfig
  /** Blocking-query wait (block_query_wait, default 60 s). */
  waitMs: number
  /** max_stale: 0 disables stale reads. */
  maxStaleMs: number
  /** Once mode: stop after the first data. */
  once: boolean
  /** err_on_failed_lookup: no data by the second answer is an error. */
  errOnFailedLookup?: boolean
  log: Logger
  onData: (view: View) => void
  onError: (view: View, err: Error) => void
}

/** Deep equality of two fetched values (plain data and the shape classes). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  const ka = Object.keys(a as object)
  const kb = Object.keys(b as object)
  if (ka.length !== kb.length) return false
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

export class View {
  /** The last data delivered; `undefined` until the first. */
  data: unknown = undefined
  receivedData = false
  lastIndex = 0
  /** Fetches made (for the benchmark and tests). */
  fetches = 0
  readonly #abort = new AbortController()
  #stopped = false

  constructor(
    readonly dep: Dependency,
    readonly opts: ViewOptions,
  ) {}

  get stopped(): boolean {
    return this.#stopped
  }

  start(): void {
    void this.#poll()
  }

  stop(): void {
    this.#stopped = true
    this.#abort.abort()
  }

  async #poll(): Promise<void> {
    const { log, retry } = this.opts
    let retries = 0
    // As upstream: the first answer of each round (after new data or an error) is used at once;
    // later answers are held until MIN_FETCH_INTERVAL_MS (+ jitter) after their request started.
    let firstLoop = true
    let allowStale = this.opts.maxStaleMs > 0
    while (!this.#stopped) {
      const start = Date.now()
      let r
      try {
        this.fetches++
        r = await this.dep.fetch({ client: this.opts.client, index: this.lastIndex, waitMs: this.opts.waitMs, stale: allowStale, signal: this.#abort.signal })
      } catch (err) {
        if (this.#stopped) return
        const msg = withId(this.dep.id, (err as Error).message)
        // Retry with exponential backoff; after `attempts` failures the error goes to the runner.
        if (retry.enabled && (retry.attempts === 0 || retries < retry.attempts)) {
          const backoff = Math.min(retry.backoffMs * 2 ** retries, retry.maxBackoffMs)
          retries++
          log.warn('view', `${msg} (retry attempt ${retries} after "${formatMs(backoff)}")`)
          await sleep(backoff, this.#abort.signal)
          firstLoop = true
          continue
        }
        log.err('view', `${msg} (exceeded maximum retries)`)
        this.opts.onError(this, new Error(msg))
        return
      }
      retries = 0
      if (this.#stopped) return
      // Too stale: ask the leader the same question once more.
      if (allowStale && r.lastContactMs > this.opts.maxStaleMs) {
        log.trace('view', `${this.dep.id} stale data (last contact exceeded max_stale)`)
        allowStale = false
        continue
      }
      allowStale = this.opts.maxStaleMs > 0
      if (this.opts.errOnFailedLookup && !firstLoop && !this.receivedData) {
        this.opts.onError(this, new Error(`${this.dep.id}: lookup error`))
        return
      }
      if (!firstLoop) {
        const remaining = MIN_FETCH_INTERVAL_MS - (Date.now() - start)
        if (remaining > 0) await sleep(remaining + Math.random() * FETCH_JITTER_MS, this.#abort.signal)
        if (this.#stopped) return
      }
      firstLoop = false
      if (this.dep.kind === 'consul') {
        // Blocking queries that end with their wait come back with the same index.
        if (r.index === this.lastIndex) {
          log.trace('view', `${this.dep.id} no new data (index was the same)`)
          continue
        }
        if (r.index < this.lastIndex) {
          log.trace('view', `${this.dep.id} had a lower index, resetting`)
          this.lastIndex = 0
          continue
        }
      }
      this.lastIndex = r.index
      if (this.receivedData && deepEqual(r.data, this.data)) {
        log.trace('view', `${this.dep.id} no new data (contents were the same)`)
        continue
      }
      if (r.data === null && this.dep.blockOnNil) {
        log.trace('view', `${this.dep.id} asked for blocking query`)
        continue
      }
      this.data = r.data
      this.receivedData = true
      this.opts.onData(this)
      if (this.opts.once) return
      firstLoop = true
    }
  }
}

/** Errors from a fetch usually name their dependency already; name it once. */
function withId(id: string, msg: string): string {
  return msg.startsWith(`${id}:`) ? msg : `${id}: ${msg}`
}

/** Go's time.Duration printing for the common whole-unit cases in log lines. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${+(ms / 1000).toFixed(3)}s`
  const m = Math.floor(ms / 60_000)
  const s = +((ms % 60_000) / 1000).toFixed(3)
  return `${m}m${s}s`
}
