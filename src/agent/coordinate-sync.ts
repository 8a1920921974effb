/**
 * Every agent reports its LAN coordinate to the servers now and then (Consul's sendCoordinate):
 * the interval grows with the cluster so the servers see about `rateTarget` reports a second in
 * all, never more often than `intervalMinMs` per agent, with a random stagger so agents started
 * together do not report together. A failed report is logged and tried at the next interval.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { Coordinate } from '../lib/coordinate.js'
import type { AgentEndpoints } from '../server/endpoints.js'

export interface CoordinateSyncOptions {
  server: Pick<AgentEndpoints, 'coordinate'>
  node: () => string
  /** The ACL token its updates carry (the agent token). */
  token?: () => string
  /** The agent's LAN coordinate now. */
  coordinate: () => Coordinate
  /** Members of the LAN pool (what scales the interval). */
  members: () => number
  rateTarget: number
  intervalMinMs: number
  clock: Clock
  random?: () => number
  log: (level: 'debug' | 'warn', message: string) => void
}

/** Consul's lib.RateScaledInterval: `n` agents reporting at `rate` a second in all, but no more often than `min`. */
export function rateScaledIntervalMs(rate: number, minMs: number, n: number): number {
  return Math.max(minMs, (n / rate) * 1000)
}

export class CoordinateSync {
  readonly #o: CoordinateSyncOptions
  #timer: Timer | undefined
  #stopped = false
  /** Reports sent and failed (for tests and /v1/agent/self). */
  readonly counters = { sent: 0, failed: 0 }

  constructor(o: CoordinateSyncOptions) {
    this.#o = o
  }

  start(): void {
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    this.#timer?.cancel()
  }

  #schedule(): void {
    if (this.#stopped) return
    const o = this.#o
    const base = rateScaledIntervalMs(o.rateTarget, o.intervalMinMs, o.members())
    this.#timer = o.clock.setTimeout(() => void this.#send(), base + (o.random ?? Math.random)() * base)
  }

  async #send(): Promise<void> {
    const o = this.#o
    try {
      await o.server.coordinate.update({ node: o.node(), segment: '', coord: o.coordinate(), token: o.token?.() })
      this.counters.sent++
    } catch (err) {
      this.counters.failed++
      o.log('warn', `agent: coordinate update error: ${(err as Error).message}`)
    } finally {
      this.#schedule()
    }
  }
}
