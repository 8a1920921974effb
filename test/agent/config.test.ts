import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, mergeDocs, changedKeys, runningDoc } from '../../src/agent/config.js'
import { ConfigError } from '../../src/lib/errors.js'
import { tempDir, removeDir } from '../helpers/agent.js'

function withDir(fn: (dir: string) => void): void {
  const dir = tempDir('config-')
  try {
    fn(dir)
  } finally {
    removeDir(dir)
  }
}

test('defaults for a dev agent', () => {
  const { config } = loadConfig({ dev: true })
  assert.equal(config.server, true)
  assert.equal(config.datacenter, 'dc1')
  assert.deepEqual(config.clientAddrs, ['127.0.0.1'])
  assert.equal(config.ports.http, 8500)
  assert.equal(config.ports.dns, 8600)
  assert.equal(config.limits.kvMaxValueSize, 512 * 1024)
  assert.equal(config.maxQueryTimeMs, 600_000)
})

test('files merge in order, lists append, flags win', () =>
  withDir((dir) => {
    const a = join(dir, 'a.json')
    const b = join(dir, 'b.json')
    writeFileSync(a, JSON.stringify({ datacenter: 'east', node_name: 'from-a', ports: { http: 9000, dns: 9600 }, data_dir: '/x' }))
    writeFileSync(b, JSON.stringify({ node_name: 'from-b', ports: { http: 9100 } }))
    const { config, files } = loadConfig({ configFile: [a, b], datacenter: 'west', httpPort: 9200 })
    assert.deepEqual(files, [a, b])
    assert.equal(config.nodeName, 'from-b')
    assert.equal(config.datacenter, 'west')
    assert.equal(config.ports.http, 9200)
    assert.equal(config.ports.dns, 9600)
    assert.deepEqual(mergeDocs({ l: [1], o: { a: 1 } }, { l: [2], o: { b: 2 } }), { l: [1, 2], o: { a: 1, b: 2 } })
  }))

test('-config-dir reads *.json and *.hcl in lexical order and skips other files', () =>
  withDir((dir) => {
    const d = join(dir, 'conf.d')
    mkdirSync(d)
    writeFileSync(join(d, '20-b.json'), JSON.stringify({ node_name: 'second' }))
    writeFileSync(join(d, '10-a.json'), JSON.stringify({ node_name: 'first', data_dir: '/d' }))
    writeFileSync(join(d, 'README'), 'not config')
    writeFileSync(join(d, 'x.hcl'), 'server = true')
    const { config, files } = loadConfig({ configDir: [d] })
    assert.deepEqual(files, [join(d, '10-a.json'), join(d, '20-b.json'), join(d, 'x.hcl')])
    assert.equal(config.nodeName, 'second')
    assert.equal(config.server, true)
  }))

test('HCL config files as Consul users write them: blocks become objects, repeated service blocks a list', () =>
  withDir((dir) => {
    const f = join(dir, 'agent.hcl')
    writeFileSync(
      f,
      `# a typical server config
datacenter = "east"
data_dir   = "/var/lib/consul"
server     = true
bootstrap_expect = 1
ports {
  http  = 8501
  dns   = -1
}
node_meta {
  rack = "r1"
}
dns_config {
  only_passing = true
  service_ttl {
    "*" = "5s"
  }
}
limits {
  kv_max_value_size = 1024
}
service {
  name = "web"
  port = 80
  tags = ["v1"]
  check {
    http     = "http://127.0.0.1/health"
    interval = "10s"
  }
}
service {
  name = "db"
  port = 5432
}
`,
    )
    const { config, warnings } = loadConfig({ configFile: [f] })
    assert.deepEqual(warnings, [])
    assert.equal(config.datacenter, 'east')
    assert.equal(config.ports.http, 8501)
    assert.equal(config.ports.dns, -1)
    assert.deepEqual(config.nodeMeta, { rack: 'r1' })
    assert.equal(config.dns.onlyPassing, true)
    assert.deepEqual(config.dns.serviceTtlMs, { '*': 5000 })
    assert.equal(config.limits.kvMaxValueSize, 1024)
    assert.deepEqual(config.services.map((s) => s.Service), ['web', 'db'])
    assert.equal(config.services[0]!.checks[0]!.runner.http, 'http://127.0.0.1/health')
    writeFileSync(f, 'ports {\n  http = \n}\n')
    assert.throws(() => loadConfig({ configFile: [f], dev: true }), (err: unknown) => err instanceof ConfigError && err.source === f && /invalid HCL/.test(err.message))
  }))

