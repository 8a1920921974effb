/**
 * A token bucket (Go's rate.Limiter semantics, as Consul's limits.rpc_rate uses it): `rate` tokens a
 * second up to `burst`; each event takes one. Pure: the caller gives the time.
 */
export class TokenBucket {
  #rate: number
  #burst: number
  #tokens: number
  #at: number

  /** `rate` per second (Infinity: no limit), `burst` at most at once; starts full. */
  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate
    this.#burst = burst
    this.#tokens = burst
    this.#at = now
  }

  /** Changes the rate and burst (a reload), keeping the tokens there are, up to the new burst. */
  configure(rate: number, burst: number, now: number): void {
    this.#refill(now)
    this.#rate = rate
    this.#burst = burst
    this.#tokens = Math.min(this.#tokens, burst)
  }

  get unlimited(): boolean {
    return this.#rate === Infinity
  }

  /** Takes a token: 0 when there was one, else how many ms until there will be (nothing taken). */
  take(now: number): number {
    if (this.#rate === Infinity) return 0
    this.#refill(now)
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    return this.#rate > 0 ? Math.ceil(((1 - this.#tokens) / this.#rate) * 1000) : Infinity
  }

  #refill(now: number): void {
    if (now > this.#at && this.#rate !== Infinity) this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate)
    this.#at = Math.max(this.#at, now)
  }
}
