/**
 * Serf's network coordinates over the gossip probes: this member's Vivaldi coordinate rides on
 * every ack it sends; the round trip of each direct probe, with the coordinate the target
 * attached, moves it; the last coordinate heard from each member is kept (serf's coordinate
 * cache), this member's own included. Pure: the driver and the simulator feed it the node's
 * `ping-complete` outputs and put `payload` on the node.
 */
import { decode, encode } from '@msgpack/msgpack'
import { CoordinateError, isValidCoordinate, VivaldiClient, type Coordinate, type VivaldiConfig } from '../lib/coordinate.js'

export interface CoordinateCounters {
  updates: number
  /** Acks without a usable coordinate, or round trips the client refused. */
  rejected: number
}

export class CoordinateTracker {
  readonly #client: VivaldiClient
  readonly #cache = new Map<string, Coordinate>()
  readonly counters: CoordinateCounters = { updates: 0, rejected: 0 }
  #payload: Uint8Array

  constructor(
    readonly self: string,
    random: () => number,
    config?: Readonly<VivaldiConfig>,
  ) {
    this.#client = new VivaldiClient(config, random)
    this.#payload = this.#own()
  }

  /** What to attach to this member's acks. */
  get payload(): Uint8Array {
    return this.#payload
  }

  coordinate(): Coordinate {
    return this.#client.coordinate()
  }

  /** The last coordinate heard from `node` (this member's own for itself). */
  get(node: string): Coordinate | undefined {
    const c = this.#cache.get(node)
    return c && { ...c, Vec: [...c.Vec] }
  }

  /** Every member's last coordinate, this one's included. */
  entries(): Array<[string, Coordinate]> {
    return [...this.#cache].map(([n, c]) => [n, { ...c, Vec: [...c.Vec] }])
  }

  /** A direct probe's round trip and what its target attached; false when nothing could be learnt. */
  pingComplete(node: string, rttMs: number, payload: Uint8Array | undefined): boolean {
    const other = decodeCoordinate(payload)
    if (!other) {
      this.counters.rejected++
      return false
    }
    try {
      this.#client.update(node, other, rttMs / 1000)
    } catch (err) {
      if (!(err instanceof CoordinateError)) throw err
      this.counters.rejected++
      return false
    }
    this.counters.updates++
    this.#cache.set(node, other)
    this.#payload = this.#own()
    return true
  }

  /** A member that left or was reaped. */
  forget(node: string): void {
    if (node === this.self) return
    this.#client.forget(node)
    this.#cache.delete(node)
  }

  #own(): Uint8Array {
    const c = this.#client.coordinate()
    this.#cache.set(this.self, c)
    return encode(c)
  }
}

/** A coordinate from an ack's payload, or undefined for anything else (never throws). */
export function decodeCoordinate(payload: Uint8Array | undefined): Coordinate | undefined {
  if (!payload) return undefined
  let value: unknown
  try {
    value = decode(payload)
  } catch {
    return undefined
  }
  return isValidCoordinate(value) ? { Vec: [...value.Vec], Error: value.Error, Adjustment: value.Adjustment, Height: value.Height } : undefined
}
