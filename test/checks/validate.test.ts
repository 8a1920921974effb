import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { CheckDefinitionError, checkType, createCheckRunner, validateCheck, type CheckDefinition } from '../../src/checks/index.js'
import { Recorder, tempDir } from './helpers.js'

const base: CheckDefinition = { id: 'c', name: 'c' }
const allow = { scriptChecksAllowed: true }

function refused(def: CheckDefinition, opts: Parameters<typeof validateCheck>[1], field: string, message: string, status = 400): void {
  assert.throws(
    () => validateCheck(def, opts),
    (err: unknown) => {
      assert.ok(err instanceof CheckDefinitionError, String(err))
      assert.equal(err.field, field)
      assert.equal(err.message, message)
      assert.equal(err.httpStatus, status)
      return true
    },
  )
}

test('checkType picks the kind in Consul order', () => {
  assert.equal(checkType({ ...base, ttlMs: 1000 }), 'ttl')
  assert.equal(checkType({ ...base, http: 'http://x/', intervalMs: 1000 }), 'http')
  assert.equal(checkType({ ...base, tcp: 'x:1', intervalMs: 1000 }), 'tcp')
  assert.equal(checkType({ ...base, udp: 'x:1', intervalMs: 1000 }), 'udp')
  assert.equal(checkType({ ...base, args: ['true'], intervalMs: 1000 }), 'script')
  assert.equal(checkType({ ...base, script: 'true', intervalMs: 1000 }), 'script')
  assert.equal(checkType({ ...base, args: ['true'], dockerContainerId: 'abc', intervalMs: 1000 }), 'docker')
  assert.equal(checkType({ ...base, aliasService: 'web' }), 'alias')
  assert.equal(checkType({ ...base, aliasNode: 'n1' }), 'alias')
  assert.throws(() => checkType(base), CheckDefinitionError)
})

test('valid definitions pass', () => {
  validateCheck({ ...base, ttlMs: 10_000 }, allow)
  validateCheck({ ...base, http: 'http://127.0.0.1/', intervalMs: 10_000 }, allow)
  validateCheck({ ...base, args: ['true'], intervalMs: 10_000 }, allow)
  validateCheck({ ...base, aliasService: 'web' }, allow)
  validateCheck({ ...base, tcp: 'x:1', intervalMs: 10_000, failuresBeforeCritical: 3, failuresBeforeWarning: 1 }, allow)
  // Below the 1s minimum is raised, not refused.
  validateCheck({ ...base, tcp: 'x:1', intervalMs: 10 }, allow)
})

test('missing interval, both interval and TTL, no kind: Consul messages', () => {
  const noInterval = 'Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks'
  refused({ ...base, args: ['true'] }, allow, 'Interval', noInterval)
  refused({ ...base, http: 'http://x/' }, allow, 'Interval', noInterval)
  refused({ ...base, tcp: 'x:1' }, allow, 'Interval', noInterval)
  refused({ ...base, udp: 'x:1' }, allow, 'Interval', noInterval)
  refused({ ...base, args: ['true'], dockerContainerId: 'abc' }, allow, 'Interval', noInterval)
  refused({ ...base, http: 'http://x/', intervalMs: 1000, ttlMs: 1000 }, allow, 'Interval', 'Invalid check: Interval and TTL cannot both be specified')
  refused(base, allow, 'TTL', 'Invalid check: TTL must be > 0 for TTL checks')
  refused({ ...base, aliasService: 'web', tcp: 'x:1', intervalMs: 1000 }, allow, 'AliasService', 'Invalid check: Interval cannot be set for Alias checks')
  refused({ ...base, aliasService: 'web', ttlMs: 1000 }, allow, 'TTL', 'Invalid check: TTL must be not be set for Alias checks')
})

test('name, status, output size and thresholds', () => {
  refused({ ...base, name: '', ttlMs: 1000 }, allow, 'Name', 'Missing check name')
  refused({ ...base, ttlMs: 1000, status: 'bogus' as never }, allow, 'Status', 'Bad check status')
  refused({ ...base, ttlMs: 1000, outputMaxSize: -1 }, allow, 'OutputMaxSize', 'Invalid check: MaxOutputMaxSize must be positive')
  refused(
    { ...base, tcp: 'x:1', intervalMs: 1000, failuresBeforeWarning: 3, failuresBeforeCritical: 2 },
    allow,
    'FailuresBeforeWarning',
    "Invalid check: FailuresBeforeWarning can't be higher than FailuresBeforeCritical",
  )
})

test('script checks while disabled', () => {
  const def = { ...base, args: ['true'], intervalMs: 1000 }
  refused(def, { scriptChecksAllowed: false }, 'Args', "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true", 500)
  refused(
    { ...base, script: 'true', intervalMs: 1000 },
    { scriptChecksAllowed: false, source: 'remote' },
    'Script',
    "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true",
    500,
  )
  // A Docker check runs a script too, so it needs script checks enabled, as in Consul.
  refused({ ...def, dockerContainerId: 'abc' }, { scriptChecksAllowed: false }, 'Args', "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true", 500)
})

test('Docker checks need a Docker socket', async () => {
  const { dir, cleanup } = tempDir('validate')
  const def = { ...base, args: ['true'], dockerContainerId: 'abc', intervalMs: 1000 }
  const missing = join(dir, 'nope.sock')
  refused(def, { ...allow, dockerSocket: missing }, 'DockerContainerID', `Docker checks need the Docker Engine API, but the Docker socket ${missing} cannot be used: it does not exist`, 500)
  const file = join(dir, 'file')
  writeFileSync(file, '')
  refused(def, { ...allow, dockerSocket: file }, 'DockerContainerID', `Docker checks need the Docker Engine API, but the Docker socket ${file} cannot be used: it is not a socket`, 500)
  const sock = join(dir, 'docker.sock')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(sock, resolve))
  try {
    validateCheck(def, { ...allow, dockerSocket: sock })
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    cleanup()
  }
})

test('an interval below 1s is raised with a warning', () => {
  const warnings: string[] = []
  const runner = createCheckRunner({ ...base, tcp: '127.0.0.1:1', intervalMs: 10 }, new Recorder(), { warn: (m) => warnings.push(m) })
  assert.equal(runner.kind, 'tcp')
  assert.deepEqual(warnings, ['check "c" has interval below minimum of 1s; using 1s'])
})
