import { truncateHead } from './output.js'
import type { CheckClock, CheckNotifier, CheckStatus, TtlCheckRunner } from './types.js'

/**
 * A TTL check, as Consul's CheckTTL. The application reports through pass/warn/fail/update, each of which
 * is passed on at once (no thresholds, as Consul) and restarts the TTL. When the TTL runs out the check
 * turns critical with `TTL expired`, followed by the last reported output if there was one; it then stays
 * quiet until the next report restarts the TTL.
 */
export class TtlRunner implements TtlCheckRunner {
  readonly kind = 'ttl' as const
  readonly #checkId: string
  readonly #ttlMs: number
  readonly #outputMaxSize: number
  readonly #notifier: CheckNotifier
  readonly #clock: CheckClock
  #timer: unknown
  #lastOutput = ''
  #started = false
  #stopped = false

  constructor(checkId: string, opts: { ttlMs: number; outputMaxSize: number; notifier: CheckNotifier; clock: CheckClock }) {
    this.#checkId = checkId
    this.#ttlMs = opts.ttlMs
    this.#outputMaxSize = opts.outputMaxSize
    this.#notifier = opts.notifier
    this.#clock = opts.clock
  }

  start(): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    this.#arm()
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#disarm()
  }

  idle(): Promise<void> {
    return Promise.resolve()
  }

  pass(note = ''): string {
    return this.update('passing', note)
  }

  warn(note = ''): string {
    return this.update('warning', note)
  }

  fail(note = ''): string {
    return this.update('critical', note)
  }

  /** Reports `status` with `output` cut to outputMaxSize, restarts the TTL, and returns the output kept. */
  update(status: CheckStatus, output = ''): string {
    const kept = truncateHead(output, this.#outputMaxSize)
    if (this.#stopped) return kept
    this.#notifier.update(this.#checkId, status, kept)
    this.#lastOutput = kept
    if (this.#started) this.#arm()
    return kept
  }

  #arm(): void {
    this.#disarm()
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      if (this.#stopped) return
      this.#notifier.update(this.#checkId, 'critical', this.#expiredOutput())
    }, this.#ttlMs)
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #expiredOutput(): string {
    return this.#lastOutput === '' ? 'TTL expired' : `TTL expired (last output before timeout follows): ${this.#lastOutput}`
  }
}
