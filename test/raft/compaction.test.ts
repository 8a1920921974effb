/**
 * Log compaction after a snapshot happens a chunk per transaction, so writes are not held behind
 * the deletion of a long log; a crash part-way leaves old entries that recovery ignores. Snapshot
 * data lives in files of its own, named by raft.db.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteLog } from '../../src/raft/sqlite-log.js'
import { SqliteStorage } from '../../src/raft/sqlite-storage.js'
import { toRow, type EntryRow } from '../../src/raft/sqlite-log.js'
import type { Entry, Snapshot } from '../../src/raft/core/types.js'
import { crc32 } from '../../src/raft/core/crc32.js'
import { until } from '../helpers/poll.js'
import { removeDir, tempDir } from '../helpers/agent.js'
import { StorageError } from '../../src/lib/errors.js'

const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: Buffer.from(`{"n":${index}}`) })
const range = (from: number, to: number): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i))
const rowsOf = (entries: Entry[]): EntryRow[] => entries.map(toRow)
const conf = { voters: ['n1'], learners: [] }
/** A snapshot row as SqliteLog stores it (the data inline, as older data dirs have it, or a file name). */
const row = (index: number, term: number, data: string) => ({ index, term, data, conf, size: data.length, crc32: crc32(Buffer.from(data)) })
const snap = (index: number, term: number, text: string): Snapshot => {
  const data = Buffer.from(text)
  return { meta: { index, term, conf, size: data.byteLength, crc32: crc32(data) }, data }
}
const append = (storage: SqliteStorage, entries: Entry[]) => storage.persist({ entries })

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = tempDir('raft-compact-')
    try {
      await fn(dir)
    } finally {
      removeDir(dir)
    }
  }
}

const rows = (dir: string): { n: number; first: number | null } => {
  const db = new Database(join(dir, 'raft.db'), { readonly: true })
  try {
    return db.prepare('SELECT COUNT(*) AS n, MIN(idx) AS first FROM log').get() as { n: number; first: number | null }
  } finally {
    db.close()
  }
}

test('compactStep deletes at most a chunk of the oldest entries and says when it is done', withDir((dir) => {
  const log = new SqliteLog(dir)
  log.batch(() => log.append(rowsOf(range(1, 10_000))))
  log.batch(() => log.saveSnapshot(row(9_000, 1, '{}')))
  const steps: boolean[] = []
  for (let i = 0; i < 10 && !steps.at(-1); i++) {
    const before = rows(dir).n
    let done = false
    log.batch(() => (done = log.compactStep(8_990, 2_000)))
    steps.push(done)
    assert.ok(before - rows(dir).n <= 2_000, 'one chunk at most')
  }
  assert.deepEqual(steps, [false, false, false, false, true], '8,990 entries in chunks of 2,000')
  assert.deepEqual(rows(dir), { n: 1_010, first: 8_991 })
  let again = false
  log.batch(() => (again = log.compactStep(8_990, 2_000)))
  assert.ok(again, 'nothing left to do')
  log.close()
}))

test('a crash part-way through compaction recovers the snapshot and only the entries after it', withDir((dir) => {
  const log = new SqliteLog(dir)
  log.batch(() => log.append(rowsOf(range(1, 5_000))))
  log.batch(() => log.saveSnapshot(row(4_000, 1, '{"snap":1}')))
  log.batch(() => log.compactStep(3_990, 1_000))
  log.close()
  const reopened = new SqliteLog(dir)
  const state = reopened.recover()
  reopened.close()
  assert.equal(state.snapshot?.meta.index, 4_000)
  assert.deepEqual(state.entries.map((e) => e.index), range(4_001, 5_000).map((e) => e.index))
  assert.ok(rows(dir).first! < 3_990, 'old entries were left behind, and ignored')
}))

