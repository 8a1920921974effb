/**
 * Watches for blocking queries, in the shape of go-memdb's WatchSet: a query registers
 * interest in exact keys and key prefixes while it reads; a write fires every watch whose
 * key equals, or whose prefix starts, a changed key. Firing is one-shot. A waiting query
 * costs one entry per watched key and one timer: memory, not CPU.
 */

import { systemClock, type Clock } from '../lib/clock.js'

type Waker = () => void

class WakerIndex {
  readonly #byKey = new Map<string, Set<Waker>>()

  add(key: string, waker: Waker): () => void {
    let set = this.#byKey.get(key)
    if (!set) this.#byKey.set(key, (set = new Set()))
    set.add(waker)
    return () => {
      set.delete(waker)
      if (set.size === 0 && this.#byKey.get(key) === set) this.#byKey.delete(key)
    }
  }

  collect(key: string, into: Set<Waker>): void {
    const set = this.#byKey.get(key)
    if (set) for (const w of set) into.add(w)
  }

  collectAll(into: Set<Waker>): void {
    for (const set of this.#byKey.values()) for (const w of set) into.add(w)
  }

  get size(): number {
    return this.#byKey.size
  }
}

/** Where watches live; one per watched table family (KV, catalog, ...). */
export class WatchRegistry {
  readonly #exact = new WakerIndex()
  readonly #prefix = new WakerIndex()
  readonly #all = new Set<Waker>()

  watchKey(key: string, waker: Waker): () => void {
    return this.#exact.add(key, waker)
  }

  watchPrefix(prefix: string, waker: Waker): () => void {
    return this.#prefix.add(prefix, waker)
  }

  /** Fires on any change in this registry (coarse watches such as a table index). */
  watchAll(waker: Waker): () => void {
    this.#all.add(waker)
    return () => this.#all.delete(waker)
  }

  /** Fires the watches that cover any of the changed keys. */
  notify(changedKeys: Iterable<string>): void {
    const fire = new Set<Waker>(this.#all)
    for (const key of changedKeys) {
      this.#exact.collect(key, fire)
      if (this.#prefix.size > 0) for (let i = 0; i <= key.length; i++) this.#prefix.collect(key.slice(0, i), fire)
    }
    for (const w of fire) w()
  }

  /** Fires every watch: used when the whole state is replaced (snapshot restore). */
  abandon(): void {
    const fire = new Set<Waker>(this.#all)
    this.#exact.collectAll(fire)
    this.#prefix.collectAll(fire)
    for (const w of fire) w()
  }
}

export type WaitOutcome = 'changed' | 'timeout' | 'aborted'

/** The set of watches one query run registers; `wait` resolves on the first to fire, or at its timeout on `clock`. */
export class WatchSet {
  readonly #clock: Clock
  readonly #cancels: Array<() => void> = []
  #fired = false
  #resolve: ((outcome: WaitOutcome) => void) | undefined
  readonly #waker: Waker = () => this.#finish('changed')

  constructor(clock: Clock = systemClock) {
    this.#clock = clock
  }

  key(registry: WatchRegistry, key: string): void {
    this.#cancels.push(registry.watchKey(key, this.#waker))
  }

  prefix(registry: WatchRegistry, prefix: string): void {
    this.#cancels.push(registry.watchPrefix(prefix, this.#waker))
  }

  all(registry: WatchRegistry): void {
    this.#cancels.push(registry.watchAll(this.#waker))
  }

  /** Waits until a watch fires, `timeoutMs` passes, or `signal` aborts; always unregisters. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (this.#fired) {
      this.#release()
      return Promise.resolve('changed')
    }
    if (signal?.aborted) {
      this.#release()
      return Promise.resolve('aborted')
    }
    return new Promise<WaitOutcome>((resolve) => {
      const timer = this.#clock.setTimeout(() => this.#finish('timeout'), Math.max(0, timeoutMs))
      const onAbort = (): void => this.#finish('aborted')
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#resolve = (outcome) => {
        timer.cancel()
        signal?.removeEventListener('abort', onAbort)
        resolve(outcome)
      }
    })
  }

  #finish(outcome: WaitOutcome): void {
    if (this.#fired) return
    this.#fired = true
    this.#release()
    const resolve = this.#resolve
    this.#resolve = undefined
    resolve?.(outcome)
  }

  #release(): void {
    for (const cancel of this.#cancels.splice(0)) cancel()
  }
}
