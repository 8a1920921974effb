/**
 * An in-process network for raft servers (hashicorp/raft's InmemTransport): the single-server
 * agent, tests and benchmarks. Messages are delivered on the clock's next turn, never inside
 * `send`, so a server is not re-entered while it hands out a Ready. Links can be cut and healed.
 */
import type { Message } from './core/types.js'
import type { Transport } from './types.js'
import { systemClock, type Clock } from '../lib/clock.js'

export class InMemoryNetwork {
  readonly #handlers = new Map<string, (message: unknown) => void>()
  readonly #cut = new Set<string>()
  readonly #clock: Clock
  /** Messages dropped because the link was cut or nobody listened (for tests). */
  dropped = 0

  constructor(clock: Clock = systemClock) {
    this.#clock = clock
  }

  /** The transport of server `id` on this network. */
  connect(id: string): Transport {
    return {
      send: (m: Message) => this.#deliver(id, m),
      onMessage: (handler) => void this.#handlers.set(id, handler),
      close: () => void this.#handlers.delete(id),
    }
  }

  /** Cuts the link between `a` and `b`, both ways. */
  disconnect(a: string, b: string): void {
    this.#cut.add(`${a}\u0000${b}`).add(`${b}\u0000${a}`)
  }

  /** Cuts every link of `id`. */
  isolate(id: string, others: readonly string[]): void {
    for (const o of others) if (o !== id) this.disconnect(id, o)
  }

  heal(): void {
    this.#cut.clear()
  }

  /** Delivers anything at all to `to`, as a broken or hostile peer could put it on a socket. */
  inject(to: string, raw: unknown): void {
    this.#clock.defer(() => this.#handlers.get(to)?.(raw))
  }

  #deliver(from: string, m: Message): void {
    if (typeof m !== 'object' || m === null || m.from !== from || this.#cut.has(`${from}\u0000${m.to}`)) {
      this.dropped++
      return
    }
    this.#clock.defer(() => {
      const handler = this.#handlers.get(m.to)
      if (handler && !this.#cut.has(`${from}\u0000${m.to}`)) handler(m)
      else this.dropped++
    })
  }
}
