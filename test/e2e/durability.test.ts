import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { fillUp, mountTmpfs, unmount } from '../helpers/disk.js'

test('kill -9 after N acknowledged writes loses none of them, and indexes keep rising', async () => {
  const dataDir = tempDir()
  try {
    const first = await startAgent({ dataDir, connLimit: 0 })
    const N = 1000
    const acked: number[] = []
    // Concurrent writes so that many share one group commit; each is acknowledged on its own.
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await fetch(`${first.httpAddr}/v1/kv/durable/${i}`, { method: 'PUT', body: `value-${i}` })
        assert.equal(await res.text(), 'true')
        acked.push(i)
      }),
    )
    const before = Number((await fetch(`${first.httpAddr}/v1/kv/durable/?recurse`)).headers.get('x-consul-index'))
    await first.kill9()
    assert.equal(acked.length, N)

    const second = await startAgent({ dataDir })
    try {
      const pairs = (await (await fetch(`${second.httpAddr}/v1/kv/durable/?recurse`)).json()) as Array<{ Key: string; Value: string }>
      assert.equal(pairs.length, N)
      const values = new Map(pairs.map((p) => [p.Key, Buffer.from(p.Value, 'base64').toString()]))
      for (const i of acked) assert.equal(values.get(`durable/${i}`), `value-${i}`)
      await fetch(`${second.httpAddr}/v1/kv/durable/after`, { method: 'PUT', body: 'x' })
      const after = Number((await fetch(`${second.httpAddr}/v1/kv/durable/after`)).headers.get('x-consul-index'))
      assert.ok(after > before, `index ${after} after restart > ${before} before`)
    } finally {
      await second.stop()
    }
  } finally {
    removeDir(dataDir)
  }
})

test('kill -9 in the middle of writes while snapshots and compactions keep running loses no acknowledged write', async () => {
  const dataDir = tempDir()
  const configDir = tempDir('consul-snapcfg-')
  try {
    // A snapshot every 64 entries keeps snapshot files, row updates and chunked compaction busy throughout.
    const config = join(configDir, 'snap.json')
    writeFileSync(config, JSON.stringify({ raft_snapshot_threshold: 64, raft_trailing_logs: 16, raft_snapshot_interval: '1ms' }))
    const first = await startAgent({ dataDir, args: [`-config-file=${config}`] })
    const acked = new Map<string, string>()
    const put = async (key: string, value: string): Promise<void> => {
      const res = await fetch(`${first.httpAddr}/v1/kv/${key}`, { method: 'PUT', body: value }).catch(() => undefined)
      if (res && (await res.text().catch(() => '')) === 'true') acked.set(key, value)
    }
    for (let wave = 0; wave < 10; wave++) await Promise.all(Array.from({ length: 100 }, (_, i) => put(`snap/${wave}/${i}`, `v-${wave}-${i}`)))
    await until('a snapshot file', async () => (readdirSync(join(dataDir, 'raft')).some((n) => /^snapshot-\d+-\d+\.json$/.test(n)) ? true : undefined))
    // The last waves are in flight when the agent dies.
    const inFlight = Array.from({ length: 5 }, (_, wave) => Promise.all(Array.from({ length: 100 }, (_, i) => put(`snap/late-${wave}/${i}`, `late-${wave}-${i}`))))
    await new Promise((r) => setTimeout(r, 30))
    await first.kill9()
    await Promise.all(inFlight)
    assert.ok(acked.size >= 1000)

    const second = await startAgent({ dataDir, args: [`-config-file=${config}`] })
    try {
      const pairs = (await (await fetch(`${second.httpAddr}/v1/kv/snap/?recurse`)).json()) as Array<{ Key: string; Value: string }>
      const values = new Map(pairs.map((p) => [p.Key, Buffer.from(p.Value, 'base64').toString()]))
      for (const [key, value] of acked) assert.equal(values.get(key), value, key)
      assert.match(first.output(), /raft: snapshot at index/)
    } finally {
      await second.stop()
    }
  } finally {
    removeDir(dataDir)
    removeDir(configDir)
  }
})