test('an invalid value names the file, the key and the reason', () =>
  withDir((dir) => {
    const f = join(dir, 'bad.json')
    writeFileSync(f, JSON.stringify({ data_dir: '/d', ports: { http: 'eighty' } }))
    assert.throws(
      () => loadConfig({ configFile: [f] }),
      (err: unknown) => err instanceof ConfigError && err.source === f && err.key === 'ports.http' && /integer/.test(err.reason),
    )
    writeFileSync(f, JSON.stringify({ data_dir: '/d', bootstrap_expect: 9 }))
    assert.throws(() => loadConfig({ configFile: [f] }), (err: unknown) => err instanceof ConfigError && err.key === 'bootstrap_expect')
  }))

test('a JSON syntax error names the file and the line', () =>
  withDir((dir) => {
    const f = join(dir, 'broken.json')
    writeFileSync(f, '{\n  "server": true,\n  "datacenter": \n}\n')
    assert.throws(() => loadConfig({ configFile: [f] }), (err: unknown) => err instanceof ConfigError && err.message.startsWith(f) && /line 4, column 1: ValueExpected/.test(err.message))
  }))

test('unknown keys are warnings, not errors (python-consul writes ports.rpc)', () =>
  withDir((dir) => {
    const f = join(dir, 'old.json')
    writeFileSync(f, JSON.stringify({ data_dir: '/d', ports: { rpc: 8400, http: 8501 }, frobnicate: true }))
    const { config, warnings } = loadConfig({ configFile: [f] })
    assert.equal(config.ports.http, 8501)
    assert.deepEqual(warnings.sort(), [`${f}: unknown config key "frobnicate" ignored`, `${f}: unknown config key "ports.rpc" ignored`])
  }))

test('cross-key rules: data_dir required outside dev, bootstrap_expect only on servers', () => {
  assert.throws(() => loadConfig({}), (err: unknown) => err instanceof ConfigError && err.key === 'data_dir')
  assert.throws(() => loadConfig({ dataDir: '/d', bootstrapExpect: 1 }), (err: unknown) => err instanceof ConfigError && err.key === 'bootstrap_expect')
})

test('TLS keys come from tls.defaults, tls.https or the legacy top level', () => {
  const legacy = loadConfig({ dev: true, configFile: [] })
  assert.equal(legacy.config.tls.certFile, undefined)
  withDir((dir) => {
    const f = join(dir, 'tls.json')
    writeFileSync(f, JSON.stringify({ cert_file: 'legacy.pem', ca_file: 'ca.pem', tls: { defaults: { key_file: 'k.pem', verify_incoming: true }, https: { cert_file: 'https.pem' } } }))
    const { config } = loadConfig({ dev: true, configFile: [f] })
    assert.equal(config.tls.certFile, 'https.pem')
    assert.equal(config.tls.keyFile, 'k.pem')
    assert.equal(config.tls.verifyIncoming, true)
    assert.deepEqual(config.rpcTls, { caFile: 'ca.pem', certFile: 'legacy.pem', keyFile: 'k.pem', verifyIncoming: true, verifyOutgoing: false, verifyServerHostname: false })
  })
})

test('tls.internal_rpc: its own keys, then tls.defaults, then the older top-level ones; checks that cannot work stop the agent by key', () => {
  withDir((dir) => {
    const load = (doc: object) => {
      const f = join(dir, 'rpc.json')
      writeFileSync(f, JSON.stringify(doc))
      return loadConfig({ dev: true, configFile: [f] }).config.rpcTls
    }
    assert.deepEqual(load({ ca_file: 'a.pem', verify_incoming_rpc: true, verify_outgoing: true, verify_server_hostname: true }), { caFile: 'a.pem', certFile: undefined, keyFile: undefined, verifyIncoming: true, verifyOutgoing: true, verifyServerHostname: true })
    const layered = load({ verify_incoming: false, tls: { defaults: { ca_file: 'd.pem', cert_file: 'd.crt', key_file: 'd.key', verify_incoming: true }, internal_rpc: { cert_file: 'r.crt', key_file: 'r.key', verify_server_hostname: true } } })
    assert.deepEqual(layered, { caFile: 'd.pem', certFile: 'r.crt', keyFile: 'r.key', verifyIncoming: true, verifyOutgoing: false, verifyServerHostname: true })
    assert.throws(() => load({ tls: { internal_rpc: { verify_outgoing: true } } }), /tls\.internal_rpc\.verify_outgoing: verify_outgoing is set but there is no ca_file/)
    assert.throws(() => load({ verify_server_hostname: true }), /verify_server_hostname: verify_server_hostname is set but there is no ca_file/)
    assert.throws(() => load({ tls: { defaults: { verify_incoming: true } } }), /tls\.defaults\.verify_incoming: .*no ca_file/)
    assert.throws(() => load({ tls: { internal_rpc: { cert_file: 'x.pem' } } }), /tls\.internal_rpc\.cert_file: cert_file and key_file go together, and key_file is not set/)
  })
})

