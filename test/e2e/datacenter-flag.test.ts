import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN, ROOT, type RunningAgent } from '../helpers/agent.js'

/**
 * Every command that declares -datacenter must send it as ?dc= on every request, so naming another
 * datacenter never acts on the local one. Until WAN federation exists the agent answers Consul's
 * 500 "No path to datacenter". The arguments below cover each such command; a command that gains the
 * flag without an entry here fails the first test.
 */
const SNAP_DIR = tempDir('dc-flag-')

/** Command id -> the arguments after `-datacenter=dc2`. */
const RUNS: Record<string, { args: string[]; input?: string; streams?: boolean }> = {
  'kv:get': { args: ['web/a'] },
  'kv:put': { args: ['web/a', 'overwritten'] },
  'kv:delete': { args: ['web/a'] },
  'kv:export': { args: ['web/'] },
  'kv:import': { args: ['-'], input: JSON.stringify([{ key: 'web/a', flags: 0, value: Buffer.from('imported').toString('base64') }]) },
  'catalog:nodes': { args: [] },
  'catalog:services': { args: [] },
  event: { args: ['-name=deploy'] },
  lock: { args: ['web/lock', 'true'] },
  'operator:raft:list-peers': { args: [] },
  'operator:raft:remove-peer': { args: ['-id=x'] },
  'operator:raft:transfer-leader': { args: [] },
  'snapshot:save': { args: [join(SNAP_DIR, 'dc2.snap')] },
  // A real snapshot of the local datacenter, written in `before`: restoring it into dc2 must not touch dc1.
  'snapshot:restore': { args: [join(SNAP_DIR, 'local.snap')] },
  // consul watch retries a failing query forever, as Consul's does: it is stopped after the first error.
  watch: { args: ['-type=key', '-key=web/a'], streams: true },
}

describe('-datacenter reaches the agent on every command that declares it', () => {
  let agent: RunningAgent
  let proxy: http.Server
  let proxyAddr: string
  const seen: string[] = []

  before(async () => {
    agent = await startAgent({ dev: true })
    await fetch(`${agent.httpAddr}/v1/kv/web/a`, { method: 'PUT', body: 'original' })
    writeFileSync(join(SNAP_DIR, 'local.snap'), Buffer.from(await (await fetch(`${agent.httpAddr}/v1/snapshot`)).arrayBuffer()))
    // A recording pass-through in front of the real agent: it only notes each request's URL.
    const target = new URL(agent.httpAddr)
    proxy = http.createServer((req, res) => {
      seen.push(req.url ?? '')
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      })
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    proxyAddr = `127.0.0.1:${(proxy.address() as AddressInfo).port}`
  })
  after(async () => {
    proxy.close()
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(SNAP_DIR)
  })

  test('the table covers exactly the commands with a -datacenter flag', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { flags: Record<string, unknown> }> }
    const withFlag = Object.entries(manifest.commands)
      .filter(([id, c]) => c.flags.datacenter && id !== 'agent') // the agent's own -datacenter names its datacenter
      .map(([id]) => id)
      .sort()
    assert.deepEqual(withFlag, Object.keys(RUNS).sort())
  })

  for (const [id, run] of Object.entries(RUNS)) {
    test(`consul ${id.replaceAll(':', ' ')} -datacenter=dc2 asks dc2 and changes nothing locally`, async () => {
      seen.length = 0
      const args = [...id.split(':'), '-datacenter=dc2', ...run.args]
      const env = { CONSUL_HTTP_ADDR: proxyAddr }
      const out = run.streams ? await untilError(args, env) : await runCli(CONSUL_BIN, args, { env, input: run.input })
      assert.match(out.stderr, /No path to datacenter/, `${id}: ${out.stderr}`)
      if (!run.streams) assert.equal(out.code, 1)
      assert.ok(seen.length > 0, 'it made requests')
      for (const url of seen) assert.equal(new URL(url, 'http://x').searchParams.get('dc'), 'dc2', `${id}: ${url}`)
    })
  }

  test('nothing in dc1 was touched', async () => {
    const res = await fetch(`${agent.httpAddr}/v1/kv/web/a?raw`)
    assert.equal(await res.text(), 'original')
    assert.equal((await fetch(`${agent.httpAddr}/v1/kv/web/lock/.lock`)).status, 404)
    assert.deepEqual(await (await fetch(`${agent.httpAddr}/v1/event/list`)).json(), [])
  })

  test('a catalog registration naming another datacenter in its body is refused, not stored locally', async () => {
    const reg = (body: unknown, query = ''): Promise<Response> =>
      fetch(`${agent.httpAddr}/v1/catalog/register${query}`, { method: 'PUT', body: JSON.stringify(body) })
    const elsewhere = await reg({ Datacenter: 'dc2', Node: 'far', Address: '10.1.1.1', Service: { Service: 'web' } })
    assert.equal(elsewhere.status, 500)
    assert.equal(await elsewhere.text(), 'No path to datacenter')
    const node = async (name: string): Promise<unknown> => (await fetch(`${agent.httpAddr}/v1/catalog/node/${name}`)).json()
    assert.equal(await node('far'), null) // Consul answers an unknown node with 200 null
    // The body's datacenter wins over ?dc=, as in Consul; naming the local one works.
    assert.equal((await reg({ Datacenter: 'dc2', Node: 'far', Address: '10.1.1.1' }, '?dc=dc1')).status, 500)
    assert.equal((await reg({ Datacenter: 'dc1', Node: 'near', Address: '10.1.1.2' })).status, 200)
    assert.equal((await reg({ Node: 'near2', Address: '10.1.1.3' }, '?dc=dc2')).status, 500)
    const dereg = await fetch(`${agent.httpAddr}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Datacenter: 'dc2', Node: 'near' }) })
    assert.equal(dereg.status, 500)
    assert.notEqual(await node('near'), null)
    assert.equal(await node('near2'), null)
  })
})

/** Runs a command that keeps retrying until it has printed its first error, then stops it. */
function untilError(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CONSUL_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (/No path to datacenter/.test(stderr)) proc.kill('SIGTERM')
    })
    proc.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
