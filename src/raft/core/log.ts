import type { Entry } from './types.js'

/** Bytes an entry counts for in batching limits: its data plus a fixed header allowance. */
export function entryBytes(e: Entry): number {
  return e.data.byteLength + 24
}

/**
 * Reads entries back from stable storage, synchronously (etcd raft's Storage.Entries): the log
 * keeps only a recent tail in memory. Entries in [lo, hi), stopping once `maxBytes` is passed
 * (at least one); fewer, or none, when storage no longer has them.
 */
export type EntryReader = (lo: number, hi: number, maxBytes: number) => Entry[]

/**
 * The raft log: a snapshot boundary (`snapshotIndex`/`snapshotTerm`) followed by contiguous
 * entries. Entries up to `stableIndex` are on the caller's storage; the rest are unstable (to
 * hand out in the next Ready). With a `reader`, entries both stable and applied are dropped from
 * memory beyond the last `cacheEntries` of them and read back when a slow follower needs them,
 * so memory does not grow with the writes between two snapshots; their terms stay in memory as
 * runs. Invariants: entries[i].index === memFirst + i, terms never decrease along the log,
 * snapshotIndex <= applied <= committed <= lastIndex(), memFirst - 1 <= min(applied, stableIndex).
 */
export class RaftLog {
  #snapshotIndex: number
  #snapshotTerm: number
  /** Entries from #memFirst to the last index. */
  #entries: Entry[]
  #memFirst: number
  /** Term runs over (snapshotIndex, lastIndex]: run k starts at #runStart[k] with #runTerm[k]. */
  #runStart: number[] = []
  #runTerm: number[] = []
  #stableIndex: number
  readonly #reader: EntryReader | undefined
  readonly #cacheEntries: number
  committed: number
  applied: number

