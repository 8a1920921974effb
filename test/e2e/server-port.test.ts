/**
 * The cluster ports of a real agent process (server RPC and LAN membership) against bad input:
 * garbage, an unknown protocol version, and an agent of another datacenter are refused with one
 * log line each, and the agent goes on serving (the frame-level cases are test/rpc/server.test.ts).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { RPC_PROTOCOL_VERSION, WireCodec, encodePreamble } from '../../src/rpc/frame.js'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

let agent: RunningAgent

before(async () => {
  agent = await startAgent()
})

after(async () => {
  await agent.stop()
})

/** Writes the chunks and resolves when the agent closes the connection. */
function send(address: string, chunks: Uint8Array[]): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))]
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      for (const c of chunks) socket.write(c)
    })
    socket.on('data', () => {})
    socket.on('error', () => resolve())
    socket.on('close', () => resolve())
  })
}

const codec = new WireCodec()
const hello = (over: Partial<{ version: number; datacenter: string; cluster: string }> = {}): Uint8Array =>
  codec.encode({ kind: 'hello', version: RPC_PROTOCOL_VERSION, datacenter: 'dc1', cluster: '', id: 'intruder', ...over })

test('garbage, an unknown version and another datacenter on both cluster ports: one log line each, the agent still serves', async () => {
  const cases: Array<[Uint8Array[], RegExp]> = [
    [[Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], /rpc: refused a connection from \S+: garbage/],
    [[encodePreamble(RPC_PROTOCOL_VERSION + 1), hello({ version: RPC_PROTOCOL_VERSION + 1 })], /rpc: refused a connection from \S+: version/],
    [[encodePreamble(), hello({ datacenter: 'dc2' })], /rpc: refused a connection from \S+: datacenter/],
    [[encodePreamble(), hello({ cluster: 'another-cluster' })], /rpc: refused a connection from \S+: cluster/],
  ]
  await until('the cluster named by its first leader', () => (/server: this cluster is [0-9a-f-]{36}/.test(agent.output()) ? true : undefined))
  for (const address of [agent.serverAddr, agent.lanAddr]) {
    for (const [chunks, line] of cases) {
      const before = (agent.output().match(new RegExp(line, 'g')) ?? []).length
      await send(address, chunks)
      await until(`the refusal in the log (${line})`, () => ((agent.output().match(new RegExp(line, 'g')) ?? []).length === before + 1 ? true : undefined))
    }
  }
  const res = await fetch(`${agent.httpAddr}/v1/kv/still`, { method: 'PUT', body: 'serving' })
  assert.equal(await res.text(), 'true')
  assert.match(agent.output(), /\[INFO\]  agent: started/)
})

test('an agent of another datacenter cannot join: -join fails with the refusal', async () => {
  const out = await runCli(CONSUL_BIN, ['agent', '-server', `-data-dir=${tempDir()}`, '-datacenter=dc2', '-bind=127.0.0.1', '-http-port=0', '-dns-port=-1', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', `-join=${agent.lanAddr}`])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /==> Failed to join 127\.0\.0\.1:\d+: .*datacenter/)
  const members = (await (await fetch(`${agent.httpAddr}/v1/agent/members`)).json()) as unknown[]
  assert.equal(members.length, 1)
})

test('a server of another cluster (same datacenter) cannot join: -join fails with the refusal, and neither cluster changes', async () => {
  const dataDir = tempDir()
  const other = await startAgent({ dataDir, node: 'other-cluster' })
  await until('the other cluster named', () => (/server: this cluster is/.test(other.output()) ? true : undefined))
  await other.stop()
  const out = await runCli(CONSUL_BIN, ['agent', '-server', `-data-dir=${dataDir}`, '-node=other-cluster', '-bind=127.0.0.1', '-http-port=0', '-dns-port=-1', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', `-join=${agent.lanAddr}`])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /==> Failed to join 127\.0\.0\.1:\d+: .*cluster/)
  const members = (await (await fetch(`${agent.httpAddr}/v1/agent/members`)).json()) as unknown[]
  assert.equal(members.length, 1)
  const peers = (await (await fetch(`${agent.httpAddr}/v1/status/peers`)).json()) as string[]
  assert.deepEqual(peers, [agent.serverAddr])
  removeDir(dataDir)
})
