import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

describe('consul services, catalog, maint, event and watch against a dev agent', () => {
  let agent: RunningAgent
  let env: NodeJS.ProcessEnv
  let dir: string
  let nodeName: string
  const consul = (...args: string[]) => runCli(CONSUL_BIN, args, { env })
  const api = async <T = any>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(agent.httpAddr + path, init)
    assert.ok(res.ok, `${path}: ${res.status}`)
    const text = await res.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  before(async () => {
    dir = tempDir('cli-catalog-')
    agent = await startAgent({ dev: true })
    env = { CONSUL_HTTP_ADDR: agent.httpAddr }
    nodeName = (await api('/v1/agent/self')).Config.NodeName
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('services register from a file and from flags, then deregister', async () => {
    const file = join(dir, 'web.json')
    writeFileSync(file, JSON.stringify({ service: { name: 'web', port: 80, tags: ['a'], meta: { team: 'x' } } }))
    assert.deepEqual(await consul('services', 'register', file), { code: 0, stdout: 'Registered service: web\n', stderr: '' })
    assert.deepEqual(await consul('services', 'register', '-name=db', '-id=db-1', '-port=5432', '-address=10.0.0.5', '-tag=primary', '-tag=v1', '-meta=role=main'), {
      code: 0,
      stdout: 'Registered service: db\n',
      stderr: '',
    })
    const many = join(dir, 'many.json')
    writeFileSync(many, JSON.stringify({ services: [{ name: 'cache', port: 6379 }, { id: 'q1', name: 'queue' }] }))
    assert.equal((await consul('services', 'register', many)).stdout, 'Registered service: cache\nRegistered service: queue\n')

    const services = await api('/v1/agent/services')
    assert.deepEqual(Object.keys(services).sort(), ['cache', 'db-1', 'q1', 'web'])
    assert.equal(services['db-1'].Service, 'db')
    assert.equal(services['db-1'].Address, '10.0.0.5')
    assert.equal(services['db-1'].Port, 5432)
    assert.deepEqual(services['db-1'].Tags, ['primary', 'v1'])
    assert.deepEqual(services['db-1'].Meta, { role: 'main' })
    assert.deepEqual(services.web.Tags, ['a'])

    assert.deepEqual(await consul('services', 'deregister', many), { code: 0, stdout: 'Deregistered service: cache\nDeregistered service: q1\n', stderr: '' })
    const none = await consul('services', 'register')
    assert.equal(none.code, 1)
    assert.equal(none.stderr, 'Service registration requires at least one argument or flags.\n')
    const both = await consul('services', 'deregister', '-id=x', file)
    assert.equal(both.code, 1)
    assert.match(both.stderr, /requires arguments or -id, not both/)
    const unknown = await consul('services', 'deregister', '-id=nope')
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /404/)
  })

  test('catalog datacenters, nodes and services print Consul\'s layouts', async () => {
    await until('the services in the catalog', async () => {
      const s = await api<Record<string, string[]>>('/v1/catalog/services')
      return s.web && s.db ? true : undefined
    })
    assert.deepEqual(await consul('catalog', 'datacenters'), { code: 0, stdout: 'dc1\n', stderr: '' })

    const [node] = await api<Array<{ ID: string; Node: string; Address: string; Datacenter: string }>>('/v1/catalog/nodes')
    const shortId = node!.ID.split('-')[0]!
    const w = [Math.max(4, nodeName.length), Math.max(2, shortId.length), Math.max(7, node!.Address.length)]
    const expected = `${'Node'.padEnd(w[0]!)}  ${'ID'.padEnd(w[1]!)}  ${'Address'.padEnd(w[2]!)}  DC\n${nodeName.padEnd(w[0]!)}  ${shortId.padEnd(w[1]!)}  ${node!.Address.padEnd(w[2]!)}  dc1\n`
    assert.deepEqual(await consul('catalog', 'nodes'), { code: 0, stdout: expected, stderr: '' })
    assert.equal((await consul('catalog', 'nodes', '-service=web')).stdout, expected)
    const detailed = (await consul('catalog', 'nodes', '-detailed')).stdout.split('\n')
    assert.match(detailed[0]!, /^Node +ID +Address +DC +TaggedAddresses +Meta$/)
    assert.ok(detailed[1]!.includes(node!.ID))
    const noMatch = await consul('catalog', 'nodes', '-service=nothing-here')
    assert.deepEqual(noMatch, { code: 0, stdout: '', stderr: 'No nodes match the given query - try expanding your search.\n' })

    assert.deepEqual(await consul('catalog', 'services'), { code: 0, stdout: 'consul\ndb\nweb\n', stderr: '' })
    // text/tabwriter: the widest name (6) plus 6 of padding, the last cell unpadded.
    assert.equal((await consul('catalog', 'services', '-tags')).stdout, 'consul      \ndb          primary,v1\nweb         a\n')
    assert.equal((await consul('catalog', 'services', `-node=${nodeName}`)).stdout, 'consul\ndb\nweb\n')
    assert.equal((await consul('catalog', 'services', '-node-meta=no=such')).stderr, 'No services match the given query - try expanding your search.\n')
  })

  test('maint -enable/-disable for the node and a service, and the listing', async () => {
    assert.deepEqual(await consul('maint'), { code: 0, stdout: '', stderr: '' })
    assert.deepEqual(await consul('maint', '-enable', '-reason=kernel upgrade'), { code: 0, stdout: 'Node maintenance is now enabled\n', stderr: '' })
    assert.deepEqual(await consul('maint', '-enable', '-service=web'), { code: 0, stdout: 'Service maintenance is now enabled for "web"\n', stderr: '' })
    const checks = await api('/v1/agent/checks')
    assert.equal(checks._node_maintenance.Status, 'critical')
    assert.equal(checks._node_maintenance.Notes, 'kernel upgrade')
    assert.equal(checks['_service_maintenance:web'].Status, 'critical')
    const listed = await consul('maint')
    assert.equal(listed.stdout, `Node:\n  Name:   ${nodeName}\n  Reason: kernel upgrade\n\nService:\n  ID:     web\n  Reason: ${checks['_service_maintenance:web'].Notes}\n\n`)

    assert.deepEqual(await consul('maint', '-disable'), { code: 0, stdout: 'Node maintenance is now disabled\n', stderr: '' })
    assert.deepEqual(await consul('maint', '-disable', '-service=web'), { code: 0, stdout: 'Service maintenance is now disabled for "web"\n', stderr: '' })
    const after = await api('/v1/agent/checks')
    assert.equal(after._node_maintenance, undefined)
    assert.equal(after['_service_maintenance:web'], undefined)

    const conflict = await consul('maint', '-enable', '-disable')
    assert.deepEqual(conflict, { code: 1, stdout: '', stderr: 'Only one of -enable or -disable may be provided\n' })
    assert.equal((await consul('maint', '-reason=x')).stderr, 'Reason may only be provided with -enable\n')
  })

  test('event fires a user event visible in /v1/event/list', async () => {
    const fired = await consul('event', '-name=deploy', '-service=web', 'release-42')
    assert.equal(fired.code, 0)
    const m = /^Event ID: ([0-9a-f-]{36})\n$/.exec(fired.stdout)
    assert.ok(m, fired.stdout)
    const events = await api<Array<{ ID: string; Name: string; Payload: string; ServiceFilter: string }>>('/v1/event/list?name=deploy')
    const ev = events.find((e) => e.ID === m[1])
    assert.ok(ev)
    assert.equal(Buffer.from(ev.Payload, 'base64').toString(), 'release-42')
    assert.equal(ev.ServiceFilter, 'web')
    assert.equal((await consul('event')).stderr, 'Event name must be specified\n')
    assert.equal((await consul('event', '-name=x', '-tag=v1')).stderr, 'Cannot provide tag filter without service filter.\n')
  })

  test('watch -type=key prints the current value, then each new one', async () => {
    const proc = spawn(process.execPath, [CONSUL_BIN, 'watch', '-type=key', '-key=watched/k'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
    try {
      await until('the first result (no key yet)', () => (out === 'null\n' ? true : undefined))
      await api('/v1/kv/watched/k', { method: 'PUT', body: 'v1' })
      await until('the new value', () => (out.includes('"Value": "djE="') ? true : undefined))
      const printed = JSON.parse(out.slice('null\n'.length))
      assert.deepEqual(Object.keys(printed), ['Key', 'CreateIndex', 'ModifyIndex', 'LockIndex', 'Flags', 'Value', 'Session'])
      assert.equal(printed.Key, 'watched/k')
    } finally {
      proc.kill('SIGTERM')
    }
    assert.equal(await exited, 0)
  })

  test('watch with a handler gets the JSON on stdin and CONSUL_INDEX', async () => {
    const outFile = join(dir, 'handler.out')
    const proc = spawn(process.execPath, [CONSUL_BIN, 'watch', '-type=keyprefix', '-prefix=hp/', `echo "index=$CONSUL_INDEX" >> ${outFile}; cat >> ${outFile}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
    try {
      await until('the first handler run', () => (existsSync(outFile) && readFileSync(outFile, 'utf8').includes('null') ? true : undefined))
      await api('/v1/kv/hp/a', { method: 'PUT', body: 'x' })
      const text = await until('the second handler run', () => {
        const t = readFileSync(outFile, 'utf8')
        return t.includes('"Key":"hp/a"') ? t : undefined
      })
      assert.match(text, /^index=\d+\nnull\nindex=\d+\n\[\{"Key":"hp\/a",/)
    } finally {
      proc.kill('SIGTERM')
    }
    assert.equal(await exited, 0)
  })
})