  constructor(opts: { snapshotIndex?: number; snapshotTerm?: number; entries?: Entry[]; committed?: number; applied?: number; reader?: EntryReader; cacheEntries?: number } = {}) {
    this.#snapshotIndex = opts.snapshotIndex ?? 0
    this.#snapshotTerm = opts.snapshotTerm ?? 0
    this.#memFirst = this.#snapshotIndex + 1
    this.#entries = [...(opts.entries ?? [])]
    this.#reader = opts.reader
    this.#cacheEntries = Math.max(1, opts.cacheEntries ?? 4096)
    for (let i = 0; i < this.#entries.length; i++) {
      if (this.#entries[i].index !== this.#snapshotIndex + 1 + i) throw new Error('raft log: entries are not contiguous after the snapshot')
      this.#addRun(this.#entries[i])
    }
    this.#stableIndex = this.lastIndex()
    this.committed = Math.min(Math.max(opts.committed ?? 0, this.#snapshotIndex), this.lastIndex())
    this.applied = Math.max(opts.applied ?? this.#snapshotIndex, this.#snapshotIndex)
    if (this.applied > this.committed) this.applied = this.committed
  }

  /** Entries held in memory (for stats and tests). */
  get entriesInMemory(): number { return this.#entries.length }

  get snapshotIndex(): number { return this.#snapshotIndex }
  get snapshotTerm(): number { return this.#snapshotTerm }
  /** The first index still held as an entry (the one after the snapshot). */
  firstIndex(): number { return this.#snapshotIndex + 1 }
  lastIndex(): number { return this.#memFirst - 1 + this.#entries.length }
  lastTerm(): number { return this.term(this.lastIndex()) ?? 0 }
  stableIndex(): number { return this.#stableIndex }

  /** The term at `index`; undefined when compacted away (below the snapshot) or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.#snapshotIndex) return this.#snapshotTerm
    if (index < this.#snapshotIndex || index > this.lastIndex()) return undefined
    if (index >= this.#memFirst) return this.#entries[index - this.#memFirst].term
    // Below the cache: the last run starting at or before `index`.
    let lo = 0
    let hi = this.#runStart.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.#runStart[mid] <= index) lo = mid
      else hi = mid - 1
    }
    return this.#runTerm[lo]
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  entry(index: number): Entry | undefined {
    if (index <= this.#snapshotIndex || index > this.lastIndex()) return undefined
    if (index >= this.#memFirst) return this.#entries[index - this.#memFirst]
    return this.slice(index, index + 1)?.[0]
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm()
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex())
  }

  /**
   * Entries in [lo, hi), stopping once `maxBytes` is passed (at least one entry is returned when any
   * is available). Undefined when `lo` is compacted, or below the cache and storage cannot give
   * it back (the caller then sends a snapshot, as for a compacted index).
   */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo <= this.#snapshotIndex) return undefined
    const end = Math.min(hi, this.lastIndex() + 1)
    const out: Entry[] = []
    let bytes = 0
    if (lo < this.#memFirst && lo < end) {
      const stored = this.#readStored(lo, Math.min(end, this.#memFirst), maxBytes)
      if (stored === undefined) return undefined
      for (const e of stored) bytes += entryBytes(e)
      if (stored.length < Math.min(end, this.#memFirst) - lo) return stored
      out.push(...stored)
      lo = this.#memFirst
    }
    for (let i = lo; i < end; i++) {
      const e = this.#entries[i - this.#memFirst]
      bytes += entryBytes(e)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  /** Appends entries that follow the last one (the leader's own proposals). */
  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.lastIndex() + 1) throw new Error(`raft log: append at ${e.index} after ${this.lastIndex()}`)
      this.#entries.push(e)
      this.#addRun(e)
    }
  }

  /**
   * The follower's side of AppendEntries (Raft §5.3): if the entry at prevIndex has prevTerm, drop
   * any conflicting suffix, add what is new, and return the last index the leader's message vouches
   * for; otherwise undefined and nothing changes. Committed entries are never truncated: a conflict
   * at or below `committed` means a broken leader and is refused.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNew = prevIndex + entries.length
    for (const e of entries) {
      if (e.index <= this.#snapshotIndex) continue // already covered by our snapshot
      const t = this.term(e.index)
      if (t === e.term) continue
      if (t !== undefined) {
        if (e.index <= this.committed) return undefined
        this.truncateFrom(e.index)
      }
      this.#entries.push(e)
      this.#addRun(e)
    }
    return lastNew
  }

  /** Drops entries at and after `index` (a conflicting suffix). */
  truncateFrom(index: number): void {
    if (index <= this.#snapshotIndex || index > this.lastIndex()) return
    // Only applied entries leave memory, and applied entries are committed: never truncated.
    if (index < this.#memFirst) throw new Error(`raft log: truncate at ${index} below the cache (${this.#memFirst})`)
    this.#entries.length = index - this.#memFirst
    while (this.#runStart.length > 0 && this.#runStart.at(-1)! >= index) {
      this.#runStart.pop()
      this.#runTerm.pop()
    }
    if (this.#stableIndex >= index) this.#stableIndex = index - 1
  }

  /** Entries not yet handed to storage. */
  unstableEntries(): Entry[] {
    return this.#entries.slice(this.#stableIndex + 1 - this.#memFirst)
  }

  /** Storage has persisted up to (index, term); ignored if the log changed under it since. */
  stableTo(index: number, term: number): void {
    if (index <= this.#stableIndex) return
    if (this.term(index) !== term) return
    this.#stableIndex = index
    this.#evict()
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false
    if (index > this.lastIndex()) throw new Error(`raft log: commit ${index} beyond last index ${this.lastIndex()}`)
    this.committed = index
    return true
  }

  appliedTo(index: number): void {
    if (index > this.committed || index < this.applied) return
    this.applied = index
    this.#evict()
  }

  /** Committed entries after `from` (default: applied), bounded by bytes. */
  committedAfter(from: number, maxBytes: number): Entry[] {
    return this.slice(Math.max(from, this.#snapshotIndex) + 1, this.committed + 1, maxBytes) ?? []
  }

  /**
   * Forgets entries at and below `index` (a snapshot there exists); keeps the boundary term.
   * Refused above applied: an entry is only compacted once the state machine has it.
   */
  compact(index: number): boolean {
    if (index <= this.#snapshotIndex || index > this.applied) return false
    const t = this.term(index)!
    if (index >= this.#memFirst) {
      this.#entries = this.#entries.slice(index + 1 - this.#memFirst)
      this.#memFirst = index + 1
    }
    this.#snapshotIndex = index
    this.#snapshotTerm = t
    this.#dropRunsThrough(index)
    return true
  }

  /** Replaces the log by a snapshot's boundary (InstallSnapshot); keeps a matching suffix. */
  restore(index: number, term: number): void {
    if (this.matchTerm(index, term)) {
      if (index >= this.#memFirst) {
        this.#entries = this.#entries.slice(index + 1 - this.#memFirst)
        this.#memFirst = index + 1
      }
      this.#dropRunsThrough(index)
    } else {
      this.#entries = []
      this.#memFirst = index + 1
      this.#runStart = []
      this.#runTerm = []
    }
    this.#snapshotIndex = index
    this.#snapshotTerm = term
    this.#stableIndex = Math.max(index, Math.min(this.#stableIndex, this.lastIndex()))
    if (this.#entries.length === 0) this.#stableIndex = index
    this.committed = Math.max(this.committed, index)
    this.applied = Math.max(this.applied, index)
  }

  /**
   * For a rejected append: the largest index <= `index` whose term is <= `term` (etcd's
   * findConflictByTerm), so a leader can skip a whole term of conflicting entries in one round.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex())
    while (i > this.#snapshotIndex) {
      const t = this.term(i)!
      if (t <= term) return { index: i, term: t }
      i--
    }
    return { index: this.#snapshotIndex, term: this.#snapshotTerm }
  }

  #addRun(e: Entry): void {
    if (this.#runTerm.length === 0 || this.#runTerm.at(-1) !== e.term) {
      this.#runStart.push(e.index)
      this.#runTerm.push(e.term)
    }
  }

  /** Forgets runs wholly at or below `index`; the one that spans it stays. */
  #dropRunsThrough(index: number): void {
    let k = 0
    while (k + 1 < this.#runStart.length && this.#runStart[k + 1] <= index + 1) k++
    if (k > 0) {
      this.#runStart.splice(0, k)
      this.#runTerm.splice(0, k)
    }
  }

  /** Drops stable, applied entries beyond the cache from memory, a batch at a time. */
  #evict(): void {
    if (this.#reader === undefined || this.#entries.length < 2 * this.#cacheEntries) return
    const through = Math.min(this.applied, this.#stableIndex) - this.#cacheEntries
    if (through < this.#memFirst) return
    this.#entries = this.#entries.slice(through + 1 - this.#memFirst)
    this.#memFirst = through + 1
  }

  /** Entries below the cache from storage, checked against the terms we hold; undefined when it cannot give them. */
  #readStored(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (this.#reader === undefined) return undefined
    let got: Entry[]
    try {
      got = this.#reader(lo, hi, maxBytes)
    } catch {
      return undefined
    }
    if (got.length === 0) return undefined
    for (let i = 0; i < got.length; i++) {
      const e = got[i]
      if (e.index !== lo + i || e.index >= hi || e.term !== this.term(e.index)) return undefined
    }
    return got
  }
}
