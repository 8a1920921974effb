import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_SCHEMA, type SchemaNode } from '../../src/agent/config-schema.js'
import { IMPLEMENTED_KEYS, UNSUPPORTED_KEYS, isInert } from '../../src/agent/config-keys.js'
import { loadConfig } from '../../src/agent/config.js'
import { ConfigError } from '../../src/lib/errors.js'
import { ROOT, tempDir, removeDir } from '../helpers/agent.js'

/** Every leaf of the schema: a key without sub-properties (a value, a list, or a free-form block). */
function leaves(node: SchemaNode, prefix = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([k, sub]) => {
    const path = prefix ? `${prefix}.${k}` : k
    return sub.properties ? leaves(sub, path) : [path]
  })
}

function sources(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return e.name.endsWith('.ts') ? [{ file: path, text: readFileSync(path, 'utf8') }] : []
  })
}

const SRC = join(ROOT, 'src')

test('every schema key is either implemented or listed as not supported yet, and no list names a key the schema lacks', () => {
  const all = leaves(CONFIG_SCHEMA)
  assert.ok(all.length > 150, `the schema walk found only ${all.length} keys`)
  const neither = all.filter((k) => !(k in IMPLEMENTED_KEYS) && !(k in UNSUPPORTED_KEYS))
  assert.deepEqual(neither, [], 'schema keys that are neither implemented nor warned about')
  const both = all.filter((k) => k in IMPLEMENTED_KEYS && k in UNSUPPORTED_KEYS)
  assert.deepEqual(both, [], 'keys listed twice')
  const stale = [...Object.keys(IMPLEMENTED_KEYS), ...Object.keys(UNSUPPORTED_KEYS)].filter((k) => !all.includes(k))
  assert.deepEqual(stale, [], 'listed keys missing from the schema')
})

test('each implemented key is read by the loader, and the runtime field it sets is used outside it', () => {
  // The loader: config.ts and the ACL, TLS and UI blocks' own readers.
  const loader = ['config.ts', 'config-acl.ts', 'config-tls.ts', 'config-ui.ts'].map((f) => readFileSync(join(SRC, 'agent', f), 'utf8')).join('\n')
  const users = sources(SRC).filter((s) => !/agent[/\\]config(-keys|-schema|-acl|-tls|-ui)?\.ts$/.test(s.file))
  const unread: string[] = []
  const unused: string[] = []
  for (const [key, field] of Object.entries(IMPLEMENTED_KEYS)) {
    const leaf = key.split('.').at(-1)!
    if (!new RegExp(`[.'"]${leaf}\\b`).test(loader)) unread.push(key)
    const name = field.split('.').at(-1)!
    if (!users.some((s) => new RegExp(`\\b${name}\\b`).test(s.text))) unused.push(`${key} -> ${field}`)
  }
  assert.deepEqual(unread, [], 'implemented keys the loader never reads')
  assert.deepEqual(unused, [], 'implemented keys whose runtime field nothing uses')
})

function withFile(name: string, text: string, fn: (file: string) => void): void {
  const dir = tempDir('keys-')
  try {
    const file = join(dir, name)
    writeFileSync(file, text)
    fn(file)
  } finally {
    removeDir(dir)
  }
}

test('keys not supported yet warn by name; set to what this build does anyway they are quiet; typos are still unknown', () =>
  withFile(
    'agent.json',
    JSON.stringify({
      serf_wan: '10.0.0.9',
      primary_gateways: ['10.0.0.1'],
      ui_config: { enabled: true, metrics_provider: 'prometheus' },
      ca_path: '/etc/consul.d/ca',
      tls: { defaults: { tls_cipher_suites: 'TLS_AES_128_GCM_SHA256', cert_file: 'c.pem', key_file: 'k.pem' } },
      ports: { grpc: 8502, http: 8501 },
      disable_update_check: true,
      ui: false,
      ports_typo: 1,
      dns_config: { enable_truncate: true, use_cache: true },
    }),
    (file) => {
      const { config, warnings } = loadConfig({ dev: true, configFile: [file] })
      const named = (key: string): string => `${file}: config key "${key}" is accepted but not supported yet; it has no effect`
      assert.deepEqual(warnings.sort(), [
        `${file}: unknown config key "ports_typo" ignored`,
        named('dns_config.use_cache'),
        named('serf_wan'),
        named('ports.grpc'),
        named('primary_gateways'),
        named('tls.defaults.tls_cipher_suites'),
        named('ui_config.metrics_provider'),
        named('ca_path'),
      ].sort())
      assert.equal(config.ports.http, 8501)
      assert.equal(config.tls.certFile, 'c.pem')
    },
  ))

