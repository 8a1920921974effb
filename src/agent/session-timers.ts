import { encodeCommand } from '../state/commands.js'
import type { Consensus } from '../raft/types.js'
import type { StateStore } from '../state/store.js'
import { parseDurationMs } from '../lib/duration.js'

/** Consul invalidates a TTL session only after twice its TTL, to absorb clock skew and elections. */
export const SESSION_TTL_MULTIPLIER = 2

/**
 * The leader's session TTL timers: armed on create and renew, and for every session when
 * leadership starts; on expiry the session is destroyed through the log like any write.
 */
export class SessionTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  #stopped = false

  constructor(
    private readonly state: StateStore,
    private readonly raft: Consensus,
    private readonly log: (level: 'info' | 'warn', message: string) => void,
  ) {}

  /** Arms a timer for every TTL session in the state (on becoming leader). */
  armAll(): void {
    for (const s of this.state.sessions.list()) this.reset(s.ID)
  }

  /** (Re)starts the timer of a session; a session without TTL has none. */
  reset(id: string): void {
    if (this.#stopped) return
    this.clear(id)
    const session = this.state.sessions.get(id)
    if (!session || !session.TTL) return
    const ttlMs = parseDurationMs(session.TTL)
    if (ttlMs <= 0) return
    const timer = setTimeout(() => void this.#expire(id), ttlMs * SESSION_TTL_MULTIPLIER)
    timer.unref()
    this.#timers.set(id, timer)
  }

  clear(id: string): void {
    const t = this.#timers.get(id)
    if (t) clearTimeout(t)
    this.#timers.delete(id)
  }

  stop(): void {
    this.#stopped = true
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
  }

  async #expire(id: string): Promise<void> {
    this.#timers.delete(id)
    if (!this.state.sessions.get(id)) return
    this.log('info', `session: TTL of ${id} expired; invalidating`)
    try {
      await this.raft.apply(encodeCommand({ Type: 'session', Op: 'destroy', ID: id }))
    } catch (err) {
      this.log('warn', `session: could not invalidate ${id}: ${(err as Error).message}`)
    }
  }
}
