import { encodeCommand } from '../../src/state/commands.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SingleServerRaft } from '../../src/raft/single-server.js'
import { SqliteStorage } from '../../src/raft/sqlite-storage.js'
import { MemoryStorage } from '../../src/raft/memory-storage.js'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { until } from '../helpers/poll.js'

const put = (key: string, i: number) => ({ Type: 'kvs' as const, Op: { Verb: 'set' as const, Key: key, Value: Buffer.from(String(i)).toString('base64') } })

async function open(dir: string, opts: { snapshotThreshold?: number; trailingLogs?: number; snapshotIntervalMs?: number } = {}) {
  const fsm = new Fsm(new StateStore())
  const raft = await SingleServerRaft.open({ storage: new SqliteStorage(dir), fsm, id: 'n1', address: '127.0.0.1:8300', ...opts })
  return { fsm, raft }
}

test('acknowledged writes are recovered in order and indexes keep rising', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raft-'))
  try {
    const first = await open(dir)
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => first.raft.apply(encodeCommand(put(`k/${i}`, i)))))
    const indexes = results.map((r) => r.index)
    assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), 'applied in log order')
    const lastBefore = first.raft.appliedIndex()
    await first.raft.close()

    const second = await open(dir)
    assert.equal(second.fsm.state.kv.size, 300)
    assert.equal(second.fsm.state.kv.get('k/299')!.Value!.toString(), '299')
    assert.ok(second.raft.appliedIndex() > lastBefore, 'the new term\'s no-op lands after everything before')
    const next = await second.raft.apply(encodeCommand(put('after', 0)))
    assert.ok(next.index > lastBefore)
    await second.raft.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a snapshot bounds the log on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raft-'))
  try {
    const { raft, fsm } = await open(dir, { snapshotThreshold: 100, trailingLogs: 10, snapshotIntervalMs: 0 })
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 100 }, (_, i) => raft.apply(encodeCommand(put(`k/${i}`, round)))))
    // Snapshots do not overlap: writes made while one is being saved trigger the next one.
    await until('a snapshot past index 900', async () => {
      await raft.apply(encodeCommand(put('flush', 0)))
      return Number(raft.stats().last_snapshot_index) > 900 ? true : undefined
    })
    await raft.close()
    const db = new Database(join(dir, 'raft.db'), { readonly: true })
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n
    const snap = db.prepare('SELECT idx FROM snapshot').get() as { idx: number } | undefined
    db.close()
    assert.ok(snap && snap.idx > 900, `snapshot taken (at ${snap?.idx})`)
    assert.ok(rows < 300, `log holds ${rows} entries after 1000 writes`)
    const again = await open(dir)
    assert.deepEqual(again.fsm.state.kv.list(''), fsm.state.kv.list(''))
    await again.raft.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('memory storage serves dev mode with the same contract', async () => {
  const storage = new MemoryStorage()
  const fsm = new Fsm(new StateStore())
  const raft = await SingleServerRaft.open({ storage, fsm, id: 'n1', address: '127.0.0.1:8300', snapshotThreshold: 5, trailingLogs: 2, snapshotIntervalMs: 0 })
  for (let i = 0; i < 20; i++) await raft.apply(encodeCommand(put('k', i)))
  assert.equal(fsm.state.kv.get('k')!.Value!.toString(), '19')
  assert.ok((await storage.logLength()) < 10)
  await raft.close()
  await assert.rejects(raft.apply(encodeCommand(put('k', 0))), /shutdown/)
})

test('snapshots wait for the snapshot interval, however fast writes come', async () => {
  const storage = new MemoryStorage()
  const fsm = new Fsm(new StateStore())
  const raft = await SingleServerRaft.open({ storage, fsm, id: 'n1', address: '127.0.0.1:8300', snapshotThreshold: 5, trailingLogs: 0, snapshotIntervalMs: 3_600_000 })
  for (let i = 0; i < 50; i++) await raft.apply(encodeCommand(put('k', i)))
  assert.equal(raft.stats().last_snapshot_index, '0')
  assert.equal(await storage.logLength(), 51)
  await raft.close()
})
