/**
 * Gossip encryption between real agents: a server and a client agent started with one `-encrypt`
 * key gossip (the key kept in data_dir/serf/local.keyring); an agent with another key cannot join
 * and both sides say why; a key that is not one is refused at start naming the key.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const KEY = randomBytes(32).toString('base64')
const OTHER = randomBytes(32).toString('base64')
const dirs: string[] = []
const agents: RunningAgent[] = []
after(async () => {
  await Promise.all(agents.map((a) => a.kill9()))
  for (const d of dirs) removeDir(d)
})
const dir = (): string => {
  const d = tempDir('gossip-encrypt-')
  dirs.push(d)
  return d
}

test('agents with one encrypt key gossip; one with another key cannot join, with the reason on both sides', async () => {
  const serverDir = dir()
  const server = await startAgent({ dataDir: serverDir, node: 'enc-s', args: [`-encrypt=${KEY}`] })
  agents.push(server)
  const client = await startAgent({ client: true, dataDir: dir(), node: 'enc-c', args: [`-encrypt=${KEY}`, `-join=${server.lanAddr}`] })
  agents.push(client)
  await until('both members alive', async () => {
    const members = (await (await fetch(`${server.httpAddr}/v1/agent/members`)).json()) as Array<{ Name: string; Status: number }>
    return members.length === 2 && members.every((m) => m.Status === 1) ? true : undefined
  })
  assert.deepEqual(JSON.parse(readFileSync(join(serverDir, 'serf', 'local.keyring'), 'utf8')), [KEY])
  const self = (await (await fetch(`${server.httpAddr}/v1/agent/self`)).json()) as { Stats: { serf_lan: Record<string, string> } }
  assert.equal(self.Stats.serf_lan.encrypted, 'true')

  const out = await runCli(CONSUL_BIN, ['agent', `-data-dir=${dir()}`, '-node=enc-x', '-bind=127.0.0.1', '-http-port=0', '-dns-port=-1', '-serf-lan-port=0', `-encrypt=${OTHER}`, `-join=${server.lanAddr}`])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /Failed to join 127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+: No installed keys could decrypt the message/)
  await until('the refusal in the server log', () => (/memberlist: refused a push-pull from 127\.0\.0\.1:\d+: no installed key opens it/.test(server.output()) ? true : undefined))
})

test('an encrypt value that is not a key stops the agent naming the key', async () => {
  const out = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', '-encrypt=c2hvcnQ='])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /^==> Config validation failed: config: encrypt: the key must be 16, 24 or 32 bytes encoded in base64/)
})
