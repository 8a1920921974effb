/**
 * ACLs on a three-server cluster (127.0.0.20-22) with a client agent (127.0.0.23): tokens made
 * through the client agent are enforced by every server, the matrix holds through the client agent
 * and through a follower, and a token deleted on one server is refused by all of them at once.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { removeDir, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const SERVERS = ['127.0.0.20', '127.0.0.21', '127.0.0.22']
const CLIENT = '127.0.0.23'
const LAN_PORT = 20000 + Math.floor(Math.random() * 20000)
const MASTER = randomUUID()
let dir = ''
const servers: RunningAgent[] = []
let client: RunningAgent

const call = async (a: RunningAgent, method: string, path: string, token: string | undefined, body?: unknown) => {
  const res = await fetch(`${a.httpAddr}${path}`, { method, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(15_000) })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

before(async () => {
  dir = tempDir('acl-cluster-')
  const config = join(dir, 'acl.json')
  writeFileSync(config, JSON.stringify({ performance: { raft_multiplier: 1 }, acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: MASTER, agent: MASTER } } }))
  const args = (host: string): string[] => [`-bind=${host}`, `-client=${host}`, `-serf-lan-port=${LAN_PORT}`, `-retry-join=${SERVERS[0]}:${LAN_PORT}`, '-retry-interval=200ms', `-config-file=${config}`]
  servers.push(...(await Promise.all(SERVERS.map((host, i) => startAgent({ bootstrapExpect: 3, node: `acl-s${i}`, args: args(host) })))))
  client = await startAgent({ client: true, node: 'acl-c', dns: true, args: args(CLIENT) })
  // A leader, the built-ins it creates, and the client agent knowing the servers.
  await until('the client agent to serve with the management token', async () => ((await call(client, 'GET', '/v1/acl/token/self', MASTER)).status === 200 ? true : undefined), 30_000)
})

after(async () => {
  await Promise.all([...servers, client].filter(Boolean).map((a) => a.stop()))
  for (const a of [...servers, client].filter(Boolean)) removeDir(a.dataDir)
  removeDir(dir)
})

test('a token made through the client agent is enforced by every server; deleted on one server, refused by all at once', async () => {
  const policy = await call(client, 'PUT', '/v1/acl/policy', MASTER, { Name: 'web', Rules: 'key_prefix "web/" { policy = "write" }\nservice_prefix "" { policy = "read" }' })
  assert.equal(policy.status, 200, policy.text)
  const made = await call(client, 'PUT', '/v1/acl/token', MASTER, { Policies: [{ Name: 'web' }] })
  assert.equal(made.status, 200, made.text)
  const { AccessorID, SecretID: web } = JSON.parse(made.text) as { AccessorID: string; SecretID: string }
  assert.equal((await call(client, 'PUT', '/v1/kv/db/x', MASTER, 'v')).status, 200)
  // Each server resolves tokens from its own copy of the tables: a follower knows the token once it has applied it.
  for (const a of servers) await until(`${a.httpAddr} to know the token`, async () => ((await call(a, 'GET', '/v1/acl/token/self?stale', web)).status === 200 ? true : undefined))
  for (const a of [client, ...servers]) {
    assert.equal((await call(a, 'PUT', `/v1/kv/web/${a.httpAddr.split('/')[2]!.split(':')[0]}`, web, 'v')).status, 200)
    assert.equal((await call(a, 'GET', '/v1/kv/db/x?consistent', web)).status, 403)
    const all = await call(a, 'GET', '/v1/kv/?recurse&consistent', web)
    assert.equal(all.status, 200)
    assert.ok((JSON.parse(all.text) as Array<{ Key: string }>).every((e) => e.Key.startsWith('web/')))
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), 'true')
    assert.equal((await call(a, 'GET', '/v1/kv/web/?recurse&consistent', undefined)).status, 404, 'anonymous: nothing')
  }
  // Delete it through one follower: every server and the client agent refuse it from then on.
  const leader = JSON.parse((await call(servers[0]!, 'GET', '/v1/status/leader', undefined)).text) as string
  const follower = servers.find((s) => !leader.startsWith(`${new URL(s.httpAddr).hostname}:`))!
  assert.equal((await call(follower, 'DELETE', `/v1/acl/token/${AccessorID}`, MASTER)).status, 200)
  for (const a of [client, ...servers]) {
    const refused = await until(`${a.httpAddr} to refuse the deleted token`, async () => {
      const res = await call(a, 'GET', '/v1/kv/web/?recurse&consistent', web)
      return res.status === 403 ? res.text : undefined
    })
    assert.equal(refused, 'ACL not found')
  }
})

test('the client agent decides its own endpoints with the servers\' answer: agent:read, service registration', async () => {
  assert.equal((await call(client, 'GET', '/v1/agent/self', undefined)).status, 403)
  assert.equal((await call(client, 'GET', '/v1/agent/self', MASTER)).status, 200)
  const svcPolicy = await call(client, 'PUT', '/v1/acl/policy', MASTER, { Name: 'api-writer', Rules: 'service "api" { policy = "write" }' })
  assert.equal(svcPolicy.status, 200, svcPolicy.text)
  const { SecretID } = JSON.parse((await call(client, 'PUT', '/v1/acl/token', MASTER, { Policies: [{ Name: 'api-writer' }] })).text) as { SecretID: string }
  assert.equal((await call(client, 'PUT', '/v1/agent/service/register', SecretID, { Name: 'api', Port: 80 })).status, 200)
  assert.equal((await call(client, 'PUT', '/v1/agent/service/register', SecretID, { Name: 'db', Port: 5432 })).status, 403)
  // Anti-entropy (the agent token) brings the registration to the catalog.
  await until('api in the catalog', async () => {
    const res = await call(servers[0]!, 'GET', '/v1/catalog/service/api', MASTER)
    return (JSON.parse(res.text) as unknown[]).length === 1 ? true : undefined
  })
})

test('DNS on the client agent follows its DNS token: a new one refetches the catalog replica at once', async () => {
  const dig = (name: string): Promise<string[]> =>
    new Promise((resolve, reject) => execFile('dig', [`@${CLIENT}`, '-p', String(client.dnsPort), '+time=5', '+tries=1', '+short', name], (err, out) => (err ? reject(err) : resolve(out.split('\n').filter(Boolean)))))
  const registered = await call(client, 'PUT', '/v1/agent/service/register', MASTER, { Name: 'dnsweb', Port: 80 })
  assert.equal(registered.status, 200, registered.text)
  await until('dnsweb in the catalog', async () => ((JSON.parse((await call(servers[0]!, 'GET', '/v1/catalog/service/dnsweb', MASTER)).text) as unknown[]).length === 1 ? true : undefined))
  assert.deepEqual(await dig('dnsweb.service.consul'), [], 'anonymous under deny: nothing')
  const policy = await call(client, 'PUT', '/v1/acl/policy', MASTER, { Name: 'dns-read', Rules: 'node_prefix "" { policy = "read" }\nservice_prefix "" { policy = "read" }' })
  assert.equal(policy.status, 200, policy.text)
  const { SecretID } = JSON.parse((await call(client, 'PUT', '/v1/acl/token', MASTER, { Policies: [{ Name: 'dns-read' }] })).text) as { SecretID: string }
  assert.equal((await call(client, 'PUT', '/v1/agent/token/dns', MASTER, { Token: SecretID })).status, 200)
  // Nothing in the catalog changes: only the refetch under the new token can bring the answer.
  assert.deepEqual(await until('dig to answer under the DNS token', async () => {
    const a = await dig('dnsweb.service.consul')
    return a.length ? a : undefined
  }, 10_000), [CLIENT])
})
