import { randomUUID } from 'node:crypto'
import { WatchRegistry, type WatchSet } from '../state/watch.js'

/** A user event as Consul returns it. */
export interface UserEvent {
  ID: string
  Name: string
  Payload: string | null
  NodeFilter: string
  ServiceFilter: string
  TagFilter: string
  Version: number
  LTime: number
}

/** Events kept per agent, as Consul (the newest 256). */
export const EVENT_BUFFER_SIZE = 256

/**
 * The agent's user events: fired here and delivered locally (gossip spreads them between
 * agents in a later version). An event is kept only when its node/service/tag filters match
 * this agent, as each Consul agent decides for itself.
 */
export class EventBuffer {
  readonly #events: UserEvent[] = []
  readonly #watches = new WatchRegistry()
  #ltime = 0

  constructor(
    private readonly nodeName: () => string,
    private readonly localServices: () => Array<{ Service: string; Tags: string[] }>,
  ) {}

  /** Creates an event; throws when a filter is not a valid regular expression. */
  fire(name: string, payload: Buffer | null, filters: { node?: string; service?: string; tag?: string }): UserEvent {
    const event: UserEvent = {
      ID: randomUUID(),
      Name: name,
      Payload: payload && payload.length ? payload.toString('base64') : null,
      NodeFilter: filters.node ?? '',
      ServiceFilter: filters.service ?? '',
      TagFilter: filters.tag ?? '',
      Version: 1,
      LTime: ++this.#ltime,
    }
    if (this.#matches(event)) {
      this.#events.push(event)
      if (this.#events.length > EVENT_BUFFER_SIZE) this.#events.shift()
      this.#watches.notify(['events'])
    }
    return event
  }

  /** Events with the given name (all when empty), oldest first, and the index Consul derives from the newest. */
  list(ws: WatchSet | undefined, name: string): { index: number; events: UserEvent[] } {
    ws?.key(this.#watches, 'events')
    const events = name ? this.#events.filter((e) => e.Name === name) : [...this.#events]
    const last = events.at(-1)
    return { index: last ? uuidToIndex(last.ID) : 0, events }
  }

  #matches(e: UserEvent): boolean {
    if (e.NodeFilter && !new RegExp(e.NodeFilter).test(this.nodeName())) return false
    if (e.ServiceFilter) {
      const re = new RegExp(e.ServiceFilter)
      const tagRe = e.TagFilter ? new RegExp(e.TagFilter) : undefined
      return this.localServices().some((s) => re.test(s.Service) && (!tagRe || s.Tags.some((t) => tagRe.test(t))))
    }
    return true
  }
}

/**
 * Consul turns the newest event's UUID into the list's index (the two 64-bit halves XORed).
 * We keep the top 52 bits so it stays an exact JavaScript number.
 */
export function uuidToIndex(id: string): number {
  const hex = id.replace(/-/g, '')
  const x = BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16, 32)}`)
  return Number(x >> 12n) || 1
}
