/**
 * The driver's Transport over the simulator's faulty network (test/raft/core/sim-network.ts: drop,
 * duplicate, delay and so reorder, partitions), on the simulator's tick: a message sent in tick t is
 * due at t plus its delay, and the simulator delivers what is due after each round of work, so no
 * server is re-entered while it hands out a Ready. A dead incarnation sends nothing.
 */
import type { Message } from '../../../src/raft/core/types.js'
import type { Transport } from '../../../src/raft/types.js'
import { describeMessage, type SimNetwork } from '../../raft/core/sim-network.js'

export interface LinkHooks {
  now(): number
  reliable(): boolean
  /** False when the sender's incarnation is dead or drops this message (a fragile leader's). */
  admit(m: Message, owner: object): boolean
}

export class SimTransport {
  readonly #handlers = new Map<string, { handler: (m: unknown) => void; owner: object }>()

  constructor(readonly net: SimNetwork, readonly hooks: LinkHooks) {}

  /** The transport of one incarnation (`owner`) of server `id`. */
  connect(id: string, owner: object): Transport {
    return {
      send: (m: Message) => {
        if (m.from !== id || !this.hooks.admit(m, owner)) return
        this.net.send(m, this.hooks.now(), this.hooks.reliable())
      },
      onMessage: (handler) => void this.#handlers.set(id, { handler, owner }),
      close: () => {
        if (this.#handlers.get(id)?.owner === owner) this.#handlers.delete(id)
      },
    }
  }

  /** Delivers what is due now; returns how many were due. */
  deliver(trace: ((line: string) => void) | undefined): number {
    const due = this.net.due(this.hooks.now())
    for (const m of due) {
      const to = this.#handlers.get(m.to)
      trace?.(`${to ? '' : '(down) '}${describeMessage(m)}`)
      to?.handler(m)
    }
    return due.length
  }
}
