import type { CheckNotifier, CheckStatus } from './types.js'

export interface Thresholds {
  successBeforePassing?: number
  failuresBeforeWarning?: number
  failuresBeforeCritical?: number
}

/**
 * `success_before_passing`, `failures_before_warning` and `failures_before_critical`, as Consul's
 * StatusHandler applies them to every interval check:
 *
 * - A passing or warning result adds to a run of successes and ends any run of failures; it is reported
 *   once the run reaches `successBeforePassing`.
 * - A critical result adds to a run of failures and ends any run of successes; it is reported as critical
 *   once the run reaches `failuresBeforeCritical`, else as *warning* once it reaches
 *   `failuresBeforeWarning` (which defaults to `failuresBeforeCritical`), else not at all.
 * - Both counters start at their thresholds, so the very first result is reported whatever it is.
 *
 * @example
 * const h = new StatusHandler(notifier, 'web', { failuresBeforeCritical: 3, failuresBeforeWarning: 1 })
 * h.update('critical', 'refused') // reported as warning; the third in a row is reported as critical
 */
export class StatusHandler {
  readonly #inner: CheckNotifier
  readonly #checkId: string
  readonly #successBeforePassing: number
  readonly #failuresBeforeWarning: number
  readonly #failuresBeforeCritical: number
  #successes: number
  #failures: number

  constructor(inner: CheckNotifier, checkId: string, thresholds: Thresholds = {}) {
    this.#inner = inner
    this.#checkId = checkId
    this.#successBeforePassing = thresholds.successBeforePassing ?? 0
    this.#failuresBeforeCritical = thresholds.failuresBeforeCritical ?? 0
    // Consul's agent defaults failures_before_warning to failures_before_critical when unset (0).
    this.#failuresBeforeWarning = thresholds.failuresBeforeWarning || this.#failuresBeforeCritical
    this.#successes = this.#successBeforePassing
    this.#failures = this.#failuresBeforeCritical
  }

  /** Feeds one probe result; reports to the inner notifier when a threshold allows it. */
  update(status: CheckStatus, output: string): void {
    if (status === 'passing' || status === 'warning') {
      this.#successes++
      this.#failures = 0
      if (this.#successes >= this.#successBeforePassing) this.#inner.update(this.#checkId, status, output)
      return
    }
    this.#failures++
    this.#successes = 0
    if (this.#failures >= this.#failuresBeforeCritical) {
      this.#inner.update(this.#checkId, 'critical', output)
    } else if (this.#failures >= this.#failuresBeforeWarning) {
      this.#inner.update(this.#checkId, 'warning', output)
    }
  }
}
