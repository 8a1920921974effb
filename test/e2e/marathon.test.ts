import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN, ROOT } from '../helpers/agent.js'
import { until, getJson } from '../helpers/poll.js'

/** A stand-in for Marathon: /ping answers 200 or 500 as the test says. */
async function fakeMarathon(): Promise<{ port: number; healthy: (ok: boolean) => void; close: () => Promise<void> }> {
  let ok = true
  const server = http.createServer((req, res) => {
    if (req.url === '/ping') {
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain' })
      res.end(ok ? 'pong\n' : 'marathon is sick\n')
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  return {
    port,
    healthy: (v) => (ok = v),
    close: () => new Promise((r) => server.close(() => r())),
  }
}

test('the seed flow: marathon.json in the config dir, consul reload, catalog and health follow /ping', async () => {
  const dir = tempDir('marathon-')
  const marathon = await fakeMarathon()
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ enable_local_script_checks: true }))
  const agent = await startAgent({ args: [`-config-dir=${dir}`] })
  const base = agent.httpAddr
  try {
    // The repo's example, pointed at our stand-in, checking every second instead of ten.
    const seed = readFileSync(join(ROOT, 'checks', 'marathon.json'), 'utf8')
    assert.match(seed, /--dump-header", "\/dev\/stderr"/)
    writeFileSync(join(dir, 'marathon.json'), seed.replace('127.0.0.1:8080', `127.0.0.1:${marathon.port}`).replace('"10s"', '"1s"'))
    const reload = await runCli(CONSUL_BIN, ['reload'], { env: { CONSUL_HTTP_ADDR: base } })
    assert.equal(reload.code, 0, reload.stderr)

    const services = await until('marathon in the catalog', async () => {
      const s = await getJson<Record<string, string[]>>(`${base}/v1/catalog/services`)
      return s.marathon ? s : undefined
    })
    assert.deepEqual(services.marathon, ['admin'])
    const healthy = await until('marathon passing', async () => {
      const entries = await getJson<any[]>(`${base}/v1/health/service/marathon?passing`)
      return entries.length === 1 ? entries : undefined
    })
    assert.equal(healthy[0].Service.Port, 8080)
    assert.deepEqual(healthy[0].Checks.map((c: { CheckID: string }) => c.CheckID), ['serfHealth', 'service:marathon'])
    const passingCheck = healthy[0].Checks[1]
    assert.match(passingCheck.Output, /HTTP\/1\.1 200 OK/, 'the headers curl dumped to /dev/stderr are in the output')

    marathon.healthy(false)
    const critical = await until('the check to go critical', async () => {
      const checks = await getJson<any[]>(`${base}/v1/health/checks/marathon`)
      return checks[0]?.Status === 'critical' ? checks[0] : undefined
    })
    assert.match(critical.Output, /HTTP\/1\.1 500/)
    assert.match(critical.Output, /The requested URL returned error: 500/)
    assert.deepEqual(await getJson(`${base}/v1/health/service/marathon?passing`), [])
    assert.equal((await getJson<any[]>(`${base}/v1/health/service/marathon`)).length, 1, 'without ?passing the instance is still listed')

    marathon.healthy(true)
    await until('marathon back', async () => ((await getJson<any[]>(`${base}/v1/health/service/marathon?passing`)).length === 1 ? true : undefined))
  } finally {
    await agent.stop()
    await marathon.close()
    removeDir(agent.dataDir)
    removeDir(dir)
  }
})
