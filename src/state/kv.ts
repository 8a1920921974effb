import btree from 'sorted-btree'
import type { Uint64 } from '../lib/uint64.js'
import { LIMITS } from '../lib/limits.js'

const BTree = btree.default
type Tree<V> = InstanceType<typeof BTree<string, V>>

/** One KV entry, with Consul's field names so it serialises as a KVPair without copying. */
export interface DirEntry {
  readonly Key: string
  readonly Flags: Uint64
  readonly Value: Buffer | null
  readonly CreateIndex: number
  readonly ModifyIndex: number
  readonly LockIndex: number
  readonly Session?: string
}

/** The smallest string greater than every string that starts with `prefix`, or undefined for "". */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i)
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1)
  }
  return undefined
}

/**
 * The KV table: entries sorted by key, plus tombstones for deleted keys so a query's index
 * never goes backwards when rows disappear (Consul's tombstone GC, bounded by a count).
 * Mutations take the raft index and return the keys they changed, for the watch registry.
 * Cloning is O(1) (copy-on-write B+tree), which is what makes txn rollback and snapshots cheap.
 */
export class KvTable {
  entries: Tree<DirEntry> = new BTree<string, DirEntry>()
  tombstones: Tree<number> = new BTree<string, number>()
  /** Every reaped tombstone had an index at or below this, so results never report less. */
  tombstoneFloor = 0
  /** The table's index (Consul's "kvs" index): the last raft index that wrote or deleted a key. */
  index = 0

  get(key: string): DirEntry | undefined {
    return this.entries.get(key)
  }

  /** Entries whose key starts with `prefix`, in key order. */
  list(prefix: string): DirEntry[] {
    const out: DirEntry[] = []
    this.#forPrefix(this.entries, prefix, (_k, v) => void out.push(v))
    return out
  }

  /** Keys under `prefix`, collapsed at the first `separator` after the prefix (Consul's ?keys). */
  keys(prefix: string, separator: string): string[] {
    const out: string[] = []
    let last = ''
    this.#forPrefix(this.entries, prefix, (key) => {
      let k = key
      if (separator) {
        const at = key.indexOf(separator, prefix.length)
        if (at >= 0) k = key.slice(0, at + separator.length)
      }
      if (k !== last) out.push((last = k))
    })
    return out
  }

  /**
   * The index a read of exactly `key` reports: its ModifyIndex, or for a missing key the table's
   * index, as Consul's KVS.Get does (a client blocking on a key that does not exist yet then waits
   * from where the table is, not from 1).
   */
  keyIndex(key: string): number {
    const entry = this.entries.get(key)
    if (entry) return entry.ModifyIndex
    return Math.max(this.index, this.tombstoneFloor)
  }

  /** Recomputes the table's index from its rows (after a snapshot restore). */
  reindex(): void {
    let max = this.tombstoneFloor
    this.entries.forEach((v) => void (max = v.ModifyIndex > max ? v.ModifyIndex : max))
    this.tombstones.forEach((v) => void (max = v > max ? v : max))
    this.index = max
  }

  /** The index a read of the prefix reports: newest write or delete under it. */
  prefixIndex(prefix: string): number {
    return this.listWithIndex(prefix, false).index
  }

  /**
   * Entries under the prefix (when `collect`) and the prefix's index, in one pass over the range.
   * A prefix with nothing under it, live or deleted, reports the table's index, as Consul's KVS.List.
   */
  listWithIndex(prefix: string, collect = true): { index: number; entries: DirEntry[] } {
    let max = 0
    const entries: DirEntry[] = []
    this.#forPrefix(this.entries, prefix, (_k, v) => {
      if (v.ModifyIndex > max) max = v.ModifyIndex
      if (collect) entries.push(v)
    })
    this.#forPrefix(this.tombstones, prefix, (_k, v) => void (max = v > max ? v : max))
    return { index: Math.max(max === 0 ? this.index : max, this.tombstoneFloor), entries }
  }

  get size(): number {
    return this.entries.size
  }

  /** Writes an entry (set semantics): keeps CreateIndex, LockIndex and Session of an existing key. */
  set(index: number, key: string, value: Buffer | null, flags: Uint64): void {
    const existing = this.entries.get(key)
    this.#write(index, key, value, flags, existing, existing?.LockIndex ?? 0, existing?.Session)
  }

  /** Takes (or re-takes) the lock: a new holder bumps LockIndex, the same holder only writes. */
  lock(index: number, key: string, value: Buffer | null, flags: Uint64, session: string): void {
    const existing = this.entries.get(key)
    const newHolder = existing?.Session !== session
    this.#write(index, key, value, flags, existing, (existing?.LockIndex ?? 0) + (newHolder ? 1 : 0), session)
  }

  /** Releases the lock, writing the value; LockIndex stays as it is. */
  unlock(index: number, key: string, value: Buffer | null, flags: Uint64): void {
    const existing = this.entries.get(key)
    if (existing) this.#write(index, key, value, flags, existing, existing.LockIndex, undefined)
  }

  /** The one place an entry is built: entries are replaced, never changed in place (snapshots rely on it). */
  #write(index: number, key: string, value: Buffer | null, flags: Uint64, existing: DirEntry | undefined, lockIndex: number, session: string | undefined): void {
    this.entries.set(key, {
      Key: key,
      Flags: flags,
      Value: value,
      CreateIndex: existing ? existing.CreateIndex : index,
      ModifyIndex: index,
      LockIndex: lockIndex,
      ...(session ? { Session: session } : {}),
    })
    this.tombstones.delete(key)
    if (index > this.index) this.index = index
  }

  /** Check-and-set: 0 means "only if absent", otherwise the entry's ModifyIndex must match. */
  casMatches(key: string, modifyIndex: number): boolean {
    const existing = this.entries.get(key)
    if (modifyIndex === 0) return existing === undefined
    return existing !== undefined && existing.ModifyIndex === modifyIndex
  }

  /** Deletes one key; returns whether it existed. */
  delete(index: number, key: string): boolean {
    if (!this.entries.delete(key)) return false
    this.#tombstone(key, index)
    return true
  }

  /** Deletes every key under the prefix; returns the keys removed. */
  deleteTree(index: number, prefix: string): string[] {
    const removed: string[] = []
    this.#forPrefix(this.entries, prefix, (k) => void removed.push(k))
    for (const k of removed) {
      this.entries.delete(k)
      this.#tombstone(k, index)
    }
    return removed
  }

  /** A cheap copy sharing structure with this table; used to roll a txn back. */
  clone(): KvTable {
    const copy = new KvTable()
    copy.entries = this.entries.clone()
    copy.tombstones = this.tombstones.clone()
    copy.tombstoneFloor = this.tombstoneFloor
    copy.index = this.index
    return copy
  }

  #tombstone(key: string, index: number): void {
    this.tombstones.set(key, index)
    if (index > this.index) this.index = index
    if (this.tombstones.size > LIMITS.kvTombstonesMax) {
      // Deterministic reap (every replica does it at the same index): drop all, raise the floor.
      this.tombstones.forEach((v) => void (this.tombstoneFloor = Math.max(this.tombstoneFloor, v)))
      this.tombstones = new BTree<string, number>()
    }
  }

  #forPrefix<V>(tree: Tree<V>, prefix: string, visit: (key: string, value: V) => void): void {
    const end = prefixEnd(prefix)
    if (end === undefined) tree.forEach((v, k) => visit(k, v))
    else tree.forRange(prefix, end, false, (k, v) => visit(k, v))
  }
}
