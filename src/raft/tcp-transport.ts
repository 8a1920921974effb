/**
 * The raft Transport over server RPC (hashicorp/raft's NetworkTransport): each core message goes to
 * its `to` server as one one-way 'Raft.Message' (raft retries, so a drop is only counted). Server ids
 * are turned into `ip:port` through an address book the owner keeps current (setAddress, or a lookup
 * function such as the driver's own). The RpcServer is shared with the other endpoints: closing the
 * transport stops raft traffic, not the RpcServer.
 */
import type { Message } from './core/types.js'
import type { Transport } from './types.js'
import type { RpcServer } from '../rpc/server.js'

/** The RPC method raft messages travel as. WARNING: on the wire. */
export const RAFT_MESSAGE_METHOD = 'Raft.Message'

export interface TcpTransportOptions {
  rpc: RpcServer
  /** Addresses known at start, by server id. */
  addresses?: Iterable<readonly [string, string]>
  /** Asked for an id the book does not hold (for example the driver's configuration). */
  lookup?: (id: string) => string | undefined
}

export class TcpTransport implements Transport {
  readonly #rpc: RpcServer
  readonly #book = new Map<string, string>()
  readonly #lookup: ((id: string) => string | undefined) | undefined
  #handler: ((message: unknown) => void) | undefined
  #closed = false
  readonly #counts = { sent: 0, received: 0, dropped: 0, no_address: 0, wrong_sender: 0 }

  constructor(opts: TcpTransportOptions) {
    this.#rpc = opts.rpc
    this.#lookup = opts.lookup
    for (const [id, address] of opts.addresses ?? []) this.#book.set(id, address)
    this.#rpc.handle(RAFT_MESSAGE_METHOD, (body, ctx) => this.#receive(body, ctx.from), { serversOnly: true })
  }

  /** Where server `id` is reached; a changed address is used from the next message on. */
  setAddress(id: string, address: string): void {
    const old = this.#book.get(id)
    this.#book.set(id, address)
    if (old !== undefined && old !== address) this.#rpc.forget(old)
  }

  removeAddress(id: string): void {
    const old = this.#book.get(id)
    this.#book.delete(id)
    if (old !== undefined) this.#rpc.forget(old)
  }

  send(message: Message): void {
    if (this.#closed) return
    const address = this.#book.get(message.to) ?? this.#lookup?.(message.to)
    if (!address) {
      this.#counts.no_address++
      return
    }
    if (this.#rpc.send(address, RAFT_MESSAGE_METHOD, message)) this.#counts.sent++
    else this.#counts.dropped++
  }

  onMessage(handler: (message: unknown) => void): void {
    this.#handler = handler
  }

  close(): void {
    this.#closed = true
    this.#handler = undefined
  }

  /** Messages sent and received, and the ones dropped: no address for the id, the peer's buffer full or unreachable, a sender not matching the handshake. */
  stats(): Record<string, number> {
    return { ...this.#counts }
  }

  #receive(body: unknown, from: string): void {
    if (this.#closed || !this.#handler) return
    // A message claims a sender; the connection's handshake says who sent it. They must agree.
    if (typeof body !== 'object' || body === null || (body as { from?: unknown }).from !== from) {
      this.#counts.wrong_sender++
      return
    }
    this.#counts.received++
    this.#handler(ownBytes(body as Record<string, unknown>))
  }
}

/**
 * Decoded bytes are views into the frame they came in; the log keeps entries for long, so each gets
 * its own copy rather than pinning whole frames in memory.
 */
function ownBytes(m: Record<string, unknown>): unknown {
  if (m.type === 'append' && Array.isArray(m.entries)) {
    for (const e of m.entries as Array<Record<string, unknown>>) {
      if (typeof e === 'object' && e !== null && e.data instanceof Uint8Array) e.data = new Uint8Array(e.data)
    }
  } else if (m.type === 'snapshot' && m.data instanceof Uint8Array) {
    m.data = new Uint8Array(m.data)
  }
  return m
}
