/**
 * `consul debug` against a dev agent with ACLs and a gossip key: the archive's files open, no secret
 * is in any of them, an interrupted run still leaves a (partial) archive, and bad flags are named.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import tar from 'tar-stream'
import { CONSUL_BIN, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const MASTER = '6c9a3f0e-1111-4222-8333-444455556666'
const GOSSIP_KEY = 'cg8StVXbQJ0gPvMd9o7yrg=='
let agent: RunningAgent
let dir = ''

async function files(archive: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const extract = tar.extract()
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: unknown) => chunks.push(c as Buffer))
    stream.on('end', () => {
      out.set(header.name, Buffer.concat(chunks))
      next()
    })
  })
  const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()))
  extract.end(gunzipSync(readFileSync(archive)))
  await done
  return out
}

before(async () => {
  dir = tempDir('debug-')
  const config = join(dir, 'secrets.json')
  writeFileSync(config, JSON.stringify({ encrypt: GOSSIP_KEY, acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: MASTER, agent: MASTER } } }))
  agent = await startAgent({ dev: true, args: [`-config-file=${config}`] })
})

after(async () => {
  await agent?.stop()
})

test('consul debug -duration=5s: an archive in Consul\'s layout whose files open, with no token or gossip key in any of them', async () => {
  const output = join(dir, 'bundle')
  const r = await runCli(CONSUL_BIN, ['debug', '-duration=5s', '-interval=2s', `-output=${output}`], { env: { CONSUL_HTTP_ADDR: agent.httpAddr, CONSUL_HTTP_TOKEN: MASTER } })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /==> Saved debug archive: .*bundle\.tar\.gz/)
  assert.ok(!existsSync(output), 'the directory is replaced by the archive')
  const got = await files(`${output}.tar.gz`)
  const names = [...got.keys()]
  for (const name of ['bundle/index.json', 'bundle/agent.json', 'bundle/host.json', 'bundle/members.json', 'bundle/consul.log', 'bundle/profile.cpuprofile', 'bundle/heap.heapprofile']) assert.ok(names.includes(name), `${name} in ${names.join(' ')}`)
  const metrics = names.filter((n) => /^bundle\/\d+\/metrics\.json$/.test(n))
  assert.ok(metrics.length >= 3, names.join(' '))
  for (const n of metrics) assert.ok(Array.isArray((JSON.parse(got.get(n)!.toString()) as { Gauges: unknown[] }).Gauges))
  const index = JSON.parse(got.get('bundle/index.json')!.toString()) as { Duration: string; Interval: string; Targets: string[] }
  assert.deepEqual([index.Duration, index.Interval], ['5s', '2s'])
  assert.equal((JSON.parse(got.get('bundle/agent.json')!.toString()) as { Config: { NodeName: string } }).Config.NodeName.length > 0, true)
  assert.ok(Array.isArray((JSON.parse(got.get('bundle/profile.cpuprofile')!.toString()) as { nodes: unknown[] }).nodes), 'a V8 CPU profile')
  assert.ok('head' in (JSON.parse(got.get('bundle/heap.heapprofile')!.toString()) as object), 'a V8 allocation sampling')
  assert.match(got.get('bundle/consul.log')!.toString(), /\[DEBUG\] agent\.http: Request finished/)
  for (const [name, data] of got) {
    const text = data.toString('latin1')
    assert.ok(!text.includes(MASTER), `the management token is in ${name}`)
    assert.ok(!text.includes(GOSSIP_KEY), `the gossip key is in ${name}`)
  }
})

test('consul debug interrupted by SIGINT writes a partial archive; bad flags and a refused token are clear errors', async () => {
  const output = join(dir, 'partial')
  const p = spawn(process.execPath, [CONSUL_BIN, 'debug', '-duration=60s', '-interval=5s', `-output=${output}`, '-capture=metrics', '-capture=logs'], { env: { ...process.env, CONSUL_HTTP_ADDR: agent.httpAddr, CONSUL_HTTP_TOKEN: MASTER }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  p.stdout.on('data', (d: Buffer) => (out += d.toString()))
  p.stderr.on('data', (d: Buffer) => (out += d.toString()))
  await until('the first capture', () => (out.includes('Capture 1') ? true : undefined))
  const exited = new Promise<number | null>((resolve) => p.once('exit', resolve))
  p.kill('SIGINT')
  assert.equal(await exited, 0, out)
  assert.match(out, /==> Interrupted: partial capture saved to .*partial\.tar\.gz/)
  const got = await files(`${output}.tar.gz`)
  assert.ok([...got.keys()].some((n) => /^partial\/\d+\/metrics\.json$/.test(n)))
  assert.ok(!got.has('partial/heap.heapprofile') && !got.has('partial/agent.json'), '-capture chose the parts')
  const env = { CONSUL_HTTP_ADDR: agent.httpAddr, CONSUL_HTTP_TOKEN: MASTER }
  const badTarget = await runCli(CONSUL_BIN, ['debug', '-capture=everything', `-output=${join(dir, 'x')}`], { env })
  assert.equal(badTarget.code, 1)
  assert.match(badTarget.stderr, /unknown -capture target "everything": the targets are agent, host, members, metrics, logs, pprof/)
  const badDuration = await runCli(CONSUL_BIN, ['debug', '-duration=soon', `-output=${join(dir, 'y')}`], { env })
  assert.equal(badDuration.code, 1)
  assert.match(badDuration.stderr, /invalid -duration "soon"/)
  const denied = await runCli(CONSUL_BIN, ['debug', '-duration=1s', `-output=${join(dir, 'z')}`], { env: { CONSUL_HTTP_ADDR: agent.httpAddr } })
  assert.equal(denied.code, 1)
  assert.match(denied.stderr, /Permission denied/)
})

test('an agent without enable_debug (not -dev, no ACLs) refuses the profiles with the reason; consul debug skips them and says so', async () => {
  const plain = await startAgent()
  try {
    for (const path of ['/debug/pprof/profile?seconds=1', '/debug/pprof/heap?seconds=1']) {
      const res = await fetch(`${plain.httpAddr}${path}`)
      assert.equal(res.status, 403)
      assert.equal(await res.text(), 'Profiling is off: set enable_debug = true on this agent (or turn ACLs on and use a token with operator:read)')
    }
    const output = join(dir, 'noprofiles')
    const run = await runCli(CONSUL_BIN, ['debug', '-duration=1s', '-interval=1s', `-output=${output}`, '-capture=pprof', '-capture=agent'], { env: { CONSUL_HTTP_ADDR: plain.httpAddr } })
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /^==> Not captured: profile\.cpuprofile: Unexpected response code: 403 \(Profiling is off: set enable_debug = true on this agent/m)
    const got = await files(`${output}.tar.gz`)
    assert.ok(got.has('noprofiles/agent.json') && !got.has('noprofiles/profile.cpuprofile'), [...got.keys()].join(' '))
  } finally {
    await plain.stop()
  }
})