test('the storage thread: a snapshot resolves at once, writes go on, and the log ends at the trailing entries', withDir(async (dir) => {
  const storage = new SqliteStorage(dir)
  storage.recover()
  for (let from = 1; from <= 20_000; from += 1_000) await append(storage, range(from, from + 999))
  await storage.saveSnapshot(snap(20_000, 1, '{}'), 19_990)
  // Writes keep being acknowledged while the compaction goes on behind them.
  await Promise.all(Array.from({ length: 50 }, (_, i) => append(storage, [entry(20_001 + i)])))
  for (let i = 0; i < 20; i++) await append(storage, [entry(20_051 + i)])
  await until('log compacted', async () => ((await storage.logLength()) === 10 + 70 ? true : undefined))
  assert.deepEqual(rows(dir), { n: 80, first: 19_991 })
  await storage.close()
  const reopened = new SqliteLog(dir)
  const state = reopened.recover()
  reopened.close()
  assert.equal(state.snapshot?.meta.index, 20_000)
  assert.equal(state.entries.length, 70)
  assert.equal(state.entries.at(-1)!.index, 20_070)
}))

test('snapshot data goes to its own file named by raft.db; the previous file and interrupted writes are removed', withDir(async (dir) => {
  const storage = new SqliteStorage(dir)
  storage.recover()
  await append(storage, range(1, 100))
  await storage.saveSnapshot(snap(50, 1, '{"first":true}'), 40)
  writeFileSync(join(dir, 'snapshot-77-1.json.tmp'), 'half a snapshot from a crash')
  await append(storage, range(101, 200))
  await storage.saveSnapshot(snap(150, 2, '{"second":true}'), 140)
  await storage.close()
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('snapshot-')), ['snapshot-150-2.json'])
  const db = new Database(join(dir, 'raft.db'), { readonly: true })
  const row = db.prepare('SELECT idx, data FROM snapshot').get() as { idx: number; data: string }
  db.close()
  assert.deepEqual(row, { idx: 150, data: 'file:snapshot-150-2.json' })
  const log = new SqliteLog(dir)
  const state = log.recover()
  log.close()
  assert.deepEqual(state.snapshot, snap(150, 2, '{"second":true}'))
  assert.equal(state.entries[0]!.index, 151)
}))

test('a snapshot held in the row itself (older data dirs) still recovers; a missing snapshot file is named', withDir((dir) => {
  const log = new SqliteLog(dir)
  log.batch(() => log.append(rowsOf(range(1, 20))))
  log.batch(() => log.saveSnapshot(row(10, 1, '{"inline":true}')))
  assert.equal(log.recover().snapshot?.data.toString(), '{"inline":true}')
  log.batch(() => log.saveSnapshot(row(12, 1, 'file:snapshot-12-1.json')))
  assert.throws(() => log.recover(), (err: Error) => err instanceof StorageError && err.message.includes(join(dir, 'snapshot-12-1.json')))
  log.close()
}))

test('a batch crosses to the storage thread packed: kinds, empty data and large indexes come back as written', withDir(async (dir) => {
  const storage = new SqliteStorage(dir)
  storage.recover()
  const big = 2 ** 40
  const written: Entry[] = [
    { index: big, term: 7, type: 'noop', data: new Uint8Array(0) },
    { index: big + 1, term: 7, type: 'config', data: Buffer.from('{"voters":["a"]}') },
    { index: big + 2, term: 8, type: 'normal', data: Buffer.from('x'.repeat(70_000)).subarray(5, 66_000) },
  ]
  // Two at once: the second overlaps the first, so it cannot take the direct path.
  await Promise.all([storage.persist({ entries: written.slice(0, 2) }), storage.persist({ entries: written.slice(2) })])
  await storage.close()
  const reopened = new SqliteLog(dir)
  const state = reopened.recover()
  reopened.close()
  assert.deepEqual(
    state.entries.map((e) => ({ ...e, data: Buffer.from(e.data).toString() })),
    written.map((e) => ({ ...e, data: Buffer.from(e.data).toString() })),
  )
}))
