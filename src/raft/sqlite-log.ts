import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { HardState, LogEntry, RecoveredState, SnapshotRecord } from './types.js'
import { StorageError } from '../lib/errors.js'
import { readSnapshotData } from './snapshot-files.js'

/** File name of the raft database inside `data_dir/raft/`. */
export const RAFT_DB_FILE = 'raft.db'
/** The WAL file is truncated to this after a checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024

/**
 * The raft log, hard state and latest snapshot in one SQLite database (WAL, synchronous=FULL:
 * a committed transaction has been fsync'd). Synchronous API: it runs on the storage worker
 * thread, or on the main thread only during recovery.
 */
export class SqliteLog {
  readonly #db: Database.Database
  readonly #dir: string
  readonly #insert: Database.Statement
  readonly #truncateFrom: Database.Statement
  readonly #compactThrough: Database.Statement
  readonly #firstIndex: Database.Statement
  readonly #setMeta: Database.Statement

  constructor(dir: string) {
    this.#dir = dir
    mkdirSync(dir, { recursive: true })
    try {
      this.#db = new Database(join(dir, RAFT_DB_FILE))
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma('synchronous = FULL')
      // SQLite checkpoints the WAL itself after commits once it passes 1000 pages; this caps the
      // file it leaves behind, so a compaction's burst of frames does not stay on disk.
      this.#db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`)
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS log (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL, data TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL, term INTEGER NOT NULL, data TEXT NOT NULL);
      `)
    } catch (err) {
      throw new StorageError(`cannot open raft store in ${dir}: ${(err as Error).message}`, { cause: err })
    }
    this.#insert = this.#db.prepare('INSERT OR REPLACE INTO log (idx, term, type, data) VALUES (?, ?, ?, ?)')
    this.#truncateFrom = this.#db.prepare('DELETE FROM log WHERE idx >= ?')
    this.#compactThrough = this.#db.prepare('DELETE FROM log WHERE idx <= ?')
    this.#firstIndex = this.#db.prepare('SELECT MIN(idx) AS idx FROM log')
    this.#setMeta = this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
  }

  recover(): RecoveredState {
    const meta = new Map(
      (this.#db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]),
    )
    const hardState: HardState = meta.has('hardState') ? (JSON.parse(meta.get('hardState')!) as HardState) : { term: 0, vote: '' }
    const snap = this.#db.prepare('SELECT idx, term, data FROM snapshot WHERE id = 1').get() as
      | { idx: number; term: number; data: string }
      | undefined
    const snapshot: SnapshotRecord | undefined = snap ? { index: snap.idx, term: snap.term, data: readSnapshotData(this.#dir, snap.data) } : undefined
    const entries = this.#db
      .prepare('SELECT idx AS "index", term, type, data FROM log WHERE idx > ? ORDER BY idx')
      .all(snapshot?.index ?? 0) as LogEntry[]
    return { hardState, snapshot, entries }
  }

  /** Runs a group of writes in one transaction: one fsync for all of them. */
  batch(writes: () => void): void {
    this.#db.transaction(writes)()
  }

  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return
    this.#truncateFrom.run(entries[0]!.index)
    for (const e of entries) this.#insert.run(e.index, e.term, e.type, e.data)
  }

  setHardState(state: HardState): void {
    this.#setMeta.run('hardState', JSON.stringify(state))
  }

  /** Stores the snapshot row (its data, or the name of the file holding it); the entries it covers are dropped by `compactStep`, a chunk at a time. */
  saveSnapshot(snapshot: SnapshotRecord): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO snapshot (id, idx, term, data) VALUES (1, ?, ?, ?)')
      .run(snapshot.index, snapshot.term, snapshot.data)
  }

  /**
   * Deletes up to `maxRows` of the oldest entries at or below `through`; true when none are left.
   * Recovery reads only entries above the snapshot, so entries left over by a crash are harmless
   * (the next snapshot's compaction takes them).
   */
  compactStep(through: number, maxRows: number): boolean {
    const first = (this.#firstIndex.get() as { idx: number | null }).idx
    if (first === null || first > through) return true
    const upTo = Math.min(through, first + maxRows - 1)
    this.#compactThrough.run(upTo)
    return upTo >= through
  }

  logLength(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n
  }

  close(): void {
    this.#db.close()
  }
}
