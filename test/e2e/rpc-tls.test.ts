/**
 * Server RPC guarded. TLS (tls.internal_rpc with verify_incoming, verify_outgoing and
 * verify_server_hostname), with certificates made by `consul tls` as a user makes them: three
 * servers (127.0.0.30-32) form a cluster and a client agent (.33) with a client certificate serves
 * through them; a server whose certificate another CA signed (.34) and one without TLS (.35) join
 * the gossip pool but never the cluster: no leader for them, never voters, refused by name in the
 * servers' logs. Then limits.rpc_rate on another client agent (.36): past the burst its calls to
 * the servers get Consul's 429 with Retry-After, its own endpoints still answer, and a reload lifts it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const SERVERS = ['127.0.0.30', '127.0.0.31', '127.0.0.32']
const CLIENT = '127.0.0.33'
const FOREIGN = '127.0.0.34'
const PLAIN = '127.0.0.35'
const LIMITED = '127.0.0.36'
const LAN_PORT = 20000 + Math.floor(Math.random() * 20000)
let dir = ''
const servers: RunningAgent[] = []
const others: RunningAgent[] = []
let client: RunningAgent
let clientFiles: { ca: string; cert: string; key: string }

async function consul(cwd: string, args: string[]): Promise<void> {
  const res = await runCli(CONSUL_BIN, args, { cwd })
  assert.equal(res.code, 0, `consul ${args.join(' ')}: ${res.stdout}${res.stderr}`)
}

/** A config file of TLS settings: `tls.defaults` for the files, `tls.internal_rpc` for the checks. */
function tlsConfig(name: string, files: { ca: string; cert: string; key: string } | undefined, extra: object = {}): string {
  const file = join(dir, `${name}.json`)
  const verify = { verify_incoming: true, verify_outgoing: true, verify_server_hostname: true }
  writeFileSync(file, JSON.stringify({ performance: { raft_multiplier: 1 }, ...extra, ...(files ? { tls: { defaults: { ca_file: files.ca, cert_file: files.cert, key_file: files.key }, internal_rpc: verify } } : {}) }))
  return file
}

const args = (host: string, config: string): string[] => [`-bind=${host}`, `-client=${host}`, `-serf-lan-port=${LAN_PORT}`, `-retry-join=${SERVERS[0]}:${LAN_PORT}`, '-retry-interval=200ms', `-config-file=${config}`]

const get = async (a: RunningAgent, path: string) => {
  const res = await fetch(`${a.httpAddr}${path}`, { signal: AbortSignal.timeout(15_000) })
  return { status: res.status, text: await res.text() }
}

before(async () => {
  dir = tempDir('rpc-tls-')
  const ours = join(dir, 'ours')
  const theirs = join(dir, 'theirs')
  mkdirSync(ours)
  mkdirSync(theirs)
  await consul(ours, ['tls', 'ca', 'create'])
  for (let i = 0; i < SERVERS.length; i++) await consul(ours, ['tls', 'cert', 'create', '-server', '-dc=dc1'])
  await consul(ours, ['tls', 'cert', 'create', '-client', '-dc=dc1'])
  clientFiles = { ca: join(ours, 'consul-agent-ca.pem'), cert: join(ours, 'dc1-client-consul-0.pem'), key: join(ours, 'dc1-client-consul-0-key.pem') }
  await consul(theirs, ['tls', 'ca', 'create'])
  await consul(theirs, ['tls', 'cert', 'create', '-server', '-dc=dc1'])
  const ca = join(ours, 'consul-agent-ca.pem')
  const server = (i: number) => ({ ca, cert: join(ours, `dc1-server-consul-${i}.pem`), key: join(ours, `dc1-server-consul-${i}-key.pem`) })
  servers.push(...(await Promise.all(SERVERS.map((host, i) => startAgent({ bootstrapExpect: 3, node: `tls-s${i}`, args: args(host, tlsConfig(`s${i}`, server(i))) })))))
  client = await startAgent({ client: true, node: 'tls-c', args: args(CLIENT, tlsConfig('c', { ca, cert: join(ours, 'dc1-client-consul-0.pem'), key: join(ours, 'dc1-client-consul-0-key.pem') })) })
  await until('a leader over TLS', async () => {
    const res = await get(servers[0]!, '/v1/status/leader')
    return res.status === 200 && res.text !== '""' ? true : undefined
  })
  // Intruders come once the cluster is there. The foreign server trusts its own CA and ours, so
  // its refusal is our servers' doing alone; both wait for three servers, as the others did.
  const foreignCa = join(dir, 'both-cas.pem')
  writeFileSync(foreignCa, [ca, join(theirs, 'consul-agent-ca.pem')].map((f) => readFileSync(f, 'utf8')).join(''))
  others.push(
    ...(await Promise.all([
      startAgent({ bootstrapExpect: 3, node: 'tls-foreign', args: args(FOREIGN, tlsConfig('foreign', { ca: foreignCa, cert: join(theirs, 'dc1-server-consul-0.pem'), key: join(theirs, 'dc1-server-consul-0-key.pem') })) }),
      startAgent({ bootstrapExpect: 3, node: 'tls-plain', args: args(PLAIN, tlsConfig('plain', undefined)) }),
    ])),
  )
})

