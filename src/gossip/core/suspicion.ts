/**
 * One suspected member's timer (Lifeguard's suspicion, memberlist's suspicion.go) as data: it ends
 * at `deadline`, which starts `maxMs` after the suspicion began and moves towards `minMs` with each
 * independent confirmation (another member saying it suspects the same member). The one who raised
 * the suspicion does not count, nor does anyone twice. The driver arms a timer at `deadline()`.
 */
import { remainingSuspicionMs } from './math.js'

export class Suspicion {
  readonly #from = new Set<string>()
  #confirmations = 0

  constructor(
    /** Who raised the suspicion (its own message may come back to us: not a confirmation). */
    from: string,
    /** Confirmations that bring the deadline down to the minimum. */
    readonly expected: number,
    readonly minMs: number,
    readonly maxMs: number,
    /** When the suspicion began, on the driver's clock. */
    readonly startedAt: number,
  ) {
    this.#from.add(from)
  }

  get confirmations(): number {
    return this.#confirmations
  }

  /** When the member is declared dead unless it refutes first. */
  deadline(): number {
    return this.startedAt + remainingSuspicionMs(this.#confirmations, this.expected, 0, this.minMs, this.maxMs)
  }

  /**
   * Counts a confirmation from `from`; false when it tells nothing new (a repeat, or enough
   * already), in which case the deadline did not move and the broadcast is not passed on.
   */
  confirm(from: string): boolean {
    if (this.#confirmations >= this.expected || this.#from.has(from)) return false
    this.#from.add(from)
    this.#confirmations++
    return true
  }
}

/**
 * The confirmations a suspicion waits for in a pool of `members`: memberlist asks for
 * suspicionMult - 2, none when the pool is too small for that many others to exist.
 */
export function expectedConfirmations(suspicionMult: number, members: number): number {
  const k = suspicionMult - 2
  return members - 2 < k ? 0 : k
}
