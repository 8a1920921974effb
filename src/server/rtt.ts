/**
 * `?near=` (Consul's rtt.go): results sorted by the estimated round trip from a source node, by the
 * coordinates in the replicated table. Coordinates of different datacenters do not compare, so a
 * source in another datacenter leaves the order as it is; so does a source with no coordinate;
 * nodes without one go last. The sort is stable: equal distances keep the catalog's order.
 */
import { distanceSeconds } from '../lib/coordinate.js'
import type { StateStore } from '../state/store.js'

/** Where a read comes from (Consul's structs.QuerySource): the node `?near` names, in its datacenter. */
export interface QuerySource {
  node: string
  datacenter: string
}

export function sortByDistance<T>(state: StateStore, datacenter: string, source: QuerySource | undefined, rows: T[], nodeOf: (row: T) => string): T[] {
  if (!source || source.node === '' || source.datacenter !== datacenter) return rows
  const from = state.coordinates.get(source.node)?.Coord
  if (!from) return rows
  const cache = new Map<string, number>()
  const distance = (node: string): number => {
    let d = cache.get(node)
    if (d === undefined) {
      const c = state.coordinates.get(node)?.Coord
      d = c && c.Vec.length === from.Vec.length ? distanceSeconds(from, c) : Infinity
      cache.set(node, d)
    }
    return d
  }
  return rows
    .map((row, i) => ({ row, i, d: distance(nodeOf(row)) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.row)
}
