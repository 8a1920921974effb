/**
 * The protocol arithmetic of SWIM with Lifeguard, as memberlist computes it: how long a suspect
 * member has before it is declared dead (and how independent confirmations shorten that), how many
 * times a broadcast is retransmitted, and how push-pull slows down as the pool grows. Pure
 * functions of their arguments (durations in milliseconds), tested against memberlist's tables.
 */

/** Pools above this size push-pull less often: twice as rarely past 32 members, three times past 64, ... */
export const PUSH_PULL_SCALE_THRESHOLD = 32

/** The shortest a suspicion lasts: `mult` probe intervals, times log10 of the pool size (at least 1). */
export function suspicionTimeoutMs(suspicionMult: number, members: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, members)))
  // memberlist keeps three decimals of the scale (integer nanoseconds): the same rounding here.
  return (suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000
}

/** How many times each broadcast is piggybacked before it is dropped: `mult` times ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return retransmitMult * Math.ceil(Math.log10(members + 1))
}

/** The push-pull interval for a pool of `members`: unscaled up to the threshold, then one more interval per doubling. */
export function pushPullIntervalMs(intervalMs: number, members: number): number {
  if (members <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs
  const multiplier = Math.ceil(Math.log2(members) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1
  return multiplier * intervalMs
}

/**
 * Lifeguard's suspicion timer: it starts at `maxMs` and moves towards `minMs` as independent
 * confirmations arrive, reaching it at `expected` of them (log-scaled in between). Returns what is
 * left after `elapsedMs`, possibly negative (then the member is declared dead at once).
 */
export function remainingSuspicionMs(confirmations: number, expected: number, elapsedMs: number, minMs: number, maxMs: number): number {
  // A pool too small to confirm anything (memberlist's k < 1): the minimum from the start.
  if (expected < 1) return minMs - elapsedMs
  const frac = Math.log(confirmations + 1) / Math.log(expected + 1)
  const raw = maxMs - frac * (maxMs - minMs)
  const timeout = Math.max(minMs, Math.floor(raw))
  return timeout - elapsedMs
}

/**
 * Lifeguard's local health awareness: a score from 0 (healthy) to `max - 1`, raised when this
 * member's own probes or refutations go wrong and lowered when they succeed; probe intervals and
 * timeouts are scaled by score + 1, so a slow member suspects others less eagerly.
 */
export class Awareness {
  #score = 0

  constructor(readonly max: number) {}

  get score(): number {
    return this.#score
  }

  /** Moves the score by `delta`, kept within [0, max - 1]; returns the new score. */
  apply(delta: number): number {
    this.#score = Math.min(this.max - 1, Math.max(0, this.#score + delta))
    return this.#score
  }

  scale(timeoutMs: number): number {
    return timeoutMs * (this.#score + 1)
  }
}

/** Fisher-Yates over a copy, with the injected randomness. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}
