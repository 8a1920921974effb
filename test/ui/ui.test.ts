/**
 * The web UI in Debian's Chromium against real agents: every page clicked through with a
 * screenshot each (test-output/ui/), KV created, edited and deleted in the page and read back with
 * curl, two editors that never overwrite each other silently, a service and its TTL check seen
 * live, an idle page's requests counted by the agent, and an ACL token's login. Any JavaScript
 * error on a page fails its test.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { Browser } from 'playwright-core'
import { removeDir, startAgentWithConfig, type RunningAgent } from '../helpers/agent.js'
import { apiRequestCount } from '../helpers/prometheus.js'
import { launch, noBrowser, openPage, type WatchedPage } from '../helpers/browser.js'

const skip = noBrowser()

const curl = (...args: string[]): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve) => execFile('curl', ['-s', ...args], (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout })))

const agentWith = (config: object, args: string[] = []): Promise<{ agent: RunningAgent; dir: string }> => startAgentWithConfig(config, { args, prefix: 'ui-' })

/** Clicks a section in the header, waits for what shows it is there, and screenshots it. */
async function visit(p: WatchedPage, section: string, shown: string[], shot: string): Promise<void> {
  await p.page.click(`nav[aria-label="Sections"] >> text=${section}`)
  for (const s of shown) await p.page.waitForSelector(s)
  await p.shot(shot)
}

const put = (agent: RunningAgent, path: string, body: unknown, token?: string): Promise<Response> =>
  fetch(`${agent.httpAddr}${path}`, { method: 'PUT', body: typeof body === 'string' ? body : JSON.stringify(body), headers: token ? { 'X-Consul-Token': token } : {} })

