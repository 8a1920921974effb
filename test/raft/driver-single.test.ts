/**
 * The driver with one voter, as the single-server agent runs it: durable group commit over the
 * SQLite log, recovery and restart, snapshots and compaction, and data dirs written before the
 * raft core (no configuration entry, commands stored as text).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { RaftDriver, type RaftDriverOptions } from '../../src/raft/driver.js'
import { InMemoryNetwork } from '../../src/raft/inmem-transport.js'
import { SqliteStorage } from '../../src/raft/sqlite-storage.js'
import { MemoryStorage } from '../../src/raft/memory-storage.js'
import type { RaftStorage } from '../../src/raft/types.js'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { encodeCommand } from '../../src/state/commands.js'
import { RaftShutdownError } from '../../src/raft/errors.js'
import { until } from '../helpers/poll.js'
import { removeDir, tempDir } from '../helpers/agent.js'

const put = (key: string, i: number) => encodeCommand({ Type: 'kvs', Op: { Verb: 'set', Key: key, Value: Buffer.from(String(i)).toString('base64') } })

async function open(storage: RaftStorage, opts: Partial<RaftDriverOptions> = {}) {
  const fsm = new Fsm(new StateStore())
  const raft = await RaftDriver.open({
    id: 'n1', address: '127.0.0.1:8300', storage, fsm, random: Math.random,
    transport: new InMemoryNetwork().connect('n1'), bootstrap: [{ id: 'n1', address: '127.0.0.1:8300', voter: true }], ...opts,
  })
  return { fsm, raft }
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = tempDir('raft-driver-')
    try {
      await fn(dir)
    } finally {
      removeDir(dir)
    }
  }
}

test('acknowledged writes are recovered in order and indexes keep rising', withDir(async (dir) => {
  const first = await open(new SqliteStorage(dir))
  assert.equal(first.raft.isLeader(), true, 'the only voter leads as soon as it is open')
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => first.raft.apply(put(`k/${i}`, i))))
  const indexes = results.map((r) => r.index)
  assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), 'applied in log order')
  assert.deepEqual(results.map((r) => r.response), results.map(() => true), 'the state machine\'s answers come back')
  const lastBefore = first.raft.appliedIndex()
  await first.raft.close()
  await assert.rejects(first.raft.apply(put('k', 0)), RaftShutdownError)

  const second = await open(new SqliteStorage(dir))
  assert.equal(second.fsm.state.kv.size, 300, 'everything is applied before open resolves')
  assert.equal(second.fsm.state.kv.get('k/299')!.Value!.toString(), '299')
  assert.ok(second.raft.appliedIndex() > lastBefore, 'the new term\'s no-op lands after everything before')
  assert.ok(Number(second.raft.stats().term) > Number(first.raft.stats().term))
  const next = await second.raft.apply(put('after', 0))
  assert.ok(next.index > lastBefore)
  await second.raft.readBarrier()
  await second.raft.close()
}))

test('a snapshot bounds the log on disk and recovery starts from it', withDir(async (dir) => {
  const { raft, fsm } = await open(new SqliteStorage(dir), { snapshotThreshold: 100, trailingLogs: 10, snapshotIntervalMs: 0 })
  for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 100 }, (_, i) => raft.apply(put(`k/${i}`, round))))
  await until('a snapshot past index 900', async () => {
    await raft.apply(put('flush', 0))
    return Number(raft.stats().last_snapshot_index) > 900 ? true : undefined
  })
  await raft.close()
  const db = new Database(join(dir, 'raft.db'), { readonly: true })
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n
  const conf = db.prepare("SELECT value FROM meta WHERE key = 'snapshotMeta'").get() as { value: string }
  db.close()
  assert.ok(rows < 300, `log holds ${rows} entries after 1000 writes`)
  assert.deepEqual(JSON.parse(conf.value).conf, { voters: ['n1'], learners: [] }, 'the snapshot keeps the configuration')
  const again = await open(new SqliteStorage(dir))
  assert.deepEqual(again.fsm.state.kv.list(''), fsm.state.kv.list(''))
  await again.raft.close()
}))

test('memory storage serves dev mode with the same contract', async () => {
  const storage = new MemoryStorage()
  const { raft, fsm } = await open(storage, { snapshotThreshold: 5, trailingLogs: 2, snapshotIntervalMs: 0 })
  for (let i = 0; i < 20; i++) await raft.apply(put('k', i))
  assert.equal(fsm.state.kv.get('k')!.Value!.toString(), '19')
  await until('compacted', async () => ((await storage.logLength()) < 10 ? true : undefined))
  await raft.close()
  await assert.rejects(raft.apply(put('k', 0)), /shutdown/)
})

test('snapshots wait for the snapshot interval, however fast writes come; a reload changes the policy', async () => {
  const storage = new MemoryStorage()
  const { raft } = await open(storage, { snapshotThreshold: 5, trailingLogs: 0, snapshotIntervalMs: 3_600_000 })
  for (let i = 0; i < 50; i++) await raft.apply(put('k', i))
  assert.equal(raft.stats().last_snapshot_index, '0')
  assert.equal(await storage.logLength(), 52, 'bootstrap configuration, the leader\'s no-op and 50 writes')
  raft.setSnapshotPolicy({ threshold: 5, intervalMs: 0, trailingLogs: 0 })
  await raft.apply(put('k', 50))
  await until('a snapshot once the policy allows it', async () => (raft.stats().last_snapshot_index !== '0' ? true : undefined))
  await raft.close()
})

test('an undecodable command fails its proposer, and every later write goes on', async () => {
  const { raft, fsm } = await open(new MemoryStorage())
  await assert.rejects(raft.apply(Buffer.from('not json')), /JSON|command/)
  const ok = await raft.apply(put('k', 1))
  assert.equal(ok.response, true)
  assert.equal(fsm.state.kv.get('k')!.Value!.toString(), '1')
  await raft.close()
})

test('a data dir written by the single-server raft (no configuration, commands as text) is recovered whole', withDir(async (dir) => {
  // The layout before the raft core: log(idx, term, type 0 command / 1 no-op, data TEXT), hardState without commit, inline snapshot.
  const db = new Database(join(dir, 'raft.db'))
  db.exec(`CREATE TABLE log (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL, term INTEGER NOT NULL, data TEXT NOT NULL);`)
  const seed = new Fsm(new StateStore())
  seed.skip(1)
  seed.applyCommand(2, { Type: 'kvs', Op: { Verb: 'set', Key: 'snapshotted', Value: Buffer.from('s').toString('base64') } })
  db.prepare('INSERT INTO snapshot VALUES (1, 2, 1, ?)').run(seed.snapshotText())
  db.prepare("INSERT INTO meta VALUES ('hardState', ?)").run(JSON.stringify({ term: 3, vote: '127.0.0.1:8300' }))
  db.prepare('INSERT INTO log VALUES (3, 3, 1, ?)').run('')
  db.prepare('INSERT INTO log VALUES (4, 3, 0, ?)').run(JSON.stringify({ Type: 'kvs', Op: { Verb: 'set', Key: 'logged', Value: Buffer.from('l').toString('base64') } }))
  db.close()
  writeFileSync(join(dir, 'unrelated.txt'), '')
  const { raft, fsm } = await open(new SqliteStorage(dir))
  assert.equal(fsm.state.kv.get('snapshotted')!.Value!.toString(), 's')
  assert.equal(fsm.state.kv.get('logged')!.Value!.toString(), 'l')
  assert.ok(Number(raft.stats().term) > 3)
  assert.deepEqual(raft.servers(), [{ id: 'n1', address: '127.0.0.1:8300', voter: true }])
  const w = await raft.apply(put('new', 1))
  assert.ok(w.index > 4)
  await raft.close()
  const again = await open(new SqliteStorage(dir))
  assert.deepEqual(again.fsm.state.kv.list('').map((e) => e.Key), ['logged', 'new', 'snapshotted'])
  await again.raft.close()
}))

test('a snapshot whose data does not match its metadata is refused with the index named', withDir(async (dir) => {
  const { raft } = await open(new SqliteStorage(dir), { snapshotThreshold: 3, trailingLogs: 0, snapshotIntervalMs: 0 })
  for (let i = 0; i < 10; i++) await raft.apply(put('k', i))
  await until('snapshot', async () => (raft.stats().last_snapshot_index !== '0' ? true : undefined))
  await raft.close()
  const db = new Database(join(dir, 'raft.db'))
  const row = db.prepare('SELECT idx, data FROM snapshot').get() as { idx: number; data: string }
  db.close()
  const file = join(dir, row.data.slice('file:'.length))
  writeFileSync(file, '{"v":1,"truncated')
  await assert.rejects(open(new SqliteStorage(dir)), (err: Error) => err.message.includes(`index ${row.idx}`) && err.message.includes('does not match'))
}))
