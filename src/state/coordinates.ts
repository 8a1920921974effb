/**
 * The coordinates table (Consul's state store `coordinates`): each node's last network coordinate
 * as its agent reported it, replicated so every server sorts by distance the same way. A node's
 * coordinate goes with the node when it is deregistered; an update for a node the catalog does
 * not have is dropped, as Consul drops it.
 */
import type { Coordinate } from '../lib/coordinate.js'

export interface CoordinateEntry {
  Node: string
  /** Network segments are Consul Enterprise's; always "" here. */
  Segment: string
  Coord: Coordinate
}

export class CoordinateTable {
  readonly entries = new Map<string, CoordinateEntry>()
  /** Index of the last change to the table. */
  index = 0

  get(node: string): CoordinateEntry | undefined {
    return this.entries.get(node)
  }

  /** Every entry, by node name. */
  list(): CoordinateEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0))
  }

  /** Applies a batch; `known` says which nodes the catalog has. Answers whether anything changed. */
  batch(index: number, updates: readonly CoordinateEntry[], known: (node: string) => boolean): boolean {
    let changed = false
    for (const u of updates) {
      if (!known(u.Node)) continue
      this.entries.set(u.Node, { Node: u.Node, Segment: u.Segment ?? '', Coord: u.Coord })
      changed = true
    }
    if (changed) this.index = index
    return changed
  }

  delete(index: number, node: string): boolean {
    if (!this.entries.delete(node)) return false
    this.index = index
    return true
  }

  dump(): { records: CoordinateEntry[]; index: number } {
    return { records: this.list(), index: this.index }
  }

  static fromDump(d: { records: CoordinateEntry[]; index: number } | undefined): CoordinateTable {
    const t = new CoordinateTable()
    for (const r of d?.records ?? []) t.entries.set(r.Node, r)
    t.index = d?.index ?? 0
    return t
  }
}
