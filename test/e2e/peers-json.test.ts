/**
 * Manual recovery with data_dir/raft/peers.json, as Consul documents it for a cluster that lost
 * quorum for good: the file names the surviving servers; the agent applies its whole log, stores
 * the new configuration, removes the file and serves its data. A malformed file stops the agent
 * with the file and the entry named.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir } from '../helpers/agent.js'

test('peers.json recovery keeps every write, removes the file, and leaves this server the leader', async () => {
  const dataDir = tempDir()
  try {
    const first = await startAgent({ dataDir })
    for (let i = 0; i < 20; i++) await (await fetch(`${first.httpAddr}/v1/kv/r/${i}`, { method: 'PUT', body: `v${i}` })).text()
    const self = (await (await fetch(`${first.httpAddr}/v1/agent/self`)).json()) as { Config: { NodeID: string } }
    await first.kill9()
    const peers = join(dataDir, 'raft', 'peers.json')
    writeFileSync(peers, JSON.stringify([{ id: self.Config.NodeID, address: '127.0.0.1:8300', non_voter: false }]))
    const second = await startAgent({ dataDir })
    try {
      assert.match(second.output(), /recovered the cluster configuration at index \d+/)
      assert.equal(existsSync(peers), false, 'the file is removed once its configuration is stored')
      const pairs = (await (await fetch(`${second.httpAddr}/v1/kv/r/?recurse`)).json()) as unknown[]
      assert.equal(pairs.length, 20)
      assert.equal(await (await fetch(`${second.httpAddr}/v1/status/leader`)).json(), second.serverAddr, 'this server, where it listens now')
      assert.equal(await (await fetch(`${second.httpAddr}/v1/kv/r/after`, { method: 'PUT', body: 'x' })).text(), 'true')
    } finally {
      await second.stop()
    }
    const third = await startAgent({ dataDir })
    try {
      assert.doesNotMatch(third.output(), /recovered the cluster configuration/, 'no second recovery')
      assert.equal(((await (await fetch(`${third.httpAddr}/v1/kv/r/?recurse`)).json()) as unknown[]).length, 21)
    } finally {
      await third.stop()
    }
  } finally {
    removeDir(dataDir)
  }
})

test('a malformed peers.json stops the agent naming the file and the entry', async () => {
  const dataDir = tempDir()
  try {
    const first = await startAgent({ dataDir })
    await first.stop()
    const peers = join(dataDir, 'raft', 'peers.json')
    for (const [content, want] of [
      ['["127.0.0.1:8300"]', /peers\.json: \[0\]: addresses alone are the raft protocol 2 form/],
      ['[{"id": "x", "address": "nowhere"}]', /peers\.json: \[0\]\.address: must be "ip:port"/],
      ['{', /peers\.json: not valid JSON/],
    ] as const) {
      writeFileSync(peers, content)
      await assert.rejects(startAgent({ dataDir }), (err: Error) => want.test(err.message), content)
      assert.equal(existsSync(peers), true, 'a refused file is left for the operator to fix')
    }
  } finally {
    removeDir(dataDir)
  }
})