describe('the web UI', { skip }, () => {
  let browser: Browser
  let agent: RunningAgent
  let dir: string
  let ui: string
  // Blocking reads end after 2 s here, so an idle page's requests can be counted in seconds, not minutes.
  before(async () => {
    ;({ agent, dir } = await agentWith({ telemetry: { prometheus_retention_time: '1h' }, node_meta: { rack: 'r1' } }, ['-default-query-time=2s']))
    ui = `${agent.httpAddr}/ui/`
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    await agent?.stop()
    if (agent) removeDir(agent.dataDir)
    if (dir) removeDir(dir)
  })

  const noErrors = (p: WatchedPage): void => assert.deepEqual(p.errors, [], 'no JavaScript errors on the page')

  test('served by the agent: / redirects to /ui/, assets are compressed and cached, any page path is the app', async () => {
    const root = await fetch(`${agent.httpAddr}/`, { redirect: 'manual' })
    assert.equal(root.status, 301)
    assert.equal(root.headers.get('location'), '/ui/')
    const html = await (await fetch(`${ui}dc1/services/web`)).text()
    assert.match(html, /<script type="module" src="assets\/app-[A-Za-z0-9]+\.js">/)
    assert.match(html, /"datacenter":"dc1"/)
    const script = /src="(assets\/app-[A-Za-z0-9]+\.js)"/.exec(html)![1]!
    const br = await curl('-D', '-', '-o', '/dev/null', '-H', 'Accept-Encoding: br', `${ui}${script}`)
    assert.match(br.stdout, /content-encoding: br/i)
    assert.match(br.stdout, /cache-control: public, max-age=31536000, immutable/i)
    const gz = await curl('-D', '-', '-o', '/dev/null', '-H', 'Accept-Encoding: gzip', `${ui}${script}`)
    assert.match(gz.stdout, /content-encoding: gzip/i)
    assert.equal((await fetch(`${ui}assets/missing-12345678.js`)).status, 404)
    // The API beside it is unchanged.
    assert.equal((await fetch(`${agent.httpAddr}/v1/status/leader`)).status, 200)
  })

  test('every page, clicked through from the header, with a screenshot each', async () => {
    const p = await openPage(browser)
    await p.page.goto(ui)
    await p.page.waitForURL(/\/ui\/dc1\/services$/)
    await p.page.waitForSelector('[data-service="consul"]')
    await p.shot('services')
    await p.page.click('[data-service="consul"]')
    await p.page.waitForSelector('[data-instance="consul"][data-status="passing"]')
    await p.shot('service-consul')
    await visit(p, 'Nodes', ['[data-node]'], 'nodes')
    await p.page.click('[data-node]')
    await p.page.waitForSelector('text=rack')
    await p.shot('node')
    await visit(p, 'Key / Value', ['text=No keys here yet.'], 'kv-empty')
    await p.page.click('nav[aria-label="Sections"] >> text=Sessions')
    await p.page.waitForSelector('text=No sessions.')
    // A session taking a lock shows up live, with the key it holds.
    const session = ((await (await put(agent, '/v1/session/create', { Name: 'ui-lock', LockDelay: '0s' })).json()) as { ID: string }).ID
    assert.equal(await (await put(agent, `/v1/kv/locks/leader?acquire=${session}`, 'me')).text(), 'true')
    await p.page.waitForSelector(`[data-session="${session}"] >> text=locks/leader`)
    await p.shot('sessions')
    await put(agent, `/v1/session/destroy/${session}`, '')
    await p.page.waitForSelector('text=No sessions.')
    await visit(p, 'Cluster', ['[data-peer] >> text=leader', '[aria-label="LAN members"] [data-status="alive"]'], 'cluster')
    // A bookmarked URL opens where it was; the dark theme follows the system's.
    const dark = await openPage(browser, { colorScheme: 'dark' })
    await dark.page.goto(`${ui}dc1/services/consul`)
    await dark.page.waitForSelector('[data-instance="consul"]')
    await dark.shot('service-consul-dark')
    const bg = await dark.page.evaluate('getComputedStyle(document.documentElement).backgroundColor')
    assert.notEqual(bg, 'rgb(255, 255, 255)')
    noErrors(p)
    noErrors(dark)
    await p.page.context().close()
    await dark.page.context().close()
  })

  test('KV: create, edit and delete in the page, each seen with curl; two editors never overwrite each other silently', async () => {
    const p = await openPage(browser)
    await p.page.goto(`${ui}dc1/kv/`)
    await p.page.click('text=Create')
    await p.page.fill('input[name="key"]', 'app/config')
    await p.page.fill('textarea[name="value"]', '{"port": 8080}')
    await p.page.fill('input[name="flags"]', '42')
    await p.page.click('button:has-text("Save")')
    await p.page.waitForURL(/\/kv\/app\/config\/edit$/)
    assert.equal((await curl(`${agent.httpAddr}/v1/kv/app/config?raw`)).stdout, '{"port": 8080}')
    const [pair] = JSON.parse((await curl(`${agent.httpAddr}/v1/kv/app/config`)).stdout) as Array<{ Flags: number; ModifyIndex: number }>
    assert.equal(pair!.Flags, 42)
    await p.shot('kv-editor')
    // The JSON view pretty-prints; saving from it keeps valid JSON; base64 shows the stored bytes.
    await p.page.check('input[value="json"]')
    assert.equal(await p.page.inputValue('textarea[name="value"]'), '{\n  "port": 8080\n}')
    await p.page.check('input[value="base64"]')
    assert.equal(await p.page.inputValue('textarea[name="value"]'), Buffer.from('{\n  "port": 8080\n}').toString('base64'))
    await p.page.check('input[value="text"]')
    await p.page.fill('textarea[name="value"]', 'edited in the page')
    await p.page.click('button:has-text("Save")')
    await p.page.waitForSelector('text=Saved.')
    assert.equal((await curl(`${agent.httpAddr}/v1/kv/app/config?raw`)).stdout, 'edited in the page')

    // Someone else writes while this editor is open: the page says so, and a save does not overwrite theirs.
    await put(agent, '/v1/kv/app/config', 'written by curl')
    await p.page.waitForSelector('text=Changed elsewhere since you opened it')
    await p.page.fill('textarea[name="value"]', 'mine')
    await p.page.click('button:has-text("Save")')
    await p.page.waitForSelector('text=Someone else changed this key since you opened it')
    assert.equal((await curl(`${agent.httpAddr}/v1/kv/app/config?raw`)).stdout, 'written by curl')
    await p.shot('kv-conflict')
    // Overwriting is a choice the user makes knowingly.
    await p.page.click('button:has-text("Overwrite theirs")')
    await p.page.waitForSelector('text=Saved.')
    assert.equal((await curl(`${agent.httpAddr}/v1/kv/app/config?raw`)).stdout, 'mine')

    // The folder lists the key; deleting it in the page removes it for curl too.
    await p.page.goto(`${ui}dc1/kv/app/`)
    await p.page.waitForSelector('[data-key="app/config"]')
    await p.page.click('[data-key="app/config"] a')
    await p.page.waitForSelector('text=Delete')
    p.page.once('dialog', (d) => void d.accept())
    await p.page.click('button:has-text("Delete")')
    await p.page.waitForURL(/\/kv\/app\/$/)
    assert.match((await curl('-o', '/dev/null', '-w', '%{http_code}', `${agent.httpAddr}/v1/kv/app/config`)).stdout, /^404$/)
    // A folder's recursive delete.
    await put(agent, '/v1/kv/tree/a', '1')
    await put(agent, '/v1/kv/tree/b/c', '2')
    await p.page.goto(`${ui}dc1/kv/tree/`)
    await p.page.waitForSelector('[data-key="tree/b/"]')
    p.page.once('dialog', (d) => void d.accept())
    await p.page.click('button:has-text("Delete folder")')
    await p.page.waitForURL(/\/kv\/$/)
    assert.equal((await curl(`${agent.httpAddr}/v1/kv/tree/?keys`)).stdout, '')
    // A name ending in / makes a folder, and the page opens it.
    await p.page.click('text=Create')
    await p.page.fill('input[name="key"]', 'made/')
    await p.page.click('button:has-text("Save")')
    await p.page.waitForURL(/\/kv\/made\/$/)
    await p.page.waitForSelector('text=No keys here yet.')
    assert.deepEqual(JSON.parse((await curl(`${agent.httpAddr}/v1/kv/made/?keys`)).stdout), ['made/'])
    noErrors(p)
    await p.page.context().close()
  })

  test('a service registered while the page is open appears without a reload, and its failing TTL check turns it critical live', async () => {
    const p = await openPage(browser)
    await p.page.goto(`${ui}dc1/services`)
    await p.page.waitForSelector('[data-service="consul"]')
    const registered = await put(agent, '/v1/agent/service/register', { Name: 'web', ID: 'web-1', Port: 8080, Tags: ['v1'], Check: { CheckID: 'web-ttl', TTL: '10m', Status: 'passing' } })
    assert.equal(registered.status, 200)
    await p.page.waitForSelector('[data-service="web"] .pill-passing')
    await p.page.click('[data-service="web"]')
    await p.page.waitForSelector('[data-instance="web-1"][data-status="passing"]')
    assert.equal((await put(agent, '/v1/agent/check/fail/web-ttl?note=disk%20full', '')).status, 200)
    await p.page.waitForSelector('[data-instance="web-1"][data-status="critical"]')
    await p.page.waitForSelector('[data-check="web-ttl"] >> text=disk full')
    await p.shot('service-critical')
    // The list agrees, and its health filter is the agent's ?filter=.
    await p.page.goto(`${ui}dc1/services?status=critical`)
    await p.page.waitForSelector('[data-service="web"] .pill-critical')
    assert.equal(await p.page.locator('[data-service="consul"]').count(), 0)
    await p.page.fill('input[type="search"]', 'cons')
    await p.page.waitForURL(/filter=cons/)
    await p.page.waitForSelector('text=No services match.')
    noErrors(p)
    await p.page.context().close()
  })

  test('an idle page holds one blocking query per view: no more requests than one per blocking wait', async () => {
    const p = await openPage(browser)
    await p.page.goto(`${ui}dc1/services`)
    await p.page.waitForSelector('[data-service="consul"]')
    const path = 'v1.internal.ui.services'
    const before = await apiRequestCount(agent.httpAddr, path)
    const idleMs = 8_000
    await new Promise((r) => setTimeout(r, idleMs))
    const made = (await apiRequestCount(agent.httpAddr, path)) - before
    // The agent's wait here is 2 s (plus up to 1/16 jitter): at most one request per wait, and at least one (the page is live).
    assert.ok(made >= 1, `the page kept a blocking query open (${made} requests)`)
    assert.ok(made <= Math.ceil(idleMs / 2000) + 1, `${made} requests in ${idleMs} ms idle`)
    noErrors(p)
    await p.page.context().close()
  })
})

