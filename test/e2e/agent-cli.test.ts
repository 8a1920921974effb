/**
 * `consul agent` as a user runs it: reloads compared against the running configuration, flags
 * this build does not have yet, the start-up banner, and config keys it refuses or warns about.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import AgentCommand from '../../src/commands/agent.js'
import { UNSUPPORTED_AGENT_FLAGS } from '../../src/agent/run.js'

/** Consul's `consul agent` flags (its agent/config/flags.go and the CLI reference). */
const CONSUL_AGENT_FLAGS = [
  'advertise', 'advertise-wan', 'allow-write-http-from', 'alt-domain', 'auto-reload-config', 'bind', 'bootstrap', 'bootstrap-expect',
  'check_output_max_size', 'client', 'config-dir', 'config-file', 'config-format', 'data-dir', 'datacenter', 'default-query-time', 'dev',
  'disable-host-node-id', 'disable-keyring-file', 'dns-port', 'domain', 'enable-local-script-checks', 'enable-script-checks', 'encrypt',
  'grpc-port', 'grpc-tls-port', 'hcl', 'http-port', 'https-port', 'join', 'join-wan', 'log-file', 'log-json', 'log-level', 'log-rotate-bytes',
  'log-rotate-duration', 'log-rotate-max-files', 'max-query-time', 'node', 'node-id', 'node-meta', 'non-voting-server', 'pid-file',
  'primary-gateway', 'protocol', 'raft-protocol', 'read-replica', 'recursor', 'rejoin', 'retry-interval', 'retry-interval-wan', 'retry-join',
  'retry-join-wan', 'retry-max', 'retry-max-wan', 'segment', 'serf-lan-allowed-cidrs', 'serf-lan-bind', 'serf-lan-port',
  'serf-wan-allowed-cidrs', 'serf-wan-bind', 'serf-wan-port', 'server', 'server-port', 'syslog', 'ui', 'ui-content-path', 'ui-dir',
]

test('consul reload: a restart-needing change, then reverted, needs no restart any more', async () => {
  const dir = tempDir('reload-')
  const file = join(dir, 'agent.json')
  writeFileSync(file, JSON.stringify({ log_level: 'info' }))
  const agent = await startAgent({ args: [`-config-file=${file}`] })
  try {
    const env = { CONSUL_HTTP_ADDR: agent.httpAddr }
    writeFileSync(file, JSON.stringify({ log_level: 'info', datacenter: 'elsewhere' }))
    const changed = await runCli(CONSUL_BIN, ['reload'], { env })
    assert.equal(changed.code, 0, changed.stderr)
    assert.match(changed.stderr, /only after a restart: datacenter/)
    writeFileSync(file, JSON.stringify({ log_level: 'debug' }))
    const reverted = await runCli(CONSUL_BIN, ['reload'], { env })
    assert.equal(reverted.code, 0, reverted.stderr)
    assert.equal(reverted.stderr, '', 'the running datacenter is the file\'s again')
    const self = (await (await fetch(`${agent.httpAddr}/v1/agent/self`)).json()) as { Config: { Datacenter: string }; DebugConfig: { LogLevel: string } }
    assert.equal(self.Config.Datacenter, 'dc1')
    assert.equal(self.DebugConfig.LogLevel, 'DEBUG')
    writeFileSync(file, JSON.stringify({ log_level: 'debug', datacenter: 'elsewhere' }))
    assert.match((await runCli(CONSUL_BIN, ['reload'], { env })).stderr, /only after a restart: datacenter/, 'changed again: warned again')
    // A key not supported yet is warned about by the agent, not listed as needing a restart.
    writeFileSync(file, JSON.stringify({ log_level: 'debug', serf_lan_allowed_cidrs: ['10.0.0.0/8'] }))
    const inert = await runCli(CONSUL_BIN, ['reload'], { env })
    assert.equal(inert.code, 0, inert.stderr)
    assert.equal(inert.stderr, '')
    // The agent's log reaches us on its own pipe, maybe after the answer did.
    await until('the reload\'s warning in the log', () => (/config key "serf_lan_allowed_cidrs" is accepted but not supported yet/.test(agent.output()) ? true : undefined))
    // Turning ACLs on takes a restart, and the reload says so.
    writeFileSync(file, JSON.stringify({ log_level: 'debug', acl: { enabled: true, default_policy: 'deny' } }))
    const acl = await runCli(CONSUL_BIN, ['reload'], { env })
    assert.match(acl.stderr, /only after a restart: acl/)
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  }
})

test('a bad ACL setting stops the agent naming the file and key; unsupported keys are warned about at start', async () => {
  const dir = tempDir('acl-')
  try {
    const bad = join(dir, 'acl.hcl')
    writeFileSync(bad, 'acl {\n  enabled     = true\n  down_policy = "sometimes"\n}\n')
    const out = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', `-config-file=${bad}`])
    assert.equal(out.code, 1)
    assert.match(out.stderr, /^==> Config validation failed: .*acl\.hcl: acl\.down_policy: /)
    assert.doesNotMatch(out.stderr + out.stdout, /agent: started/)
    const gossip = join(dir, 'gossip.json')
    writeFileSync(gossip, JSON.stringify({ serf_wan: '10.0.0.9', primary_gateways: ['10.0.0.1'] }))
    const agent = await startAgent({ dev: true, args: [`-config-file=${gossip}`] })
    await agent.stop()
    // The agent's log reaches us on its own pipe, maybe after the answer did.
    await until('the reload\'s warning in the log', () => (/config key "serf_wan" is accepted but not supported yet/.test(agent.output()) ? true : undefined))
    assert.match(agent.output(), /config key "primary_gateways" is accepted but not supported yet/)
  } finally {
    removeDir(dir)
  }
})

