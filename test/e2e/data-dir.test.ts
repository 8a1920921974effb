/**
 * A data_dir outlives the process that wrote it: copied while the agent runs (a careless backup)
 * and restored, or written by an older version and opened by this one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir, ROOT, type RunningAgent } from '../helpers/agent.js'

const run = promisify(execFile)

const kv = async (a: RunningAgent, prefix: string): Promise<Map<string, string>> => {
  const res = await fetch(`${a.httpAddr}/v1/kv/${prefix}?recurse`)
  if (res.status === 404) return new Map()
  const pairs = (await res.json()) as Array<{ Key: string; Value: string | null }>
  return new Map(pairs.map((p) => [p.Key, Buffer.from(p.Value ?? '', 'base64').toString()]))
}

test('a data_dir copied file by file while the agent writes and snapshots, restored on a new agent: every write acknowledged before the copy is there, nothing invented, and it takes writes', async () => {
  const dataDir = tempDir()
  const copy = tempDir('consul-copy-')
  const configDir = tempDir('consul-copycfg-')
  try {
    // Snapshots and compaction run throughout, so the copy races them as well as the log.
    const config = join(configDir, 'snap.json')
    writeFileSync(config, JSON.stringify({ raft_snapshot_threshold: 64, raft_trailing_logs: 16, raft_snapshot_interval: '1ms' }))
    const first = await startAgent({ dataDir, connLimit: 0, args: [`-config-file=${config}`] })
    const written = new Map<string, string>()
    const acked = new Map<string, string>()
    const put = async (key: string, value: string): Promise<void> => {
      written.set(key, value)
      const res = await fetch(`${first.httpAddr}/v1/kv/${key}`, { method: 'PUT', body: value }).catch(() => undefined)
      if (res && (await res.text().catch(() => '')) === 'true') acked.set(key, value)
    }
    for (let wave = 0; wave < 5; wave++) await Promise.all(Array.from({ length: 100 }, (_, i) => put(`copy/${wave}/${i}`, `v-${wave}-${i}`)))
    const before = new Map(acked)
    let stop = false
    const writer = (async () => {
      for (let n = 0; !stop; n++) await Promise.all(Array.from({ length: 20 }, (_, i) => put(`copy/during/${n}/${i}`, `d-${n}-${i}`)))
    })()
    // cp in another process, so the test's own writes go on while it copies. A copy can finish
    // before a write is answered (the directory is small): then it is taken again, afresh.
    let duringCopy = 0
    for (let attempt = 0; attempt < 20 && duringCopy === 0; attempt++) {
      removeDir(copy)
      const atCopy = acked.size
      await run('cp', ['-r', `${dataDir}/.`, copy])
      duringCopy = acked.size - atCopy
    }
    stop = true
    await writer
    await first.stop()
    assert.ok(duringCopy > 0, 'writes were acknowledged while cp ran')

    const second = await startAgent({ dataDir: copy, args: [`-config-file=${config}`] })
    try {
      const got = await kv(second, 'copy/')
      for (const [key, value] of before) assert.equal(got.get(key), value, `${key}, acknowledged before the copy`)
      for (const [key, value] of got) assert.equal(value, written.get(key), `${key} holds what was written to it`)
      assert.equal(await (await fetch(`${second.httpAddr}/v1/kv/copy/after`, { method: 'PUT', body: 'x' })).text(), 'true')
    } finally {
      await second.stop()
    }
  } finally {
    removeDir(dataDir)
    removeDir(copy)
    removeDir(configDir)
  }
})

test('a data_dir written by version 0.1.0 (test/fixtures/data-dir-0.1.0) opens with this one: KV, flags, a held lock and its session, the catalog and a prepared query', async () => {
  const fixture = join(ROOT, 'test', 'fixtures', 'data-dir-0.1.0')
  const dataDir = tempDir()
  cpSync(fixture, dataDir, { recursive: true })
  const session = readFileSync(join(fixture, 'SESSION'), 'utf8').trim()
  const agent = await startAgent({ dataDir, node: 'fixture' })
  const json = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${agent.httpAddr}${path}`)
    assert.equal(res.status, 200, path)
    return (await res.json()) as T
  }
  try {
    const many = await kv(agent, 'fixture/many/')
    assert.equal(many.size, 100)
    for (let i = 0; i < 100; i++) assert.equal(many.get(`fixture/many/${i}`), `value-${i}`)
    const [flags] = await json<Array<{ Flags: number }>>('/v1/kv/fixture/flags')
    assert.equal(flags!.Flags, 42)
    assert.deepEqual([...Buffer.from(await (await fetch(`${agent.httpAddr}/v1/kv/fixture/binary?raw`)).arrayBuffer())], [...Buffer.from('\u0000\u0001\u00ff')])
    assert.equal(await (await fetch(`${agent.httpAddr}/v1/kv/fixture/empty?raw`)).text(), '')
    const [lock] = await json<Array<{ Session?: string; LockIndex: number }>>('/v1/kv/fixture/lock')
    assert.equal(lock!.Session, session)
    assert.equal(lock!.LockIndex, 1)
    const [info] = await json<Array<{ Name: string }>>(`/v1/session/info/${session}`)
    assert.equal(info!.Name, 'fixture-lock')
    const healthy = await json<Array<{ Node: { Node: string; Meta: Record<string, string> }; Service: { Tags: string[] } }>>('/v1/health/service/db?passing')
    assert.deepEqual(healthy.map((h) => [h.Node.Node, h.Node.Meta.rack, h.Service.Tags]), [['external', 'r1', ['primary']]])
    const executed = await json<{ Nodes: Array<{ Node: { Node: string } }> }>('/v1/query/db-query/execute')
    assert.deepEqual(executed.Nodes.map((n) => n.Node.Node), ['external'])
    assert.equal(await (await fetch(`${agent.httpAddr}/v1/kv/fixture/after`, { method: 'PUT', body: 'new' })).text(), 'true')
  } finally {
    await agent.stop()
    removeDir(dataDir)
  }
})
