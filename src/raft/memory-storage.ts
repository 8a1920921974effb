import type { HardState, LogEntry, RaftStorage, RecoveredState, SnapshotRecord } from './types.js'

/** Raft storage that lives in memory: for `-dev` agents and simulations. Nothing survives a restart. */
export class MemoryStorage implements RaftStorage {
  #entries: LogEntry[] = []
  #hardState: HardState = { term: 0, vote: '' }
  #snapshot: SnapshotRecord | undefined

  recover(): RecoveredState {
    return { hardState: { ...this.#hardState }, snapshot: this.#snapshot, entries: [...this.#entries] }
  }

  async append(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return
    const first = entries[0]!.index
    const last = this.#entries.at(-1)
    if (last && first <= last.index) this.#entries = this.#entries.filter((e) => e.index < first)
    for (const e of entries) this.#entries.push(e)
  }

  async setHardState(state: HardState): Promise<void> {
    this.#hardState = { ...state }
  }

  async saveSnapshot(snapshot: SnapshotRecord, compactThrough: number): Promise<void> {
    this.#snapshot = snapshot
    this.#entries = this.#entries.filter((e) => e.index > compactThrough)
  }

  async logLength(): Promise<number> {
    return this.#entries.length
  }

  async close(): Promise<void> {}
}
