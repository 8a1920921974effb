/**
 * Coordinate.* (Consul's coordinate_endpoint.go): agents report their LAN coordinate now and
 * then; the leader gathers the reports and writes them in batches (one raft entry per period,
 * not one per agent); reads serve the replicated table. ListDatacenters answers from the WAN
 * pool's coordinates of the servers, which are not replicated: each server has its own view.
 */
import { isValidCoordinate, type Coordinate } from '../lib/coordinate.js'
import type { Timer } from '../lib/clock.js'
import type { CoordinateEntry } from '../state/coordinates.js'
import type { EndpointCore } from './core.js'
import { RejectedError } from './errors.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

export interface CoordinateUpdateRequest extends WriteOptions {
  node: string
  segment?: string
  coord: Coordinate
}

export interface CoordinateNodeRequest extends QueryOptions {
  node: string
}

/** One datacenter's servers and their WAN coordinates (node names without the `.dc` suffix). */
export interface DatacenterMap {
  Datacenter: string
  AreaID: string
  Coordinates: Array<{ Node: string; Coord: Coordinate }>
}

/** Consul's consul.coordinate settings (the leader's batching). */
export interface CoordinateBatching {
  updatePeriodMs: number
  batchSize: number
  maxBatches: number
}

export const DEFAULT_BATCHING: CoordinateBatching = { updatePeriodMs: 5000, batchSize: 128, maxBatches: 5 }

export class CoordinateEndpoint {
  readonly #pending = new Map<string, CoordinateEntry>()
  #flushTimer: Timer | undefined

  constructor(
    readonly core: EndpointCore,
    readonly batching: CoordinateBatching = DEFAULT_BATCHING,
    /** This server's WAN view (none without a WAN pool: just this datacenter, no coordinates). */
    readonly wan: () => DatacenterMap[] = () => [],
  ) {}

  /** Queued on the leader and written with the next batch; a report beyond the batches' room is refused. */
  async update(req: CoordinateUpdateRequest): Promise<WriteReply<true>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    if (!isValidCoordinate(req.coord)) throw new RejectedError('rejected', `rejected bad coordinate: ${JSON.stringify(req.coord)}`)
    if (typeof req.node !== 'string' || req.node === '') throw new RejectedError('rejected', 'Must provide node')
    const forwarded = core.forwardUnlessLeader<WriteReply<true>>('Coordinate.Update', req)
    if (forwarded) return forwarded
    core.acl.authorize(req.token, 'node', req.node, 'write')
    const limit = this.batching.batchSize * this.batching.maxBatches
    if (!this.#pending.has(req.node) && this.#pending.size >= limit) {
      throw new RejectedError('rejected', 'Coordinate update rate limit exceeded, increase SyncCoordinateRateTarget')
    }
    this.#pending.set(req.node, { Node: req.node, Segment: req.segment ?? '', Coord: req.coord })
    this.#flushTimer ??= core.clock.setTimeout(() => void this.#flush(), this.batching.updatePeriodMs)
    return { index: core.state.lastIndex, value: true }
  }

  listNodes(req: QueryOptions, call?: CallContext): Promise<QueryReply<CoordinateEntry[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      state.watchCatalog(ws, 'coordinates')
      const { items, filtered } = who ? acl.filter(who, 'node', state.coordinates.list(), (c) => c.Node) : { items: state.coordinates.list(), filtered: false }
      return { index: state.coordinates.index, value: items, filtered }
    })
  }

  node(req: CoordinateNodeRequest, call?: CallContext): Promise<QueryReply<CoordinateEntry[]>> {
    const { state, acl } = this.core
    return this.core.read(req, call, (ws) => {
      acl.authorize(req.token, 'node', req.node, 'read')
      state.watchCatalog(ws, 'coordinates')
      const entry = state.coordinates.get(req.node)
      return { index: state.coordinates.index, value: entry ? [entry] : [] }
    })
  }

  /** Every datacenter the WAN pool knows with its servers' coordinates (this server's own view). */
  async listDatacenters(_req: object): Promise<DatacenterMap[]> {
    const maps = this.wan()
    return maps.length ? maps : [{ Datacenter: this.core.datacenter, AreaID: 'WAN', Coordinates: [] }]
  }

  /** Writes what was gathered, a batch per raft entry; lost with leadership, as Consul loses it. */
  async #flush(): Promise<void> {
    this.#flushTimer = undefined
    const updates = [...this.#pending.values()]
    this.#pending.clear()
    const { batchSize } = this.batching
    for (let at = 0; at < updates.length; at += batchSize) {
      try {
        await this.core.apply({ Type: 'coordinates', Updates: updates.slice(at, at + batchSize) })
      } catch (err) {
        this.core.log('warn', `consul.coordinate: batch update failed: ${(err as Error).message}`)
        return
      }
    }
  }
}
