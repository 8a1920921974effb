/**
 * ACLs against real agents: Debian's python3-consul and the npm `consul` package run their ACL
 * flows against an agent started as their harnesses start one (acl_datacenter + acl_master_token);
 * the issue's matrix over HTTP and DNS against a default-deny agent; and bad input.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { CONSUL_BIN, ROOT, removeDir, runCli, startAgent, startAgentWithConfig, tempDir, type RunningAgent } from '../helpers/agent.js'
import { npmClient } from './client-flows.js'
import { until } from '../helpers/poll.js'

const run = (cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })))

const agentWith = (config: object, dns = false): Promise<{ agent: RunningAgent; dir: string }> => startAgentWithConfig(config, { dns, prefix: 'acl-e2e-' })

describe('the client libraries\' ACL flows (legacy config: acl_datacenter + acl_master_token)', () => {
  const master = randomUUID()
  let agent: RunningAgent
  let dir: string
  before(async () => ({ agent, dir } = await agentWith({ acl_datacenter: 'dc1', acl_master_token: master })))
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('Debian python3-consul: legacy create, info, list, update, clone, destroy, and the token on KV and agent calls', { skip: !existsSync('/usr/lib/python3/dist-packages/consul/base.py') && 'python3-consul is not installed (.ci/run installs it)' }, async () => {
    const { hostname, port } = new URL(agent.httpAddr)
    const out = await run('/usr/bin/python3', [join(ROOT, 'test', 'e2e', 'python_consul_acl.py'), hostname, port, master])
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`)
    assert.match(out.stdout, /ACL flows: ok/)
  })

  test('the npm consul package: bootstrap once, then the legacy calls with the master token', async () => {
    const consul = npmClient(agent)
    const boot = await consul.acl.bootstrap()
    assert.match(boot.SecretID, /^[0-9a-f-]{36}$/)
    await assert.rejects(consul.acl.bootstrap(), (err: { statusCode?: number; message: string }) => err.statusCode === 403 && /ACL bootstrap no longer allowed \(reset index: \d+\)/.test(err.message))
    const { ID } = await consul.acl.legacy.create({ name: 'npm', type: 'client', rules: 'key "npm/" { policy = "write" }\nkey "" { policy = "read" }', token: boot.SecretID })
    const info = await consul.acl.legacy.info({ id: ID, token: master })
    assert.equal(info.Name, 'npm')
    assert.equal(info.Type, 'client')
    await consul.acl.legacy.update({ id: ID, name: 'npm2', type: 'client', rules: info.Rules, token: master })
    assert.equal((await consul.acl.legacy.info({ id: ID })).Name, 'npm2')
    const clone = await consul.acl.legacy.clone({ id: ID, token: master })
    assert.notEqual(clone.ID, ID)
    const list = await consul.acl.legacy.list({ token: master })
    assert.ok(list.some((a: { ID: string }) => a.ID === ID))
    await consul.kv.set({ key: 'npm/a', value: '1', token: ID })
    await assert.rejects(consul.kv.set({ key: 'other/a', value: '1', token: ID }), (err: { statusCode?: number }) => err.statusCode === 403)
    await consul.acl.legacy.destroy({ id: ID, token: master })
    assert.equal(await consul.acl.legacy.info({ id: ID }), undefined)
  })
})

describe('default deny: the issue\'s matrix over HTTP and DNS', () => {
  const master = randomUUID()
  let agent: RunningAgent
  let dir: string
  let web = ''
  const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const res = await fetch(`${agent.httpAddr}${path}`, { method, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: res.status, text: await res.text(), headers: res.headers }
  }
  const dig = async (name: string): Promise<string[]> => {
    const out = await run('dig', ['@127.0.0.1', '-p', String(agent.dnsPort), '+time=5', '+tries=1', '+short', name])
    return out.stdout.trim().split('\n').filter(Boolean)
  }
  before(async () => {
    ;({ agent, dir } = await agentWith({ acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: master, agent: master } } }, true))
    const policy = await call('PUT', '/v1/acl/policy', master, { Name: 'web', Rules: 'key_prefix "web/" { policy = "write" }\nservice_prefix "" { policy = "read" }' })
    assert.equal(policy.status, 200, policy.text)
    const token = await call('PUT', '/v1/acl/token', master, { Policies: [{ Name: 'web' }] })
    web = (JSON.parse(token.text) as { SecretID: string }).SecretID
    for (const k of ['web/a', 'db/x']) assert.equal((await call('PUT', `/v1/kv/${k}`, master, 'v')).status, 200)
    assert.equal((await call('PUT', '/v1/catalog/register', master, { Node: 'n2', Address: '10.0.0.2', Service: { Service: 'db', Port: 5432 } })).status, 200)
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('the web token: write web/x, 403 on db/x, a filtered recursive read, no registration, every service', async () => {
    assert.equal((await call('PUT', '/v1/kv/web/x', web, 'hi')).status, 200)
    const denied = await call('GET', '/v1/kv/db/x', web)
    assert.equal(denied.status, 403)
    assert.match(denied.text, /^Permission denied: token with AccessorID '[0-9a-f-]{36}' lacks permission 'key:read' on "db\/x"$/)
    assert.equal((await call('PUT', '/v1/kv/db/x', web, 'no')).status, 403)
    const all = await call('GET', '/v1/kv/?recurse', web)
    assert.equal(all.status, 200)
    assert.deepEqual((JSON.parse(all.text) as Array<{ Key: string }>).map((e) => e.Key), ['web/a', 'web/x'])
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), 'true')
    assert.equal(all.headers.get('x-consul-default-acl-policy'), 'deny')
    assert.equal((await call('PUT', '/v1/catalog/register', web, { Node: 'n3', Address: '10.0.0.3', Service: { Service: 'x' } })).status, 403)
    assert.equal((await call('PUT', '/v1/agent/service/register', web, { Name: 'x' })).status, 403)
    const services = JSON.parse((await call('GET', '/v1/catalog/services', web)).text) as Record<string, string[]>
    assert.ok('db' in services && 'consul' in services, JSON.stringify(services))
  })

  test('the anonymous token sees nothing; the management token does everything', async () => {
    assert.equal((await call('GET', '/v1/kv/web/a', undefined)).status, 403)
    assert.equal((await call('GET', '/v1/kv/?recurse', undefined)).status, 404, 'nothing visible: as an empty recursive read')
    assert.deepEqual(JSON.parse((await call('GET', '/v1/catalog/services', undefined)).text), {})
    assert.deepEqual(JSON.parse((await call('GET', '/v1/catalog/nodes', undefined)).text), [])
    assert.equal((await call('GET', '/v1/agent/self', undefined)).status, 403)
    assert.equal((await call('GET', '/v1/kv/?recurse', master)).headers.get('x-consul-results-filtered-by-acls'), null)
    assert.equal((await call('GET', '/v1/agent/self', master)).status, 200)
    assert.equal((await call('DELETE', '/v1/kv/?recurse', master)).status, 200)
  })

  test('anti-entropy syncs a service with the token it was registered with, not the agent token, and removes it with that token', async () => {
    const make = async (name: string, rules: string): Promise<string> => {
      assert.equal((await call('PUT', '/v1/acl/policy', master, { Name: name, Rules: rules })).status, 200)
      return (JSON.parse((await call('PUT', '/v1/acl/token', master, { Policies: [{ Name: name }] })).text) as { SecretID: string }).SecretID
    }
    // The agent token may write the node and read services (what its sync reads with, as in Consul), write none.
    const nodeOnly = await make('node-only', 'node_prefix "" { policy = "write" }\nservice_prefix "" { policy = "read" }')
    const svc = await make('tok-svc', 'service "tok-svc" { policy = "write" }')
    assert.equal((await call('PUT', '/v1/agent/token/agent', master, { Token: nodeOnly })).status, 200)
    try {
      assert.equal((await call('PUT', '/v1/agent/service/register', svc, { Name: 'tok-svc', Port: 81, Check: { TTL: '30s' } })).status, 200)
      const inCatalog = async (): Promise<number> => (JSON.parse((await call('GET', '/v1/health/service/tok-svc', master)).text) as unknown[]).length
      await until('tok-svc in the catalog with its check', async () => ((await inCatalog()) === 1 ? true : undefined))
      assert.equal((JSON.parse((await call('GET', '/v1/agent/services', master)).text) as Record<string, Record<string, unknown>>)['tok-svc']?.Token, undefined, 'the token is not shown')
      assert.equal((await call('PUT', '/v1/agent/service/deregister/tok-svc', svc)).status, 200)
      await until('tok-svc gone from the catalog', async () => ((await inCatalog()) === 0 ? true : undefined))
    } finally {
      assert.equal((await call('PUT', '/v1/agent/token/agent', master, { Token: master })).status, 200)
    }
  })

  test('dig follows the agent\'s default token, which /v1/agent/token/default sets', async () => {
    assert.deepEqual(await dig('db.service.consul'), [], 'anonymous under deny: nothing')
    const reader = await call('PUT', '/v1/acl/policy', master, { Name: 'dns', Rules: 'node_prefix "" { policy = "read" }\nservice_prefix "" { policy = "read" }' })
    assert.equal(reader.status, 200, reader.text)
    const token = JSON.parse((await call('PUT', '/v1/acl/token', master, { Policies: [{ Name: 'dns' }] })).text) as { SecretID: string }
    assert.equal((await call('PUT', '/v1/agent/token/default', web, { Token: token.SecretID })).status, 403, 'setting agent tokens takes acl:write')
    assert.equal((await call('PUT', '/v1/agent/token/default', master, { Token: token.SecretID })).status, 200)
    assert.deepEqual(await dig('db.service.consul'), ['10.0.0.2'])
    // The default token now serves requests without one too.
    assert.equal((await call('GET', '/v1/catalog/nodes', undefined)).status, 200)
    assert.ok((JSON.parse((await call('GET', '/v1/catalog/nodes', undefined)).text) as unknown[]).length >= 2)
    assert.equal((await call('PUT', '/v1/agent/token/acl_token', master, { Token: '' })).status, 200, 'the legacy name, and clearing it')
    assert.deepEqual(await dig('db.service.consul'), [])
    // acl.tokens.dns (Consul 1.17): DNS alone, the HTTP API stays anonymous.
    assert.equal((await call('PUT', '/v1/agent/token/dns', master, { Token: token.SecretID })).status, 200)
    assert.deepEqual(await dig('db.service.consul'), ['10.0.0.2'])
    assert.equal((await call('GET', '/v1/catalog/service/db', undefined)).text, '[]')
    assert.equal((await call('PUT', '/v1/agent/token/dns', master, { Token: '' })).status, 200)
    assert.deepEqual(await dig('db.service.consul'), [])
  })

  test('the consul acl commands: policies, tokens, roles, clone, update, delete, set-agent-token; -token and -token-file', async () => {
    const env = { CONSUL_HTTP_ADDR: agent.httpAddr.replace('http://', '') }
    const tokenFile = join(dir, 'master.token')
    writeFileSync(tokenFile, `${master}\n`)
    const acl = (...args: string[]) => runCli(CONSUL_BIN, ['acl', ...args, `-token-file=${tokenFile}`], { env })
    const ok = async (...args: string[]) => {
      const out = await acl(...args)
      assert.equal(out.code, 0, `consul acl ${args.join(' ')}: ${out.stderr}`)
      return out.stdout
    }
    const created = await ok('policy', 'create', '-name=cli', '-rules=key_prefix "cli/" { policy = "write" }', '-description=from the cli')
    assert.match(created, /^ID: +[0-9a-f-]{36}\nName: +cli\nDescription: +from the cli\nDatacenters: *\nRules:\nkey_prefix "cli\/" \{ policy = "write" \}$/m)
    assert.match(await ok('policy', 'list'), /^global-management:\n   ID: +00000000-0000-0000-0000-000000000001/m)
    assert.match(await ok('policy', 'read', '-name=cli'), /Description: +from the cli/)
    const token = JSON.parse(await ok('token', 'create', '-policy-name=cli', '-description=cli token', '-format=json')) as { AccessorID: string; SecretID: string }
    assert.equal((await call('PUT', '/v1/kv/cli/x', token.SecretID, 'v')).status, 200)
    assert.match(await ok('token', 'read', `-id=${token.AccessorID}`), new RegExp(`AccessorID: +${token.AccessorID}\nSecretID: +${token.SecretID}\nDescription: +cli token\n[^]*Policies:\n   [0-9a-f-]{36} - cli`))
    const self = await runCli(CONSUL_BIN, ['acl', 'token', 'read', '-self', `-token=${token.SecretID}`], { env })
    assert.match(self.stdout, new RegExp(`AccessorID: +${token.AccessorID}`))
    assert.match(await ok('token', 'list'), new RegExp(token.AccessorID))
    assert.match(await ok('role', 'create', '-name=ops', '-policy-name=cli', '-service-identity=api:dc1'), /Name: +ops\n[^]*Policies:\n   [0-9a-f-]{36} - cli\nService Identities:\n   api \(Datacenters: dc1\)/)
    assert.match(await ok('token', 'update', `-id=${token.AccessorID}`, '-role-name=ops', '-merge-roles'), /Roles:\n   [0-9a-f-]{36} - ops/)
    const clone = JSON.parse(await ok('token', 'clone', `-id=${token.AccessorID}`, '-description=copy', '-format=json')) as { AccessorID: string; Description: string }
    assert.equal(clone.Description, 'copy')
    assert.match(await ok('token', 'delete', `-id=${clone.AccessorID}`), /deleted successfully/)
    assert.match(await ok('role', 'read', '-name=ops'), /Name: +ops/)
    assert.match(await ok('role', 'delete', '-name=ops'), /deleted successfully/)
    assert.match(await ok('set-agent-token', 'agent', master), /ACL token "agent" set successfully/)
    assert.match(await ok('policy', 'delete', '-name=cli'), /deleted successfully/)
    const denied = await runCli(CONSUL_BIN, ['acl', 'policy', 'list', `-token=${token.SecretID}`], { env })
    assert.equal(denied.code, 1)
    assert.match(denied.stderr, /^Failed to retrieve the policy list: Unexpected response code: 403 \(Permission denied: .*lacks permission 'acl:read'\)/)
    const missing = await runCli(CONSUL_BIN, ['acl', 'token', 'list', `-token-file=${join(dir, 'nope')}`], { env })
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /Error reading token file .*nope/)
  })

  test('bad input: malformed rules name the line, unknown and huge tokens are ACL not found, a bootstrap race has one winner', async () => {
    const bad = await call('PUT', '/v1/acl/policy', master, { Name: 'bad', Rules: 'key "a" {\n  policy = "sometimes"\n}' })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /Invalid key policy: "a" has policy "sometimes".*\(line 1\)/)
    const unknown = await call('GET', '/v1/kv/web/a', randomUUID())
    assert.deepEqual([unknown.status, unknown.text], [403, 'ACL not found'])
    const huge = await call('GET', '/v1/kv/web/a', 'x'.repeat(10 * 1024))
    assert.deepEqual([huge.status, huge.text], [403, 'ACL not found'])
    assert.equal((await call('PUT', '/v1/kv/web/a', master, 'v')).status, 200)
    // Only a bearer token is a token: Basic credentials leave the request anonymous.
    const basic = await fetch(`${agent.httpAddr}/v1/kv/web/a`, { headers: { Authorization: `Basic ${Buffer.from(`u:${master}`).toString('base64')}` } })
    assert.equal(basic.status, 403)
    assert.equal((await fetch(`${agent.httpAddr}/v1/kv/web/a`, { headers: { Authorization: `Bearer ${master}` } })).status, 200)
    const race = await Promise.all(Array.from({ length: 10 }, () => call('PUT', '/v1/acl/bootstrap', undefined)))
    assert.deepEqual(race.map((r) => r.status).sort(), [200, 403, 403, 403, 403, 403, 403, 403, 403, 403])
    assert.ok(race.filter((r) => r.status === 403).every((r) => /^ACL bootstrap no longer allowed \(reset index: \d+\)$/.test(r.text)))
    const cli = await runCli(CONSUL_BIN, ['acl', 'bootstrap'], { env: { CONSUL_HTTP_ADDR: agent.httpAddr.replace('http://', '') } })
    assert.equal(cli.code, 1)
    assert.match(cli.stderr, /^Failed ACL bootstrapping: Unexpected response code: 403 \(ACL bootstrap no longer allowed \(reset index: \d+\)\)/)
  })
})

test('with ACLs off the ACL API answers 401, as python3-consul\'s ACLDisabled expects', async () => {
  const agent = await startAgent({ dev: true })
  try {
    for (const [method, path] of [['PUT', '/v1/acl/bootstrap'], ['GET', '/v1/acl/list'], ['PUT', '/v1/acl/create'], ['GET', '/v1/acl/tokens'], ['PUT', '/v1/agent/token/default']]) {
      const res = await fetch(`${agent.httpAddr}${path}`, { method, body: method === 'PUT' ? '{}' : undefined })
      assert.deepEqual([res.status, await res.text()], [401, 'ACL support disabled'], `${method} ${path}`)
    }
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
  }
})
