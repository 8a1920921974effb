/**
 * Time as a dependency (VS Code's timeTravelScheduler, TigerBeetle's injected time): raft, watches,
 * blocking queries, session timers and anti-entropy take a Clock, so a simulation can run several
 * agents in one process on virtual time. Real timers are unref'd: they never keep a process alive
 * on their own (listening sockets and pending storage writes do).
 */
export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds on a monotonic-enough scale; only differences are meaningful. */
  now(): number
  setTimeout(fn: () => void, ms: number): Timer
  setInterval(fn: () => void, ms: number): Timer
  /** Runs `fn` after the current work and what is already queued for this turn (setImmediate). */
  defer(fn: () => void): void
}

/** The process's own clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref()
    return { cancel: () => clearTimeout(t) }
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms)
    t.unref()
    return { cancel: () => clearInterval(t) }
  },
  defer(fn) {
    setImmediate(fn)
  },
}

interface VirtualTimer { at: number; seq: number; fn: () => void; every: number; live: boolean }

/**
 * A clock that moves only when told to: timers run in due order (ties in the order they were
 * set) as `advance` passes their time; deferred work runs at the current time, before any timer.
 */
export class VirtualClock implements Clock {
  #now: number
  #seq = 0
  #timers: VirtualTimer[] = []
  #deferred: Array<() => void> = []

  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, 0)
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, Math.max(1, ms))
  }

  defer(fn: () => void): void {
    this.#deferred.push(fn)
  }

  /** Runs deferred work until there is none (work may defer more). Returns how many ran. */
  runDeferred(limit = 1_000_000): number {
    let n = 0
    while (this.#deferred.length > 0) {
      if (++n > limit) throw new Error('VirtualClock: deferred work does not settle')
      this.#deferred.shift()!()
    }
    return n
  }

  /** Moves time forward by `ms`, running deferred work and every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.#now + Math.max(0, ms)
    this.runDeferred()
    for (;;) {
      const next = this.#next()
      if (!next || next.at > until) break
      this.#now = next.at
      if (next.every > 0) next.at += next.every
      else next.live = false
      next.fn()
      this.runDeferred()
    }
    this.#timers = this.#timers.filter((t) => t.live)
    this.#now = until
  }

  /** Timers still pending (for tests). */
  pending(): number {
    return this.#timers.filter((t) => t.live).length
  }

  #add(fn: () => void, ms: number, every: number): Timer {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, every, live: true }
    this.#timers.push(timer)
    return { cancel: () => (timer.live = false) }
  }

  #next(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined
    for (const t of this.#timers) {
      if (t.live && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t
    }
    return best
  }
}