test('every Consul agent flag is either ours or answered "not supported by this version yet", never both', () => {
  const ours = Object.keys(AgentCommand.flags)
  assert.deepEqual(CONSUL_AGENT_FLAGS.filter((f) => !ours.includes(f) && !UNSUPPORTED_AGENT_FLAGS.has(f)), [])
  assert.deepEqual(ours.filter((f) => UNSUPPORTED_AGENT_FLAGS.has(f)), [])
})

test('a Consul agent flag this build does not have yet is named, exit 1, not oclif\'s "Nonexistent flag"', async () => {
  const cases: Array<[string[], string]> = [
    [['-serf-lan-allowed-cidrs=10.0.0.0/8'], '-serf-lan-allowed-cidrs'],
    [['-serf-wan-bind=10.0.0.1', '-segment=alpha'], '-serf-wan-bind'],
    [['-segment', 'alpha'], '-segment'],
    [['-read-replica'], '-read-replica'],
  ]
  const outs = await Promise.all(cases.map(([args]) => runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', ...args])))
  outs.forEach((out, i) => {
    const flag = cases[i]![1]
    assert.equal(out.code, 1, flag)
    assert.equal(out.stderr, `==> ${flag} is not supported by this version yet\n`)
    assert.equal(out.stdout, '')
  })
})

test('a client agent (no -server) refuses -bootstrap-expect, which only servers take', async () => {
  const out = await runCli(CONSUL_BIN, ['agent', `-data-dir=${tempDir()}`, '-bind=127.0.0.1', '-http-port=0', '-dns-port=-1', '-serf-lan-port=0', '-serf-wan-port=0', '-bootstrap-expect=3'])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /bootstrap_expect is only allowed on servers/)
})

test('-join to an address where no agent answers stops the agent with the reason, as Consul does', async () => {
  const dataDir = tempDir()
  const out = await runCli(CONSUL_BIN, ['agent', '-server', `-data-dir=${dataDir}`, '-bind=127.0.0.1', '-http-port=0', '-dns-port=-1', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-join=127.0.0.1:1'])
  assert.equal(out.code, 1)
  assert.match(out.stderr, /==> Failed to join 127\.0\.0\.1:1: /)
})

test('consul agent -help: -ui and its directory and path, HCL named for -config-file and -config-dir', async () => {
  const help = await runCli(CONSUL_BIN, ['agent', '-help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /--\[no-\]ui\s+Serve the web UI at \/ui\//)
  assert.match(help.stdout, /--ui-dir=<value>\s+Serve the web UI from this directory/)
  assert.match(help.stdout, /--ui-content-path=<value>\s+Where the web UI is served/)
  assert.match(help.stdout, /--config-file=\S+\s+JSON \(\.json\) or HCL \(\.hcl\) config file/)
  assert.match(help.stdout, /--config-dir=\S+\s+Directory of \*\.json and \*\.hcl config files/)
})

test('consul agent prints Consul\'s start-up banner, with the ports really bound, before the log', async () => {
  const id = '0a1b2c3d-0000-4000-8000-000000000001'
  const agent = await startAgent({ dev: true, dns: true, args: [`-node-id=${id}`, '-node=banner-node', '-datacenter=east'] })
  await agent.stop()
  const out = agent.output()
  const httpPort = new URL(agent.httpAddr).port
  const expected = [
    '==> Starting Consul agent...',
    `           Version: '1.20.0'`,
    `           Node ID: '${id}'`,
    `         Node name: 'banner-node'`,
    `        Datacenter: 'east' (Segment: '<all>')`,
    '            Server: true (Bootstrap: true)',
    `       Client Addr: [127.0.0.1] (HTTP: ${httpPort}, HTTPS: -1, gRPC: -1, gRPC-TLS: -1, DNS: ${agent.dnsPort})`,
    '      Cluster Addr: 127.0.0.1 (LAN: -1, WAN: -1)',
    ' Gossip Encryption: false',
    '       ACL Enabled: false',
    '',
    '==> Log data will now stream in as it occurs:',
    '',
  ].join('\n')
  assert.ok(out.startsWith(`${expected}\n`), out)
  assert.notEqual(httpPort, '0')
  assert.ok(agent.dnsPort! > 0)
  // The log follows, every line of it: the start-up lines held until the banner was out.
  const log = out.slice(expected.length + 1)
  assert.match(log, /^\S+ \[INFO\] /)
  assert.match(log, /agent: HTTP API listening on http:\/\/127\.0\.0\.1:\d+\n[\s\S]*agent: started in dev mode as node "banner-node" in datacenter "east"/)
})
