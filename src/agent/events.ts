import { randomUUID } from 'node:crypto'
import { decode, encode } from '@msgpack/msgpack'
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

/** Event IDs remembered so one that comes back through gossip is not delivered twice. */
const SEEN_MAX = 4096

/**
 * The agent's user events: fired here and gossiped to every agent of the datacenter (serf's user
 * events), with a Lamport time. An event is kept only when its node/service/tag filters match
 * this agent, as each Consul agent decides for itself.
 */
export class EventBuffer {
  readonly #events: UserEvent[] = []
  readonly #watches = new WatchRegistry()
  readonly #seen = new Set<string>()
  #ltime = 0
  /** Sends a fired event to the other agents; throws (an HttpError) when it cannot be sent. */
  publish: ((e: UserEvent) => void) | undefined
  /** Sends an event to another datacenter's servers, which gossip it there. */
  relay: ((datacenter: string, e: UserEvent, token: string) => Promise<void>) | undefined

  constructor(
    private readonly nodeName: () => string,
    private readonly localServices: () => Array<{ Service: string; Tags: string[] }>,
  ) {}

  /** Creates an event; throws when a filter is not a valid regular expression. */
  fire(name: string, payload: Buffer | null, filters: { node?: string; service?: string; tag?: string }): UserEvent {
    const event = this.#make(name, payload, filters)
    this.publish?.(event)
    this.#ltime++
    this.#deliver(event)
    return event
  }

  /** An event for another datacenter's agents: handed to its servers; not kept here, as it is not this datacenter's. */
  async fireIn(datacenter: string, name: string, payload: Buffer | null, filters: { node?: string; service?: string; tag?: string }, token = ''): Promise<UserEvent> {
    const event = this.#make(name, payload, filters)
    if (!this.relay) throw new Error('this agent cannot reach other datacenters')
    await this.relay(datacenter, event, token)
    return event
  }

  #make(name: string, payload: Buffer | null, filters: { node?: string; service?: string; tag?: string }): UserEvent {
    return {
      ID: randomUUID(),
      Name: name,
      Payload: payload && payload.length ? payload.toString('base64') : null,
      NodeFilter: filters.node ?? '',
      ServiceFilter: filters.service ?? '',
      TagFilter: filters.tag ?? '',
      Version: 1,
      LTime: this.#ltime + 1,
    }
  }

  /** An event another agent fired, heard through gossip (again, possibly: delivered once). */
  receive(event: UserEvent): void {
    this.#ltime = Math.max(this.#ltime, event.LTime)
    this.#deliver(event)
  }

  #deliver(event: UserEvent): void {
    if (this.#seen.has(event.ID)) return
    this.#seen.add(event.ID)
    if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value!)
    let matches: boolean
    try {
      matches = this.#matches(event)
    } catch {
      // A filter another agent sent that is not a valid expression here matches nothing.
      matches = false
    }
    if (!matches) return
    this.#events.push(event)
    if (this.#events.length > EVENT_BUFFER_SIZE) this.#events.shift()
    this.#watches.notify(['events'])
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

/** The kind byte of a gossiped user message that is a user event. WARNING: on the wire. */
const USER_EVENT_KIND = 1

/** A user event as gossip carries it: a kind byte, then msgpack (the payload as bytes). */
export function encodeUserEvent(e: UserEvent): Uint8Array {
  const body = encode({ ...e, Payload: e.Payload === null ? null : Buffer.from(e.Payload, 'base64') })
  const out = new Uint8Array(body.byteLength + 1)
  out[0] = USER_EVENT_KIND
  out.set(body, 1)
  return out
}

/** The user event a gossiped message holds, or undefined for anything else (never throws). */
export function decodeUserEvent(data: Uint8Array): UserEvent | undefined {
  if (data[0] !== USER_EVENT_KIND) return undefined
  let v: Record<string, unknown>
  try {
    v = decode(data.subarray(1)) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const str = (k: string): boolean => typeof v[k] === 'string'
  if (!['ID', 'Name', 'NodeFilter', 'ServiceFilter', 'TagFilter'].every(str) || !Number.isSafeInteger(v.LTime) || !Number.isSafeInteger(v.Version)) return undefined
  if (v.Payload !== null && !(v.Payload instanceof Uint8Array)) return undefined
  const payload = v.Payload === null ? null : Buffer.from(v.Payload).toString('base64')
  return { ID: v.ID as string, Name: v.Name as string, Payload: payload, NodeFilter: v.NodeFilter as string, ServiceFilter: v.ServiceFilter as string, TagFilter: v.TagFilter as string, Version: v.Version as number, LTime: v.LTime as number }
}
