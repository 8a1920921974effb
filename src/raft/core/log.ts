import type { Entry } from './types.js'

/** Bytes an entry counts for in batching limits: its data plus a fixed header allowance. */
export function entryBytes(e: Entry): number {
  return e.data.byteLength + 24
}

/**
 * The in-memory raft log: a snapshot boundary (`snapshotIndex`/`snapshotTerm`) followed by
 * contiguous entries. Entries up to `stableIndex` are on the caller's storage; the rest are
 * unstable (to hand out in the next Ready). Invariants: entries[i].index === snapshotIndex + 1 + i,
 * terms never decrease along the log, snapshotIndex <= applied <= committed <= lastIndex().
 */
export class RaftLog {
  #snapshotIndex: number
  #snapshotTerm: number
  #entries: Entry[]
  #stableIndex: number
  committed: number
  applied: number

  constructor(opts: { snapshotIndex?: number; snapshotTerm?: number; entries?: Entry[]; committed?: number; applied?: number } = {}) {
    this.#snapshotIndex = opts.snapshotIndex ?? 0
    this.#snapshotTerm = opts.snapshotTerm ?? 0
    this.#entries = [...(opts.entries ?? [])]
    for (let i = 0; i < this.#entries.length; i++) {
      if (this.#entries[i].index !== this.#snapshotIndex + 1 + i) throw new Error('raft log: entries are not contiguous after the snapshot')
    }
    this.#stableIndex = this.lastIndex()
    this.committed = Math.min(Math.max(opts.committed ?? 0, this.#snapshotIndex), this.lastIndex())
    this.applied = Math.max(opts.applied ?? this.#snapshotIndex, this.#snapshotIndex)
    if (this.applied > this.committed) this.applied = this.committed
  }

  get snapshotIndex(): number { return this.#snapshotIndex }
  get snapshotTerm(): number { return this.#snapshotTerm }
  /** The first index still held as an entry (the one after the snapshot). */
  firstIndex(): number { return this.#snapshotIndex + 1 }
  lastIndex(): number { return this.#snapshotIndex + this.#entries.length }
  lastTerm(): number { return this.term(this.lastIndex()) ?? 0 }
  stableIndex(): number { return this.#stableIndex }

  /** The term at `index`; undefined when compacted away (below the snapshot) or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.#snapshotIndex) return this.#snapshotTerm
    if (index < this.#snapshotIndex || index > this.lastIndex()) return undefined
    return this.#entries[index - this.#snapshotIndex - 1].term
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  entry(index: number): Entry | undefined {
    if (index <= this.#snapshotIndex || index > this.lastIndex()) return undefined
    return this.#entries[index - this.#snapshotIndex - 1]
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm()
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex())
  }

  /**
   * Entries in [lo, hi), stopping once `maxBytes` is passed (at least one entry is returned when any
   * is available). Undefined when `lo` is compacted.
   */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo <= this.#snapshotIndex) return undefined
    const end = Math.min(hi, this.lastIndex() + 1)
    const out: Entry[] = []
    let bytes = 0
    for (let i = lo; i < end; i++) {
      const e = this.#entries[i - this.#snapshotIndex - 1]
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
    }
    return lastNew
  }

  /** Drops entries at and after `index` (a conflicting suffix). */
  truncateFrom(index: number): void {
    if (index <= this.#snapshotIndex || index > this.lastIndex()) return
    this.#entries.length = index - this.#snapshotIndex - 1
    if (this.#stableIndex >= index) this.#stableIndex = index - 1
  }

  /** Entries not yet handed to storage. */
  unstableEntries(): Entry[] {
    return this.#entries.slice(this.#stableIndex - this.#snapshotIndex)
  }

  /** Storage has persisted up to (index, term); ignored if the log changed under it since. */
  stableTo(index: number, term: number): void {
    if (index <= this.#stableIndex) return
    if (this.term(index) !== term) return
    this.#stableIndex = index
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
    this.#entries = this.#entries.slice(index - this.#snapshotIndex)
    this.#snapshotIndex = index
    this.#snapshotTerm = t
    return true
  }

  /** Replaces the log by a snapshot's boundary (InstallSnapshot); keeps a matching suffix. */
  restore(index: number, term: number): void {
    if (this.matchTerm(index, term)) {
      this.#entries = this.#entries.slice(index - this.#snapshotIndex)
    } else {
      this.#entries = []
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
}
