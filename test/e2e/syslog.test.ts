/**
 * enable_syslog through a socket the test listens on (CONSUL_SYSLOG_SOCKET; this host has no
 * /dev/log): the lines arrive tagged `consul` with the facility and Consul's level mapping; a host
 * with no syslog stops the agent with the reason.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

let agent: RunningAgent
let server: net.Server
let received = ''
const dir = tempDir('syslog-')
const socket = join(dir, 'log.sock')

before(async () => {
  server = net.createServer((c) => c.on('data', (d: Buffer) => (received += d.toString())))
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  const config = join(dir, 'facility.json')
  writeFileSync(config, JSON.stringify({ syslog_facility: 'local3' }))
  agent = await startAgent({ dev: true, args: ['-syslog', `-config-file=${config}`], env: { CONSUL_SYSLOG_SOCKET: socket } })
})

after(async () => {
  await agent?.stop()
  server?.close()
})

test('-syslog sends the log to syslog: tag consul, the syslog_facility, info as notice and warn as warning', async () => {
  // LOCAL3 (19) * 8 + notice (5): the start-up lines.
  await until('the start-up line in syslog', () => (/^<157>\w{3} [ \d]\d \d\d:\d\d:\d\d consul: agent: started/m.test(received) ? true : undefined))
  await fetch(`${agent.httpAddr}/v1/agent/check/register`, { method: 'PUT', body: JSON.stringify({ ID: 'sys', Name: 'sys', TTL: '10m' }) })
  await fetch(`${agent.httpAddr}/v1/agent/check/warn/sys`, { method: 'PUT' })
  // warn (4): `Check is now warning` is a WARN line.
  await until('the warning in syslog', () => (/^<156>.* consul: agent: Check is now warning: check=sys$/m.test(received) ? true : undefined))
  assert.doesNotMatch(received, /\[INFO\]|\[WARN\]|\d{4}-\d\d-\d\dT/, 'syslog adds its own time and priority; the line carries neither')
})

test('enable_syslog with syslog_facility; no syslog socket on the host, or an unknown facility, stops the agent with the reason', async () => {
  const config = (body: object): string => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(f, JSON.stringify(body))
    return f
  }
  const missing = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', `-config-file=${config({ enable_syslog: true })}`], { env: { CONSUL_SYSLOG_SOCKET: join(dir, 'none.sock') } })
  assert.equal(missing.code, 1)
  assert.match(missing.stderr + missing.stdout, new RegExp(`enable_syslog: syslog setup failed: no syslog socket at ${join(dir, 'none.sock').replaceAll('.', '\\.')} on this host`))
  const bad = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', `-config-file=${config({ enable_syslog: true, syslog_facility: 'LOCAL9' })}`], { env: { CONSUL_SYSLOG_SOCKET: socket } })
  assert.equal(bad.code, 1)
  assert.match(bad.stderr + bad.stdout, /syslog_facility: unknown syslog facility "LOCAL9": one of KERN, USER, .*LOCAL7/)
})