test('a torn last record in the raft log (a crash in the middle of a write) is dropped at start-up: every write before it is there', async () => {
  const dataDir = tempDir()
  try {
    const first = await startAgent({ dataDir, connLimit: 0 })
    for (let i = 0; i < 50; i++) assert.equal(await (await fetch(`${first.httpAddr}/v1/kv/torn/${i}`, { method: 'PUT', body: `v${i}` })).text(), 'true')
    await first.kill9()
    const wal = join(dataDir, 'raft', 'raft.db-wal')
    const size = statSync(wal).size
    assert.ok(size > 0, 'the writes are in the write-ahead log')
    // Half a frame of the next write: a header and some page bytes, then the crash.
    appendFileSync(wal, randomBytes(2000))
    const second = await startAgent({ dataDir })
    try {
      const keys = (await (await fetch(`${second.httpAddr}/v1/kv/torn/?keys`)).json()) as string[]
      assert.equal(keys.length, 50)
      assert.equal(await (await fetch(`${second.httpAddr}/v1/kv/torn/after`, { method: 'PUT', body: 'x' })).text(), 'true')
      await second.kill9()
      // Now tear the last frame itself: that write never finished, the ones before it did.
      truncateSync(wal, statSync(wal).size - 100)
      const third = await startAgent({ dataDir })
      try {
        const after = (await (await fetch(`${third.httpAddr}/v1/kv/torn/?keys`)).json()) as string[]
        assert.ok(after.length >= 50, `${after.length} keys`)
        for (let i = 0; i < 50; i++) assert.ok(after.includes(`torn/${i}`), `torn/${i}`)
        assert.equal(await (await fetch(`${third.httpAddr}/v1/kv/torn/again`, { method: 'PUT', body: 'y' })).text(), 'true')
      } finally {
        await third.stop()
      }
    } finally {
      await second.stop()
    }
  } finally {
    removeDir(dataDir)
  }
})

/** A tmpfs of `bytes` at a fresh directory, or undefined when this machine cannot mount one. */
function smallDisk(bytes: number): string | undefined {
  const dir = tempDir('consul-fulldisk-')
  if (mountTmpfs(dir, bytes)) return dir
  removeDir(dir)
  return undefined
}

const canMount = smallDisk(1 << 20)
if (canMount) {
  unmount(canMount)
  removeDir(canMount)
}

test('a full disk stalls writes without acknowledging or crashing; once there is room they land, and survive kill -9', { skip: canMount ? false : 'cannot mount a tmpfs here' }, async () => {
  const disk = smallDisk(32 << 20)!
  try {
    const first = await startAgent({ dataDir: join(disk, 'data') })
    assert.equal(await (await fetch(`${first.httpAddr}/v1/kv/full/before`, { method: 'PUT', body: 'x' })).text(), 'true')
    fillUp(join(disk, 'filler'))
    // Values large enough that the log must grow: each write needs space that is not there.
    const big = 'v'.repeat(300_000)
    const stalled = Array.from({ length: 3 }, (_, i) => fetch(`${first.httpAddr}/v1/kv/full/big${i}`, { method: 'PUT', body: big }).then((r) => r.text()))
    await until('the agent notices the full disk', () => (/the disk is full, retrying/.test(first.output()) ? true : undefined))
    // Reads still answer; the process is alive.
    assert.equal((await fetch(`${first.httpAddr}/v1/kv/full/before`)).status, 200)
    assert.equal(first.proc.exitCode, null)
    rmSync(join(disk, 'filler'))
    assert.deepEqual(await Promise.all(stalled), ['true', 'true', 'true'])
    assert.match(first.output(), /the disk has room again/)
    assert.equal(await (await fetch(`${first.httpAddr}/v1/kv/full/after`, { method: 'PUT', body: 'y' })).text(), 'true')
    await first.kill9()
    const second = await startAgent({ dataDir: join(disk, 'data') })
    try {
      const keys = (await (await fetch(`${second.httpAddr}/v1/kv/full/?keys`)).json()) as string[]
      assert.deepEqual(keys.sort(), ['full/after', 'full/before', 'full/big0', 'full/big1', 'full/big2'])
    } finally {
      await second.stop()
    }
  } finally {
    unmount(disk)
    removeDir(disk)
  }
})
