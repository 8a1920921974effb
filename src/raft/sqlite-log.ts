import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { RecoveredState } from './types.js'
import type { ConfState, Entry, EntryKind, HardState } from './core/types.js'
import { entryBytes } from './core/log.js'
import { crc32 } from './core/crc32.js'
import { StorageError } from '../lib/errors.js'
import { readSnapshotData } from './snapshot-files.js'

/** File name of the raft database inside `data_dir/raft/`. */
export const RAFT_DB_FILE = 'raft.db'
/** The WAL file is truncated to this after a checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024

/** Entry kinds as stored in the `type` column. WARNING: on disk; only append. */
const KIND_CODES: Record<EntryKind, number> = { normal: 0, noop: 1, config: 2 }
const KINDS: readonly EntryKind[] = ['normal', 'noop', 'config']

/** A log entry as the storage thread receives it (structured clone keeps the bytes). */
export interface EntryRow {
  index: number
  term: number
  type: number
  data: Uint8Array
}

/** What raft.db's snapshot row and its configuration hold; `data` is the snapshot or the name of its file. */
export interface SnapshotRow {
  index: number
  term: number
  data: string
  conf: ConfState
  /** Byte length and CRC-32 of the snapshot data, checked when it is read back. */
  size: number
  crc32: number
}

function toEntry(r: { idx: number; term: number; type: number; data: Buffer | string }): Entry {
  const type = KINDS[r.type]
  if (type === undefined) throw new StorageError(`raft.db: entry ${r.idx} has unknown type ${r.type}`)
  return { index: r.idx, term: r.term, type, data: typeof r.data === 'string' ? Buffer.from(r.data, 'utf8') : r.data }
}

export function toRow(e: Entry): EntryRow {
  return { index: e.index, term: e.term, type: KIND_CODES[e.type], data: e.data }
}

/** Per entry in a packed batch: index f64, term f64, type u32, data length u32. */
const PACKED_HEADER_BYTES = 24

/**
 * Entries as one buffer for the storage thread, transferred rather than cloned: structured
 * cloning an array of entry objects cost the leader 6% and a follower 15% of its event loop
 * under 64 writers, a copy into one buffer a small part of that.
 */
export function packEntries(entries: readonly Entry[]): ArrayBuffer {
  let bytes = 4
  for (const e of entries) bytes += PACKED_HEADER_BYTES + e.data.byteLength
  const buf = new ArrayBuffer(bytes)
  const view = new DataView(buf)
  const out = new Uint8Array(buf)
  view.setUint32(0, entries.length)
  let head = 4
  let body = 4 + entries.length * PACKED_HEADER_BYTES
  for (const e of entries) {
    view.setFloat64(head, e.index)
    view.setFloat64(head + 8, e.term)
    view.setUint32(head + 16, KIND_CODES[e.type])
    view.setUint32(head + 20, e.data.byteLength)
    out.set(e.data, body)
    head += PACKED_HEADER_BYTES
    body += e.data.byteLength
  }
  return buf
}

/** The rows of a packed batch; their data are views into it. */
export function unpackEntries(buf: ArrayBuffer): EntryRow[] {
  const view = new DataView(buf)
  const count = view.getUint32(0)
  const rows: EntryRow[] = new Array(count)
  let head = 4
  let body = 4 + count * PACKED_HEADER_BYTES
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(head + 20)
    rows[i] = { index: view.getFloat64(head), term: view.getFloat64(head + 8), type: view.getUint32(head + 16), data: new Uint8Array(buf, body, length) }
    head += PACKED_HEADER_BYTES
    body += length
  }
  return rows
}

/**
 * The raft log, hard state and latest snapshot in one SQLite database (WAL, synchronous=FULL:
 * a committed transaction has been fsync'd). Synchronous API: it runs on the storage worker
 * thread, or on the main thread for recovery and lone writes.
 */
export class SqliteLog {
  readonly #db: Database.Database
  readonly #dir: string
  readonly #insert: Database.Statement
  readonly #truncateFrom: Database.Statement
  readonly #compactThrough: Database.Statement
  readonly #firstIndex: Database.Statement
  readonly #setMeta: Database.Statement
  readonly #range: Database.Statement

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
      // `data` holds BLOBs; rows written before the raft core hold the command's JSON as TEXT.
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
    this.#range = this.#db.prepare('SELECT idx, term, type, data FROM log WHERE idx >= ? AND idx < ? ORDER BY idx')
  }

  /** Entries in [lo, hi) as stored, stopping once `maxBytes` is passed (at least one). */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (const r of this.#range.iterate(lo, hi) as IterableIterator<{ idx: number; term: number; type: number; data: Buffer | string }>) {
      const e = toEntry(r)
      bytes += entryBytes(e)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  recover(): RecoveredState {
    const meta = new Map(
      (this.#db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]),
    )
    const hs = meta.has('hardState') ? (JSON.parse(meta.get('hardState')!) as Partial<HardState>) : {}
    const hardState: HardState = { term: hs.term ?? 0, vote: hs.vote ?? '', commit: hs.commit ?? 0 }
    const snap = this.#db.prepare('SELECT idx, term, data FROM snapshot WHERE id = 1').get() as
      | { idx: number; term: number; data: string }
      | undefined
    let snapshot: RecoveredState['snapshot']
    if (snap) {
      const data = readSnapshotData(this.#dir, snap.data)
      const saved = meta.has('snapshotMeta') ? (JSON.parse(meta.get('snapshotMeta')!) as Omit<SnapshotRow, 'data' | 'term'>) : undefined
      // Rows written before the core kept metadata: no configuration, and the data is its own measure.
      snapshot = saved?.index === snap.idx
        ? { meta: { index: snap.idx, term: snap.term, conf: saved.conf, size: saved.size, crc32: saved.crc32 }, data }
        : { meta: { index: snap.idx, term: snap.term, conf: { voters: [], learners: [] }, size: data.byteLength, crc32: crc32(data) }, data }
    }
    const rows = this.#db
      .prepare('SELECT idx, term, type, data FROM log WHERE idx > ? ORDER BY idx')
      .all(snapshot?.meta.index ?? 0) as Array<{ idx: number; term: number; type: number; data: Buffer | string }>
    const entries: Entry[] = rows.map(toEntry)
    return { hardState, snapshot, entries }
  }

  /** Runs a group of writes in one transaction: one fsync for all of them. */
  batch(writes: () => void): void {
    this.#db.transaction(writes)()
  }

  append(entries: readonly EntryRow[]): void {
    if (entries.length === 0) return
    this.#truncateFrom.run(entries[0]!.index)
    for (const e of entries) this.#insert.run(e.index, e.term, e.type, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength))
  }

  setHardState(state: HardState): void {
    this.#setMeta.run('hardState', JSON.stringify(state))
  }

  /** Stores the snapshot row and its configuration; the entries it covers are dropped by `compactStep`, a chunk at a time. */
  saveSnapshot(snapshot: SnapshotRow): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO snapshot (id, idx, term, data) VALUES (1, ?, ?, ?)')
      .run(snapshot.index, snapshot.term, snapshot.data)
    const { index, conf, size, crc32 } = snapshot
    this.#setMeta.run('snapshotMeta', JSON.stringify({ index, conf, size, crc32 }))
  }

  /** A snapshot from the leader replaces the log whole. */
  dropLog(): void {
    this.#db.prepare('DELETE FROM log').run()
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
