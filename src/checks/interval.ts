import { StatusHandler } from './status-handler.js'
import { CHECK_LIMITS } from './limits.js'
import type { CheckClock, CheckKind, CheckStatus, RunningCheck } from './types.js'

export interface ProbeResult {
  status: CheckStatus
  output: string
}

/** What a probe gets: an abort signal (fired by `stop()`) and the clock for its own timeout. */
export interface ProbeContext {
  signal: AbortSignal
  clock: CheckClock
}

/**
 * One run of an interval check. It must settle soon after `signal` aborts, and must release every
 * process and socket it opened before it settles. A rejection counts as critical with the error's text.
 */
export type Probe = (ctx: ProbeContext) => Promise<ProbeResult>

export const realClock: CheckClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  wakeupGranularityMs: CHECK_LIMITS.wakeupGranularityMs,
}

export interface IntervalOptions {
  kind: CheckKind
  intervalMs: number
  probe: Probe
  handler: StatusHandler
  clock: CheckClock
  random: () => number
}

/**
 * The loop every interval check shares, as Consul's `run()` goroutines: wait a random stagger within the
 * interval (`lib.RandomStagger`), probe, report through the threshold handler, then wait a full interval
 * *after* the probe finished, so a slow probe never overlaps the next one.
 *
 * Single-threaded contract: all state changes happen on the event loop; after `stop()` no result is
 * reported, even from a probe that was already in flight.
 */
export class IntervalRunner implements RunningCheck {
  readonly kind: CheckKind
  readonly #opts: IntervalOptions
  #timer: unknown
  #started = false
  #stopped = false
  #inFlight: Promise<void> | undefined
  readonly #abort = new AbortController()

  constructor(opts: IntervalOptions) {
    this.kind = opts.kind
    this.#opts = opts
  }

  /** Starts the loop once; later calls, and calls after `stop()`, do nothing (create a new runner instead). */
  start(): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    const interval = this.#opts.intervalMs
    // Uniform in [0, interval): a thousand checks registered together spread over one interval.
    const stagger = interval > 0 ? Math.floor(this.#opts.random() * interval) % interval : 0
    this.#schedule(stagger)
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer !== undefined) this.#opts.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#abort.abort()
  }

  idle(): Promise<void> {
    return this.#inFlight ?? Promise.resolve()
  }

  #schedule(ms: number): void {
    const { clock } = this.#opts
    const g = clock.wakeupGranularityMs
    // Round the due time up to the clock's wakeup grid: waking once per check costs far more CPU than the checks.
    if (g && g > 0) ms += (g - ((clock.now() + ms) % g)) % g
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined
      this.#run()
    }, ms)
  }

  #run(): void {
    if (this.#stopped) return
    const { probe, clock, handler } = this.#opts
    let result: Promise<ProbeResult>
    try {
      result = probe({ signal: this.#abort.signal, clock })
    } catch (err) {
      result = Promise.reject(err)
    }
    this.#inFlight = result.then(
      (r) => {
        if (!this.#stopped) handler.update(r.status, r.output)
      },
      (err: unknown) => {
        if (!this.#stopped) handler.update('critical', err instanceof Error ? err.message : String(err))
      },
    ).finally(() => {
      this.#inFlight = undefined
      if (!this.#stopped) this.#schedule(this.#opts.intervalMs)
    })
  }
}

/**
 * A per-probe deadline on the injected clock, tied to the runner's stop signal. `signal` aborts on either;
 * `timedOut` tells which. Call `dispose()` when the probe settles so the timer does not linger.
 */
export function deadline(ctx: ProbeContext, ms: number): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const ac = new AbortController()
  let timedOut = false
  const onStop = (): void => ac.abort()
  if (ctx.signal.aborted) ac.abort()
  else ctx.signal.addEventListener('abort', onStop, { once: true })
  const timer = ctx.clock.setTimeout(() => {
    timedOut = true
    ac.abort()
  }, ms)
  return {
    signal: ac.signal,
    timedOut: () => timedOut,
    dispose: () => {
      ctx.clock.clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onStop)
    },
  }
}
