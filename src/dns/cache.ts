/**
 * The answer cache: a question's resolved records, kept until the catalog changes. Every
 * catalog write clears it (through `WatchRegistry.watchAll`), so an answer is never staler
 * than the local state, and a busy DNS load costs a map lookup per query instead of a walk
 * over the catalog. A full cache starts over rather than evicting one by one: random names
 * (a scan, a fuzzer) must not grow it, and a clear is what the next write does anyway.
 */
import type { WatchRegistry } from '../state/watch.js'
import { DNS_LIMITS } from './limits.js'

export class AnswerCache<V> {
  readonly #entries = new Map<string, V>()
  readonly #max: number
  /** Counters for tests and /v1/agent/self: how often a query was answered without a lookup. */
  hits = 0
  misses = 0

  constructor(max: number = DNS_LIMITS.cacheEntries) {
    this.#max = max
  }

  get size(): number {
    return this.#entries.size
  }

  /** The cached value for `key`, computing and storing it on a miss. */
  get(key: string, compute: () => V): V {
    const hit = this.peek(key)
    if (hit !== undefined) return hit
    const value = compute()
    this.put(key, value)
    return value
  }

  /** The cached value for `key`, or undefined (counted as a miss). */
  peek(key: string): V | undefined {
    const hit = this.#entries.get(key)
    if (hit !== undefined) this.hits++
    else this.misses++
    return hit
  }

  put(key: string, value: V): void {
    if (this.#entries.size >= this.#max) this.#entries.clear()
    this.#entries.set(key, value)
  }

  clear(): void {
    this.#entries.clear()
  }

  /** Calls `onChange` (and clears) on every change in `registry`; returns the unsubscribe. */
  attach(registry: WatchRegistry, onChange: () => void = () => this.clear()): () => void {
    return registry.watchAll(onChange)
  }
}
