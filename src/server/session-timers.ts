/**
 * The leader's session TTL timers (Consul's agent/consul/session_ttl.go): armed for every TTL
 * session when leadership starts, on create and on renew; cleared on destroy and when
 * leadership ends. On expiry the session is destroyed through the log like any write.
 */
import type { Clock, Timer } from '../lib/clock.js'
import { parseDurationMs } from '../lib/duration.js'
import type { StateStore } from '../state/store.js'
import type { LeaderDuty } from './leader.js'

/** Consul invalidates a TTL session only after twice its TTL, to absorb clock skew and elections. */
export const SESSION_TTL_MULTIPLIER = 2

export interface SessionTimersOptions {
  state: StateStore
  clock: Clock
  /** Destroys an expired session (through the log). */
  destroy: (id: string) => Promise<unknown>
  log: (level: 'info' | 'warn', message: string) => void
}

export class SessionTimers implements LeaderDuty {
  readonly name = 'session TTL timers'
  readonly #o: SessionTimersOptions
  readonly #timers = new Map<string, Timer>()
  #active = false

  constructor(opts: SessionTimersOptions) {
    this.#o = opts
  }

  /** Timers running (for tests and stats). */
  get size(): number {
    return this.#timers.size
  }

  /** Leadership starts: a timer for every TTL session in the state. */
  establish(): void {
    this.#active = true
    for (const s of this.#o.state.sessions.list()) this.reset(s.ID)
  }

  /** The whole state was replaced (a snapshot restore): timers for the sessions it has now. */
  restored(): void {
    if (!this.#active) return
    this.revoke()
    this.establish()
  }

  /** Leadership ends: the next leader runs the timers. */
  revoke(): void {
    this.#active = false
    for (const t of this.#timers.values()) t.cancel()
    this.#timers.clear()
  }

  /** (Re)starts the timer of a session; a session without TTL has none, and only the leader keeps timers. */
  reset(id: string): void {
    if (!this.#active) return
    this.clear(id)
    const session = this.#o.state.sessions.get(id)
    if (!session || !session.TTL) return
    const ttlMs = parseDurationMs(session.TTL)
    if (ttlMs <= 0) return
    this.#timers.set(
      id,
      this.#o.clock.setTimeout(() => void this.#expire(id), ttlMs * SESSION_TTL_MULTIPLIER),
    )
  }

  clear(id: string): void {
    this.#timers.get(id)?.cancel()
    this.#timers.delete(id)
  }

  async #expire(id: string): Promise<void> {
    this.#timers.delete(id)
    if (!this.#active || !this.#o.state.sessions.get(id)) return
    this.#o.log('info', `session: TTL of ${id} expired; invalidating`)
    try {
      await this.#o.destroy(id)
    } catch (err) {
      this.#o.log('warn', `session: could not invalidate ${id}: ${(err as Error).message}`)
    }
  }
}