test('changedKeys lists top-level keys that differ', () => {
  assert.deepEqual(changedKeys({ a: 1, b: { c: 1 }, d: 1 }, { a: 1, b: { c: 2 }, e: 1 }), ['b', 'd', 'e'])
  // dns_config is reloadable but udp_workers is read at start: it is named on its own.
  assert.deepEqual(changedKeys({ dns_config: { only_passing: true } }, { dns_config: { only_passing: true, udp_workers: 2 } }), ['dns_config.udp_workers'])
  assert.deepEqual(changedKeys({}, { dns_config: { udp_workers: 2 } }), ['dns_config.udp_workers'])
  assert.deepEqual(changedKeys({ dns_config: { udp_workers: 1 } }, { dns_config: { udp_workers: 2, only_passing: true } }), ['dns_config', 'dns_config.udp_workers'])
})

test('runningDoc keeps the running values of keys that need a restart, so a reverted change needs none', () => {
  const started = { datacenter: 'dc1', log_level: 'info', dns_config: { only_passing: true } }
  const edited = { datacenter: 'elsewhere', log_level: 'debug', dns_config: { only_passing: false, udp_workers: 2 } }
  const restart = changedKeys(started, edited).filter((k) => k === 'datacenter' || k === 'dns_config.udp_workers')
  assert.deepEqual(restart, ['datacenter', 'dns_config.udp_workers'])
  const running = runningDoc(started, edited, restart)
  assert.deepEqual(running, { datacenter: 'dc1', log_level: 'debug', dns_config: { only_passing: false } })
  assert.deepEqual(changedKeys(running, started), ['dns_config', 'log_level'], 'reverting: only the reloadable keys changed')
  assert.deepEqual(changedKeys(running, edited), ['datacenter', 'dns_config.udp_workers'], 'still edited: still needs a restart')
  // A start-only key added in a block the agent started without leaves no empty block behind.
  assert.deepEqual(runningDoc({}, { dns_config: { udp_workers: 2 } }, ['dns_config.udp_workers']), {})
  assert.deepEqual(runningDoc({ node_name: 'a' }, {}, ['node_name']), { node_name: 'a' })
})

test('the agent flags for DNS, blocking queries, script checks and the node ID set their config keys', () => {
  const { config } = loadConfig({
    dev: true,
    nodeId: '0a1b2c3d-0000-4000-8000-000000000002',
    domain: 'example',
    altDomain: 'alt.example',
    recursor: ['192.0.2.1', '192.0.2.2:5353'],
    defaultQueryTime: '10s',
    maxQueryTime: '1m',
    enableLocalScriptChecks: true,
  })
  assert.equal(config.nodeId, '0a1b2c3d-0000-4000-8000-000000000002')
  assert.equal(config.dns.domain, 'example.')
  assert.equal(config.dns.altDomain, 'alt.example.')
  assert.deepEqual(config.dns.recursors, ['192.0.2.1', '192.0.2.2:5353'])
  assert.equal(config.defaultQueryTimeMs, 10_000)
  assert.equal(config.maxQueryTimeMs, 60_000)
  assert.equal(config.enableLocalScriptChecks, true)
  assert.equal(config.enableScriptChecks, false)
  assert.throws(() => loadConfig({ dev: true, maxQueryTime: 'soon' }), (err: unknown) => err instanceof ConfigError && err.source === 'command line' && err.key === 'max_query_time')
})

test('a duration without a number ("s", ".m") is refused by the schema with its key (found by the config fuzzer)', () => {
  withDir((dir) => {
    const f = join(dir, 'bad.json')
    for (const [doc, key] of [[{ gossip_lan: { probe_interval: 's' } }, 'gossip_lan.probe_interval'], [{ retry_interval: '.m' }, 'retry_interval'], [{ dns_config: { node_ttl: '1.s' } }, '']] as const) {
      writeFileSync(f, JSON.stringify(doc))
      if (key === '') {
        assert.equal(loadConfig({ dev: true, configFile: [f] }).config.dns.nodeTtlMs, 1000, 'Go takes "1.s"')
        continue
      }
      assert.throws(() => loadConfig({ dev: true, configFile: [f] }), (err: Error) => err instanceof ConfigError && err.message.includes(key))
    }
    writeFileSync(f, JSON.stringify({ retry_interval: '-0', gossip_lan: { probe_interval: '1.5s', probe_timeout: '.5s' } }))
    assert.equal(loadConfig({ dev: true, configFile: [f] }).config.gossipLan.probeIntervalMs, 1500)
  })
})