test('HCL blocks of unsupported features warn once, by block', () =>
  withFile('agent.hcl', 'auto_encrypt {\n  tls = true\n}\nconnect {\n  enabled = true\n}\ntelemetry {\n  prometheus_retention_time = "24h"\n  statsite_address = "127.0.0.1:8125"\n}\nadvertise_addr_wan = "10.0.0.2"\n', (file) => {
    const { warnings } = loadConfig({ dev: true, configFile: [file] })
    assert.deepEqual(warnings.map((w) => /"([^"]+)"/.exec(w)![1]).sort(), ['advertise_addr_wan', 'auto_encrypt', 'connect', 'telemetry.statsite_address'])
  }))

test('the acl block, and the older keys mapped onto it with a deprecation warning each', () => {
  const load = (doc: object) => {
    let out: ReturnType<typeof loadConfig> | undefined
    withFile('acl.json', JSON.stringify(doc), (file) => (out = loadConfig({ dev: true, configFile: [file] })))
    return out!
  }
  const now = load({ acl: { enabled: true, default_policy: 'deny', enable_key_list_policy: true, tokens: { initial_management: 'root', default: 'd', agent: 'a', agent_recovery: 'r' } } })
  assert.deepEqual(now.warnings, [])
  assert.deepEqual(now.config.acl.tokens, { initialManagement: 'root', default: 'd', agent: 'a', agentRecovery: 'r' })
  assert.equal(now.config.acl.enabled, true)
  assert.equal(now.config.acl.defaultPolicy, 'deny')
  assert.equal(now.config.acl.enableKeyListPolicy, true)
  // What node-consul's and python-consul's test harnesses write.
  const old = load({ acl_datacenter: 'dc1', acl_default_policy: 'deny', acl_master_token: 'root', acl_token: 'd', acl_agent_token: 'a', acl_agent_master_token: 'r' })
  assert.equal(old.config.acl.enabled, true, 'acl_datacenter turns ACLs on')
  assert.equal(old.config.acl.defaultPolicy, 'deny')
  assert.deepEqual(old.config.acl.tokens, { initialManagement: 'root', default: 'd', agent: 'a', agentRecovery: 'r' })
  assert.equal(old.warnings.filter((w) => /is deprecated; use /.test(w)).length, 6)
  assert.match(old.warnings.join('\n'), /"acl_master_token" is deprecated; use acl\.tokens\.initial_management/)
  const renamed = load({ acl: { enabled: true, tokens: { master: 'm', agent_master: 'am' } } })
  assert.deepEqual(renamed.config.acl.tokens, { initialManagement: 'm', agentRecovery: 'am' })
  assert.equal(renamed.warnings.length, 2)
  // The new key wins over the old one.
  assert.equal(load({ acl: { enabled: true, default_policy: 'allow' }, acl_default_policy: 'deny' }).config.acl.defaultPolicy, 'allow')
  assert.equal(load({}).config.acl.enabled, false)
  // One cached answer holds token, policies and roles: it lives for the shortest of their TTLs.
  assert.equal(load({}).config.acl.tokenTtlMs, 30_000)
  assert.equal(load({ acl: { token_ttl: '1m', policy_ttl: '5s', role_ttl: '10s' } }).config.acl.tokenTtlMs, 5_000)
  assert.equal(load({ acl: { role_ttl: '2s' } }).config.acl.tokenTtlMs, 2_000)
  const more = load({ acl: { enabled: true, tokens: { dns: 'dn', config_file_service_registration: 'cf' } } })
  assert.deepEqual(more.config.acl.tokens, { dns: 'dn', configFileServiceRegistration: 'cf' })
  assert.deepEqual(more.warnings, [])
  assert.throws(() => load({ acl_down_policy: 'sometimes' }), (err: unknown) => err instanceof ConfigError && err.key === 'acl_down_policy')
})

test('a top-level key with no implemented part is inert (a reload does not ask for a restart for it)', () => {
  for (const key of ['auto_encrypt', 'primary_gateways', 'autopilot']) assert.equal(isInert(key), true, key)
  for (const key of ['ui_config', 'datacenter', 'tls', 'ports', 'dns_config', 'limits', 'performance', 'acl', 'frobnicate']) assert.equal(isInert(key), false, key)
})