after(async () => {
  const all = [...servers, ...others, client].filter(Boolean)
  await Promise.all(all.map((a) => a.stop()))
  for (const a of all) removeDir(a.dataDir)
  removeDir(dir)
})

test('servers with certificates of the CA form the cluster over TLS, and a client agent with a client certificate serves through them', async () => {
  const put = await fetch(`${client.httpAddr}/v1/kv/tls/k`, { method: 'PUT', body: 'over-tls', signal: AbortSignal.timeout(15_000) })
  assert.equal(put.status, 200, await put.text())
  for (const a of [client, ...servers]) assert.equal((await get(a, '/v1/kv/tls/k?raw&consistent')).text, 'over-tls')
})

test('a server whose certificate another CA signed, and one without TLS, never join the cluster', async () => {
  // Both are gossip members (gossip is guarded by the gossip key, not TLS)...
  await until('the intruders in the member list', async () => {
    const members = JSON.parse((await get(servers[0]!, '/v1/agent/members')).text) as Array<{ Name: string }>
    return ['tls-foreign', 'tls-plain'].every((n) => members.some((m) => m.Name === n)) ? true : undefined
  })
  // ...and every server refuses their RPC, saying why.
  await until('refusals in the servers\' logs', () => {
    const logs = servers.map((s) => s.output()).join('\n')
    return new RegExp(`refused a connection from ${FOREIGN.replaceAll('.', '\\.')}:\\d+: tls: the peer's certificate .* is not signed by the CA`).test(logs) &&
      new RegExp(`refused a connection from ${PLAIN.replaceAll('.', '\\.')}:\\d+: tls: a plaintext connection`).test(logs)
      ? true
      : undefined
  })
  await until('the intruders to hear why', () => {
    const foreign = others[0]!.output()
    const plain = others[1]!.output()
    return /refused this server: tls: the peer's certificate/.test(foreign) && /refused this server: tls: a plaintext connection/.test(plain) ? true : undefined
  })
  // Writes go on through the cluster while they knock.
  const put = await fetch(`${servers[2]!.httpAddr}/v1/kv/tls/after`, { method: 'PUT', body: 'x', signal: AbortSignal.timeout(15_000) })
  assert.equal(put.status, 200)
  for (const intruder of others) {
    const res = await get(intruder, '/v1/kv/tls/k')
    assert.equal(res.status, 500, `${intruder.httpAddr}: ${res.text}`)
    assert.match(res.text, /No cluster leader/)
    assert.equal((await get(intruder, '/v1/status/leader')).text, '""')
  }
  // The leader may list them as non-voters (membership says they are servers), but one that is never
  // reached never catches up, so it is never promoted and never counts towards a quorum.
  const config = JSON.parse((await get(servers[0]!, '/v1/operator/raft/configuration')).text) as { Servers: Array<{ Node: string; Voter: boolean }> }
  const voters = config.Servers.filter((s) => s.Voter).map((s) => s.Node).sort()
  assert.deepEqual(voters, ['tls-s0', 'tls-s1', 'tls-s2'])
})

test('limits.rpc_rate: past the burst a client agent\'s calls to the servers get 429 with Retry-After; its own endpoints answer; a reload lifts it', async () => {
  // One call in 100 s after a burst of 20: the agent's own syncs take tokens too, so the 429 only comes sooner.
  const config = tlsConfig('limited', clientFiles, { limits: { rpc_rate: 0.01, rpc_max_burst: 20 } })
  const limited = await startAgent({ client: true, node: 'tls-limited', args: args(LIMITED, config) })
  others.push(limited)
  await until('the limited agent to know a server', async () => ((await get(limited, '/v1/status/leader')).status !== 500 ? true : undefined))
  let refused: Response | undefined
  for (let i = 0; i < 25 && !refused; i++) {
    const res = await fetch(`${limited.httpAddr}/v1/kv/tls/k`, { signal: AbortSignal.timeout(15_000) })
    if (res.status === 429) refused = res
    else assert.equal(res.status, 200, await res.text())
  }
  assert.ok(refused, 'a 429 within the burst and a few more')
  assert.equal(await refused.text(), 'RPC rate limit exceeded')
  const retry = Number(refused.headers.get('retry-after'))
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 100, `Retry-After: ${refused.headers.get('retry-after')}`)
  assert.equal((await get(limited, '/v1/agent/self')).status, 200, 'the agent\'s own endpoints make no calls to the servers')
  // Reloaded without the limit: calls go through again at once.
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), limits: {} }))
  limited.proc.kill('SIGHUP')
  await until('the reload to lift the limit', async () => ((await get(limited, '/v1/kv/tls/k?raw')).status === 200 ? true : undefined))
  assert.equal((await get(limited, '/v1/kv/tls/k?raw')).text, 'over-tls')
})
