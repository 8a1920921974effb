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
let server: RunningAgent
let client: RunningAgent
let clientDir = ''
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
  server = await startAgent({ dataDir: serverDir, node: 'enc-s', args: [`-encrypt=${KEY}`] })
  agents.push(server)
  clientDir = dir()
  client = await startAgent({ client: true, dataDir: clientDir, node: 'enc-c', args: [`-encrypt=${KEY}`, `-join=${server.lanAddr}`] })
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

test('consul keyring: install, use and remove a key on every member; both stay in the pool', async () => {
  const NEW = randomBytes(32).toString('base64')
  const keyring = (...args: string[]) => runCli(CONSUL_BIN, ['keyring', ...args], { env: { CONSUL_HTTP_ADDR: client.httpAddr } })
  const listed = async (): Promise<string> => {
    const out = await keyring('-list')
    assert.equal(out.code, 0, out.stderr)
    return out.stdout
  }
  // A server of dc2 in the WAN pool: a keyring operation reaches its LAN pool too, through it (Consul's Internal.KeyringOperation).
  const dc2Dir = dir()
  const wanAddr = /WAN membership on (\S+)/.exec(server.output())![1]!
  const dc2 = await startAgent({ dataDir: dc2Dir, node: 'enc-s2', args: ['-bind=127.0.0.2', '-datacenter=dc2', `-encrypt=${KEY}`, `-join-wan=${wanAddr}`] })
  agents.push(dc2)
  await until('both servers in the WAN pool', async () => {
    const m = (await (await fetch(`${server.httpAddr}/v1/agent/members?wan=1`)).json()) as Array<{ Status: number }>
    return m.length === 2 && m.every((x) => x.Status === 1) ? true : undefined
  })
  assert.equal(await listed(), `==> Gathering installed encryption keys...\n\nWAN:\n  ${KEY} [2/2]\n\ndc1 (LAN):\n  ${KEY} [2/2]\n\ndc2 (LAN):\n  ${KEY} [1/1]\n`)
  assert.equal((await keyring(`-install=${NEW}`)).code, 0)
  assert.match(await listed(), new RegExp(`${escape(KEY)} \\[2/2\\]\\n  ${escape(NEW)} \\[2/2\\]`))
  const primary = await runCli(CONSUL_BIN, ['keyring', `-remove=${KEY}`], { env: { CONSUL_HTTP_ADDR: client.httpAddr } })
  assert.equal(primary.code, 1)
  assert.match(primary.stderr, /Removing the primary key is not allowed/)
  assert.equal((await keyring(`-use=${NEW}`)).code, 0)
  assert.equal((await keyring(`-remove=${KEY}`)).code, 0)
  assert.equal(await listed(), `==> Gathering installed encryption keys...\n\nWAN:\n  ${NEW} [2/2]\n\ndc1 (LAN):\n  ${NEW} [2/2]\n\ndc2 (LAN):\n  ${NEW} [1/1]\n`)
  assert.deepEqual(JSON.parse(readFileSync(join(clientDir, 'serf', 'local.keyring'), 'utf8')), [NEW])
  for (const ring of ['local.keyring', 'remote.keyring']) assert.deepEqual(JSON.parse(readFileSync(join(dc2Dir, 'serf', ring), 'utf8')), [NEW], `dc2's ${ring}`)
  // The same from a server: its WAN pool, its LAN pool, dc2's.
  const pools = (await (await fetch(`${server.httpAddr}/v1/operator/keyring`)).json()) as Array<{ WAN: boolean; Datacenter: string; NumNodes: number }>
  assert.deepEqual(pools.map((p) => [p.WAN, p.Datacenter, p.NumNodes]), [[true, '', 2], [false, 'dc1', 2], [false, 'dc2', 1]])
  const members = (await (await fetch(`${server.httpAddr}/v1/agent/members`)).json()) as Array<{ Status: number }>
  assert.deepEqual(members.map((m) => m.Status), [1, 1])
})

test('an encrypt value that is not a key stops the agent naming the key', async () => {
  const out = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', '-encrypt=c2hvcnQ='])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /^==> Config validation failed: config: encrypt: the key must be 16, 24 or 32 bytes encoded in base64/)
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}
