import type { PersistBatch, RaftStorage, RecoveredState } from './types.js'
import type { Entry, HardState, Snapshot } from './core/types.js'
import { entryBytes } from './core/log.js'

/** Raft storage that lives in memory: for `-dev` agents and tests. Nothing survives a restart of the process. */
export class MemoryStorage implements RaftStorage {
  #entries: Entry[] = []
  #hardState: HardState = { term: 0, vote: '', commit: 0 }
  #snapshot: Snapshot | undefined

  recover(): RecoveredState {
    return { hardState: { ...this.#hardState }, snapshot: this.#snapshot, entries: [...this.#entries] }
  }

  persist(batch: PersistBatch): void {
    if (batch.snapshot) {
      this.#snapshot = batch.snapshot
      this.#entries = []
    }
    this.#append(batch.entries)
    if (batch.hardState) this.#hardState = { ...batch.hardState }
  }

  #append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    const first = entries[0]!.index
    const last = this.#entries.at(-1)
    if (last && first <= last.index) this.#entries = this.#entries.filter((e) => e.index < first)
    for (const e of entries) this.#entries.push(e)
  }

  saveSnapshot(snapshot: Snapshot, compactThrough: number): void {
    this.#snapshot = snapshot
    this.#entries = this.#entries.filter((e) => e.index > compactThrough)
  }

  readEntries(lo: number, hi: number, maxBytes: number): Entry[] {
    const first = this.#entries[0]?.index ?? Infinity
    // Compacted below `lo`: the caller reads that as gone (and sends a snapshot).
    if (lo < first) return []
    const out: Entry[] = []
    let bytes = 0
    for (let i = lo; i < hi && i - first < this.#entries.length; i++) {
      const e = this.#entries[i - first]!
      bytes += entryBytes(e)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  async logLength(): Promise<number> {
    return this.#entries.length
  }

  async close(): Promise<void> {}
}
