/**
 * The UI's agent side without a browser: ui_config and its flags, a custom ui_config.dir under a
 * custom content_path, and the /v1/internal/ui/* reads the pages are built on (counts, ?filter=,
 * blocking, ACL filtering).
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { removeDir, runCli, CONSUL_BIN, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { uiConfig } from '../../src/agent/config-ui.js'
import { loadConfig } from '../../src/agent/config.js'
import { ConfigError } from '../../src/lib/errors.js'

test('ui_config over the older ui keys; content_path gets its slashes; a path that cannot hold the UI names its key', () => {
  assert.deepEqual(uiConfig({}, false), { enabled: false, dir: undefined, contentPath: '/ui/' })
  assert.deepEqual(uiConfig({}, true), { enabled: true, dir: undefined, contentPath: '/ui/' })
  assert.deepEqual(uiConfig({ ui: true, ui_dir: '/srv/ui', ui_content_path: 'console' }, false), { enabled: true, dir: '/srv/ui', contentPath: '/console/' })
  assert.deepEqual(uiConfig({ ui: true, ui_config: { enabled: false, content_path: '/a/b' } }, true), { enabled: false, dir: undefined, contentPath: '/a/b/' })
  for (const bad of ['/', '/v1/ui', '/ui/"><script>']) {
    assert.throws(() => uiConfig({ ui_config: { content_path: bad } }, true), (err: unknown) => err instanceof ConfigError && err.key === 'ui_config.content_path', bad)
  }
})

test('the -ui flags win over a file\'s ui_config, as every flag wins over files', () => {
  const dir = tempDir('ui-flags-')
  const file = join(dir, 'ui.hcl')
  writeFileSync(file, 'ui_config {\n  enabled = false\n  content_path = "/from-file/"\n}\n')
  try {
    assert.deepEqual(loadConfig({ dev: true, configFile: [file] }).config.ui, { enabled: false, dir: undefined, contentPath: '/from-file/' })
    assert.deepEqual(loadConfig({ dev: true, configFile: [file], ui: true, uiContentPath: '/flag' }).config.ui, { enabled: true, dir: undefined, contentPath: '/flag/' })
  } finally {
    removeDir(dir)
  }
})

test('-ui-dir and -ui-content-path serve your own files; an index.html-less dir stops the agent with the reason', async () => {
  const dir = tempDir('ui-dir-')
  mkdirSync(join(dir, 'img'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>mine</title>')
  writeFileSync(join(dir, 'img', 'logo.svg'), `<svg xmlns="http://www.w3.org/2000/svg">${' '.repeat(1000)}</svg>`)
  const agent = await startAgent({ args: ['-ui', `-ui-dir=${dir}`, '-ui-content-path=/console'] })
  try {
    const root = await fetch(`${agent.httpAddr}/`, { redirect: 'manual' })
    assert.equal(root.headers.get('location'), '/console/')
    assert.equal(await (await fetch(`${agent.httpAddr}/console/services/x`)).text(), '<!doctype html><title>mine</title>')
    const logo = await fetch(`${agent.httpAddr}/console/img/logo.svg`, { headers: { 'Accept-Encoding': 'gzip' } })
    assert.equal(logo.headers.get('content-type'), 'image/svg+xml')
    assert.match(await logo.text(), /^<svg/)
    const etag = logo.headers.get('etag')!
    assert.equal((await fetch(`${agent.httpAddr}/console/img/logo.svg`, { headers: { 'If-None-Match': etag } })).status, 304)
    assert.equal((await fetch(`${agent.httpAddr}/ui/`)).status, 404, 'the default path is not the UI\'s any more')
    // Writes below the UI are the API's business: a 404, never the page.
    assert.equal((await fetch(`${agent.httpAddr}/console/x`, { method: 'PUT' })).status, 404)
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
  }
  const empty = tempDir('ui-empty-')
  const out = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', `-ui-dir=${empty}`])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /has no index\.html/)
  removeDir(dir)
  removeDir(empty)
})

describe('/v1/internal/ui/*', () => {
  let agent: RunningAgent
  let dir: string
  const root = 'ui-internal-root'
  const put = (path: string, body: unknown, token = root): Promise<Response> => fetch(`${agent.httpAddr}${path}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'X-Consul-Token': token } })
  const get = async (path: string, token = root): Promise<{ status: number; body: unknown; index: number }> => {
    const res = await fetch(`${agent.httpAddr}${path}`, { headers: { 'X-Consul-Token': token } })
    const text = await res.text()
    return { status: res.status, body: res.ok ? JSON.parse(text) : text, index: Number(res.headers.get('x-consul-index')) }
  }
  before(async () => {
    dir = tempDir('ui-internal-')
    const file = join(dir, 'acl.json')
    writeFileSync(file, JSON.stringify({ acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: root } } }))
    agent = await startAgent({ dev: true, args: [`-config-file=${file}`] })
    const reg = (node: string, service: string, id: string, checks: Array<[string, string, string]>): Promise<Response> =>
      put('/v1/catalog/register', { Node: node, Address: '10.0.0.1', Service: { Service: service, ID: id, Tags: [id] }, Checks: checks.map(([CheckID, Status, ServiceID]) => ({ CheckID, Name: CheckID, Status, ServiceID })) })
    for (const r of await Promise.all([
      reg('n1', 'web', 'web-1', [['web-1-http', 'passing', 'web-1'], ['n1-disk', 'warning', '']]),
      reg('n2', 'web', 'web-2', [['web-2-http', 'critical', 'web-2']]),
      reg('n2', 'db', 'db-1', [['db-1-tcp', 'passing', 'db-1']]),
    ])) assert.equal(r.status, 200)
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('services: one row per name, with its tags, nodes and every instance\'s checks (its node\'s included) counted', async () => {
    const { body } = await get('/v1/internal/ui/services')
    const rows = body as Array<Record<string, unknown>>
    const web = rows.find((r) => r.Name === 'web')!
    assert.deepEqual({ ...web }, { Kind: '', Name: 'web', Datacenter: 'dc1', Tags: ['web-1', 'web-2'], Nodes: ['n1', 'n2'], ExternalSources: [], InstanceCount: 2, ChecksPassing: 1, ChecksWarning: 1, ChecksCritical: 1 })
    assert.deepEqual(rows.map((r) => r.Name), ['consul', 'db', 'web'])
    const critical = await get(`/v1/internal/ui/services?filter=${encodeURIComponent('ChecksCritical != 0')}`)
    assert.deepEqual((critical.body as Array<{ Name: string }>).map((r) => r.Name), ['web'])
    const bad = await get(`/v1/internal/ui/services?filter=${encodeURIComponent('Nope == 1')}`)
    assert.equal(bad.status, 400)
  })

  test('nodes and a node: services and checks beside each node; an unknown node is a 404', async () => {
    const nodes = (await get('/v1/internal/ui/nodes?filter=Node%20%3D%3D%20n2')).body as Array<{ Node: string; Services: Array<{ ID: string }>; Checks: Array<{ CheckID: string }> }>
    assert.deepEqual(nodes.map((n) => [n.Node, n.Services.map((s) => s.ID), n.Checks.map((c) => c.CheckID)]), [['n2', ['db-1', 'web-2'], ['db-1-tcp', 'web-2-http']]])
    const one = (await get('/v1/internal/ui/node/n1')).body as { Node: string; Checks: unknown[] }
    assert.equal(one.Node, 'n1')
    assert.equal(one.Checks.length, 2)
    assert.equal((await get('/v1/internal/ui/node/nowhere')).status, 404)
  })

  test('a blocking read of the services list wakes on a check\'s change', async () => {
    const { index } = await get('/v1/internal/ui/services')
    const waiting = get(`/v1/internal/ui/services?index=${index}&wait=30s`)
    await put('/v1/catalog/register', { Node: 'n2', Address: '10.0.0.1', Check: { CheckID: 'web-2-http', Name: 'web-2-http', Status: 'passing', ServiceID: 'web-2' } })
    const woken = await waiting
    assert.ok(woken.index > index)
    const web = (woken.body as Array<{ Name: string; ChecksCritical: number }>).find((r) => r.Name === 'web')!
    assert.equal(web.ChecksCritical, 0)
  })

  test('with ACLs, a token reads only the services and nodes it may, and the answer says it was filtered', async () => {
    const policy = (await (await put('/v1/acl/policy', { Name: 'db-only', Rules: 'service "db" { policy = "read" }\nnode "n2" { policy = "read" }' })).json()) as { ID: string }
    const token = (await (await put('/v1/acl/token', { Policies: [{ ID: policy.ID }] })).json()) as { SecretID: string }
    const res = await fetch(`${agent.httpAddr}/v1/internal/ui/services`, { headers: { 'X-Consul-Token': token.SecretID } })
    assert.equal(res.headers.get('x-consul-results-filtered-by-acls'), 'true')
    assert.deepEqual(((await res.json()) as Array<{ Name: string; InstanceCount: number }>).map((r) => [r.Name, r.InstanceCount]), [['db', 1]])
    const nodes = (await get('/v1/internal/ui/nodes', token.SecretID)).body as Array<{ Node: string; Services: Array<{ ID: string }> }>
    assert.deepEqual(nodes.map((n) => [n.Node, n.Services.map((s) => s.ID)]), [['n2', ['db-1']]])
    assert.deepEqual((await get('/v1/internal/ui/services', 'no-such-token')).status, 403)
  })
})
