/** `consul doctor` finds each broken set-up a test makes and names the fix; a sound one passes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, startAgent, tempDir } from '../helpers/agent.js'

const dir = tempDir('doctor-')
const freePort = async (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})

async function doctor(config: object, args: string[] = []): Promise<{ code: number | null; out: string; json: Array<{ check: string; status: string; detail: string; fix?: string }> }> {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(config))
  const text = await runCli(CONSUL_BIN, ['doctor', `-config-file=${file}`, ...args], { env: { NO_COLOR: '1' } })
  const json = await runCli(CONSUL_BIN, ['doctor', `-config-file=${file}`, '-format=json', ...args])
  return { code: text.code, out: text.stdout + text.stderr, json: JSON.parse(json.stdout) }
}

const ports = async () => ({ http: await freePort(), dns: -1, serf_lan: await freePort(), serf_wan: -1, server: await freePort() })

test('a sound set-up passes', async () => {
  const r = await doctor({ data_dir: join(dir, 'data-ok'), ports: await ports(), bind_addr: '127.0.0.1', client_addr: '127.0.0.1' })
  assert.equal(r.code, 0, r.out)
  assert.match(r.out, /This node is ready/)
  assert.ok(r.json.every((f) => f.status !== 'fail'))
})

test('a taken port is named with the process to stop or the key to change', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()))
  const port = (taken.address() as { port: number }).port
  try {
    const r = await doctor({ data_dir: join(dir, 'data-port'), ports: { ...(await ports()), http: port }, bind_addr: '127.0.0.1', client_addr: '127.0.0.1' })
    assert.equal(r.code, 1)
    assert.match(r.out, new RegExp(`FAIL  ports +HTTP API 127\\.0\\.0\\.1:${port}/tcp is taken by another process`))
    assert.match(r.out, new RegExp(`fix: stop it \\(ss -lnp 'sport = :${port}' names it\\) or set ports\\.http to a free port`))
  } finally {
    taken.close()
  }
})

test('an unwritable data_dir, a bad gossip key and an unreadable TLS file are each named with the fix', async () => {
  const file = join(dir, 'a-file')
  writeFileSync(file, 'x')
  const bad = await doctor({ data_dir: join(file, 'data'), ports: await ports(), bind_addr: '127.0.0.1', client_addr: '127.0.0.1' })
  assert.equal(bad.code, 1)
  const dd = bad.json.find((f) => f.check === 'data_dir')!
  assert.equal(dd.status, 'fail')
  assert.match(dd.detail, /a-file\/data/)
  assert.match(dd.fix!, /install -d -o consul/)
  const key = await doctor({ data_dir: join(dir, 'data-key'), encrypt: 'not-a-key' })
  assert.equal(key.code, 1)
  assert.match(key.out, /FAIL  config .*encrypt/)
  assert.match(key.out, /fix: generate a key with `consul keygen`/)
  const tls = await doctor({ data_dir: join(dir, 'data-tls'), ports: await ports(), bind_addr: '127.0.0.1', client_addr: '127.0.0.1', tls: { defaults: { ca_file: join(dir, 'missing-ca.pem') } } })
  assert.equal(tls.code, 1)
  assert.match(tls.out, /FAIL  tls +.*missing-ca\.pem \(ca\)/)
})

test('with the node\'s agent running, its own ports are not reported as taken', async () => {
  const port = await freePort()
  const agent = await startAgent({ dev: true, args: [`-http-port=${port}`] })
  try {
    const r = await doctor({ ports: { http: port, dns: -1 } }, ['-dev'])
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, new RegExp(`an agent \\(\\S+\\) answers on http://127\\.0\\.0\\.1:${port}; the ports are its own`))
  } finally {
    await agent.stop()
    removeDir(dir)
  }
})
