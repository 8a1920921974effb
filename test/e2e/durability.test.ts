import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, removeDir, tempDir } from '../helpers/agent.js'

test('kill -9 after N acknowledged writes loses none of them, and indexes keep rising', async () => {
  const dataDir = tempDir()
  try {
    const first = await startAgent({ dataDir })
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
