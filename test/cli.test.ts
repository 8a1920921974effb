import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeArgv } from '../src/cli.js'
import { consulkvClient } from '../src/client/consulkv.js'

test('Go-style single-dash long flags become double-dash', () => {
  assert.deepEqual(normalizeArgv(['agent', '-dev', '-data-dir=/x', '-config-file', 'a.json']), ['agent', '--dev', '--data-dir=/x', '--config-file', 'a.json'])
  assert.deepEqual(normalizeArgv(['kv', 'get', '-recurse', 'web/']), ['kv', 'get', '--recurse', 'web/'])
})

test('double-dash flags, short flags, numbers, stdin and anything after -- stay as they are', () => {
  assert.deepEqual(normalizeArgv(['--dev', '-n', '-1', '-', '--', '-not-a-flag']), ['--dev', '-n', '-1', '-', '--', '-not-a-flag'])
  assert.deepEqual(normalizeArgv(['kv', 'get', '-h']), ['kv', 'get', '--help'])
  assert.deepEqual(normalizeArgv(['-dns-port', '-1']), ['--dns-port', '-1'])
})

test('consulkv --ssl without --consul: CONSUL_HTTP_ADDR, else Consul\'s HTTPS port 8501', () => {
  const flags = { ssl: true, 'ssl-verify': 'true' }
  const at = (env: NodeJS.ProcessEnv, f: Parameters<typeof consulkvClient>[0] = flags) => {
    const client = consulkvClient(f, env)
    client.close()
    return client.baseUrl.origin
  }
  assert.equal(at({}), 'https://127.0.0.1:8501')
  assert.equal(at({ CONSUL_HTTP_ADDR: '10.0.0.1:9501' }), 'https://10.0.0.1:9501')
  assert.equal(at({ CONSUL_HTTP_ADDR: 'http://10.0.0.1:9501' }), 'https://10.0.0.1:9501')
  assert.equal(at({}, { ...flags, consul: '10.0.0.2:9443' }), 'https://10.0.0.2:9443')
  assert.equal(at({}, { ssl: false, 'ssl-verify': 'true' }), 'http://127.0.0.1:8500')
  assert.equal(at({ CONSUL_HTTP_SSL: 'true' }, { ssl: false, 'ssl-verify': 'true' }), 'https://127.0.0.1:8501')
  assert.equal(at({ CONSUL_HTTP_SSL: 'true', CONSUL_HTTP_ADDR: 'http://10.0.0.1:9501' }, { ssl: false, 'ssl-verify': 'true' }), 'https://10.0.0.1:9501')
})
