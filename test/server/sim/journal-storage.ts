/**
 * The driver's RaftStorage over the simulator's lossy journal (test/raft/core/sim-storage.ts): a
 * write is durable when `persist` returns, so it syncs the journal then; the simulator may crash the
 * server between the write and the sync (the hook), which keeps any prefix of the unsynced records,
 * may tear the next one, and stops this incarnation: every later call throws, as a dead process
 * writes nothing. Restart builds a new driver from `recover()`, the journal replayed.
 */
import type { Entry } from '../../../src/raft/core/types.js'
import type { PersistBatch, RaftStorage, RecoveredState } from '../../../src/raft/types.js'
import type { Snapshot } from '../../../src/raft/core/types.js'
import type { SimStorage } from '../../raft/core/sim-storage.js'
import { entryBytes } from '../../../src/raft/core/log.js'

export interface JournalHooks {
  /** Before the entries of a batch are written (the safety checks register every appended entry here). */
  appending(entries: readonly Entry[]): void
  /** Written, not yet synced: true when the simulator crashes the server right here (it crashed the disk). */
  crashBeforeSync(what: string): boolean
  /** Whether this incarnation is dead. */
  dead(): boolean
}

export class JournalStorage implements RaftStorage {
  /** Bytes of a torn record the last recovery dropped. */
  tornBytes = 0

  constructor(readonly disk: SimStorage, readonly hooks: JournalHooks) {}

  recover(): RecoveredState {
    const { state, tornBytes } = this.disk.load()
    this.tornBytes = tornBytes
    return { hardState: state.hardState ?? { term: 0, vote: '', commit: 0 }, snapshot: state.snapshot, entries: state.entries ?? [] }
  }

  persist(batch: PersistBatch): void {
    this.#alive()
    this.hooks.appending(batch.entries)
    if (batch.snapshot) this.disk.saveSnapshot(batch.snapshot)
    this.disk.appendEntries(batch.entries)
    if (batch.hardState) this.disk.setHardState(batch.hardState)
    if (this.hooks.crashBeforeSync(`persisting ${batch.entries.length} entries${batch.snapshot ? ' and a snapshot' : ''}`)) throw new Error('simulated crash before fsync')
    this.disk.sync()
  }

  /** A local snapshot: written and synced before the journal is rewritten without the entries it covers. */
  saveSnapshot(snapshot: Snapshot, compactThrough: number): void {
    this.#alive()
    this.disk.saveSnapshot(snapshot)
    if (this.hooks.crashBeforeSync(`saving a snapshot at ${snapshot.meta.index}`)) throw new Error('simulated crash before fsync')
    this.disk.sync()
    this.disk.rewrite(compactThrough)
  }

  /** As SQLite's reader does: the entries the journal holds now, replayed. */
  readEntries(lo: number, hi: number, maxBytes: number): Entry[] {
    this.#alive()
    const out: Entry[] = []
    let bytes = 0
    for (const e of this.disk.load().state.entries ?? []) {
      if (e.index < lo || e.index >= hi) continue
      bytes += entryBytes(e)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  async logLength(): Promise<number> {
    return this.disk.load().state.entries?.length ?? 0
  }

  async close(): Promise<void> {}

  #alive(): void {
    if (this.hooks.dead()) throw new Error('simulated crash: the server is down')
  }
}