describe('the web UI with ACLs on', { skip }, () => {
  let browser: Browser
  let agent: RunningAgent
  let dir: string
  const root = 'ui-root-token'
  before(async () => {
    ;({ agent, dir } = await agentWith({ acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: root } } }))
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    await agent?.stop()
    if (agent) removeDir(agent.dataDir)
    if (dir) removeDir(dir)
  })

  test('log in with a token and see only what it may read', async () => {
    for (const name of ['web', 'db']) assert.equal((await put(agent, '/v1/catalog/register', { Node: `n-${name}`, Address: '10.0.0.1', Service: { Service: name } }, root)).status, 200)
    const policy = (await (await put(agent, '/v1/acl/policy', { Name: 'web-read', Rules: 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }' }, root)).json()) as { ID: string }
    const token = (await (await put(agent, '/v1/acl/token', { Description: 'web reader', Policies: [{ ID: policy.ID }] }, root)).json()) as { SecretID: string }
    const p = await openPage(browser)
    await p.page.goto(`${agent.httpAddr}/ui/dc1/services`)
    await p.page.waitForSelector('text=No services.')
    await p.page.click('text=Log in')
    await p.page.fill('input[name="token"]', 'not-a-token')
    await p.page.click('button:has-text("Log in")')
    await p.page.waitForSelector('text=That token is not accepted')
    await p.page.fill('input[name="token"]', token.SecretID)
    await p.page.click('button:has-text("Log in")')
    await p.page.waitForURL(/\/services$/)
    await p.page.waitForSelector('[data-service="web"]')
    assert.equal(await p.page.locator('[data-service="db"]').count(), 0)
    await p.shot('acl-services')
    // The ACL pages need acl:read, which this token lacks: the page says so, as the API does.
    await p.page.click('nav[aria-label="Sections"] >> text=Access controls')
    await p.page.waitForSelector('text=Permission denied')
    await p.page.click('button:has-text("Log out")')
    // The management token sees the tokens, and every service.
    await p.page.fill('input[name="token"]', root)
    await p.page.click('button:has-text("Log in")')
    await p.page.waitForSelector('[data-service="db"]')
    await p.page.goto(`${agent.httpAddr}/ui/dc1/acls/tokens`)
    await p.page.waitForSelector('text=web reader')
    await p.shot('acl-tokens')
    await p.page.click('text=Policies')
    await p.page.waitForSelector('text=web-read')
    await p.shot('acl-policies')
    await p.page.click('.tabs >> text=Roles')
    await p.page.waitForSelector('text=None.')
    assert.deepEqual(p.errors.filter((e) => !/status of 403/.test(e)), [], 'no JavaScript errors (403s are the API answering)')
    await p.page.context().close()
  })
})
