import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, removeDir, runCli, CONSUL_BIN } from '../helpers/agent.js'
import { getJson, until } from '../helpers/poll.js'

test('members, operator raft list-peers, keygen and leave', async () => {
  const agent = await startAgent()
  try {
    const env = { CONSUL_HTTP_ADDR: agent.httpAddr }
    const members = await runCli(CONSUL_BIN, ['members'], { env })
    assert.equal(members.code, 0, members.stderr)
    const esc = (s: string): string => s.replace(/[.[\]]/g, '\\$&')
    assert.match(members.stdout, new RegExp(`^Node\\s+Address\\s+Status\\s+Type\\s+Build\\s+Protocol\\s+DC\\s+Partition\\s+Segment\\ntest-node\\s+${esc(agent.lanAddr)}\\s+alive\\s+server\\s+\\S+\\s+2\\s+dc1\\s+default\\s+<all>\\n$`))

    const config = await getJson<{ Servers: Array<Record<string, unknown>>; Index: number }>(`${agent.httpAddr}/v1/operator/raft/configuration`)
    assert.equal(config.Index, 1)
    assert.deepEqual(Object.keys(config.Servers[0]!).sort(), ['Address', 'ID', 'Leader', 'Node', 'ProtocolVersion', 'Voter'])
    assert.equal(config.Servers[0]!.Leader, true)
    const peers = await runCli(CONSUL_BIN, ['operator', 'raft', 'list-peers'], { env })
    assert.match(peers.stdout, new RegExp(`^Node\\s+ID\\s+Address\\s+State\\s+Voter\\s+RaftProtocol\\ntest-node\\s+\\S+\\s+${esc(agent.serverAddr)}\\s+leader\\s+true\\s+3\\n$`))

    const key = (await runCli(CONSUL_BIN, ['keygen'])).stdout.trim()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    assert.notEqual((await runCli(CONSUL_BIN, ['keygen'])).stdout.trim(), key)

    const leave = await runCli(CONSUL_BIN, ['leave'], { env })
    assert.equal(leave.stdout, 'Graceful leave complete\n')
    const code = await until('the agent to exit', async () => agent.proc.exitCode ?? undefined)
    assert.equal(code, 0, 'the agent exits cleanly after leaving')
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
  }
})
