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
import { startAgent, removeDir, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

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

test('three servers that lost two for good: autopilot says so, peers.json brings the survivor back with its data, and two new servers make it three again', async () => {
  const hosts = ['127.0.0.21', '127.0.0.22', '127.0.0.23']
  const lanPort = 20000 + Math.floor(Math.random() * 20000)
  const rpcPort = lanPort + 1
  const dir = tempDir('peers-json-')
  const config = join(dir, 'perf.json')
  writeFileSync(config, JSON.stringify({ performance: { raft_multiplier: 1 } }))
  const start = (host: string, dataDir: string, join = hosts[0]) =>
    startAgent({ dataDir, bootstrapExpect: 3, node: `p${host.split('.').at(-1)}`, args: [`-bind=${host}`, `-client=${host}`, `-serf-lan-port=${lanPort}`, `-server-port=${rpcPort}`, `-retry-join=${join}:${lanPort}`, '-retry-interval=200ms', `-config-file=${config}`] })
  const nodes = await Promise.all(hosts.map(async (host) => ({ host, dataDir: tempDir(), agent: undefined as unknown as RunningAgent })))
  await Promise.all(nodes.map(async (n) => (n.agent = await start(n.host, n.dataDir))))
  const get = (n: { agent: RunningAgent }, path: string) => fetch(`${n.agent.httpAddr}${path}`, { signal: AbortSignal.timeout(15_000) })
  const health = async (n: { agent: RunningAgent }) => {
    const res = await get(n, '/v1/operator/autopilot/health')
    return { status: res.status, body: (await res.json()) as { Healthy: boolean; FailureTolerance: number; Servers: Array<{ Name: string; Address: string; Leader: boolean; Healthy: boolean; Voter: boolean; SerfStatus: string; LastIndex: number; StableSince: string; LastContact: string }> } }
  }
  const extra: Array<{ host: string; dataDir: string; agent: RunningAgent }> = []
  try {
    const leaderAddr = await until('a leader', async () => ((await (await get(nodes[0]!, '/v1/status/leader')).json()) as string) || undefined)
    const leader = nodes.find((n) => leaderAddr.startsWith(`${n.host}:`))!
    const [f1, survivor] = nodes.filter((n) => n !== leader) as [typeof leader, typeof leader]
    for (let i = 0; i < 30; i++) assert.equal(await (await fetch(`${survivor.agent.httpAddr}/v1/kv/keep/${i}`, { method: 'PUT', body: `v${i}` })).text(), 'true')

    // Healthy, through a follower: every server current, one more may fail.
    const ok = await until('autopilot healthy', async () => {
      const h = await health(survivor)
      return h.status === 200 && h.body.Servers.length === 3 ? h.body : undefined
    })
    assert.equal(ok.FailureTolerance, 1)
    assert.deepEqual(ok.Servers.map((s) => s.Leader).filter(Boolean), [true])
    for (const s of ok.Servers) {
      assert.equal(s.Healthy, true, JSON.stringify(s))
      assert.equal(s.SerfStatus, 'alive')
      assert.ok(!Number.isNaN(Date.parse(s.StableSince)) && /^\d+(\.\d+)?(ns|µs|ms|s)$|^0s$/.test(s.LastContact), JSON.stringify(s))
    }

    await f1.agent.kill9()
    const one = await until('autopilot to see the dead follower', async () => {
      const h = await health(survivor)
      return h.status === 429 ? h.body : undefined
    })
    assert.equal(one.Healthy, false)
    assert.equal(one.FailureTolerance, 0)
    assert.deepEqual(one.Servers.filter((s) => !s.Healthy).map((s) => s.Address), [`${f1.host}:${rpcPort}`])

    await leader.agent.kill9()
    await until('the survivor to lose the leader', async () => ((await get(survivor, '/v1/kv/keep/0')).status === 500 ? true : undefined))
    const self = (await (await get(survivor, '/v1/agent/self')).json()) as { Config: { NodeID: string } }
    await survivor.agent.stop()
    writeFileSync(join(survivor.dataDir, 'raft', 'peers.json'), JSON.stringify([{ id: self.Config.NodeID, address: `${survivor.host}:${rpcPort}`, non_voter: false }]))
    survivor.agent = await start(survivor.host, survivor.dataDir)
    assert.match(survivor.agent.output(), /recovered the cluster configuration at index \d+/)
    await until('the survivor to lead', async () => ((await (await get(survivor, '/v1/status/leader')).json()) === `${survivor.host}:${rpcPort}` ? true : undefined))
    assert.equal(((await (await get(survivor, '/v1/kv/keep/?recurse')).json()) as unknown[]).length, 30, 'every write is there')
    assert.equal(await (await fetch(`${survivor.agent.httpAddr}/v1/kv/keep/after`, { method: 'PUT', body: 'x' })).text(), 'true')

    // Two new servers join and are added; the dead ones leave the configuration.
    for (const host of ['127.0.0.24', '127.0.0.25']) {
      const dataDir = tempDir()
      extra.push({ host, dataDir, agent: await start(host, dataDir, survivor.host) })
    }
    await until('three healthy servers again', async () => {
      const h = await health(survivor)
      return h.status === 200 && h.body.Servers.length === 3 && h.body.FailureTolerance === 1 ? h.body : undefined
    }).then((h) => assert.deepEqual(h.Servers.map((s) => s.Address.split(':')[0]).sort(), ['127.0.0.24', '127.0.0.25', survivor.host].sort()))
    for (const n of extra) {
      await until(`the data on ${n.host}`, async () => (((await (await get(n, '/v1/kv/keep/?recurse&stale')).json()) as unknown[]).length === 31 ? true : undefined))
    }
  } finally {
    await Promise.all([...nodes, ...extra].map((n) => n.agent?.stop()))
    for (const n of [...nodes, ...extra]) removeDir(n.dataDir)
    removeDir(dir)
  }
})
