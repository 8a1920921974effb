import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeArgv } from '../src/cli.js'

test('Go-style single-dash long flags become double-dash', () => {
  assert.deepEqual(normalizeArgv(['agent', '-dev', '-data-dir=/x', '-config-file', 'a.json']), ['agent', '--dev', '--data-dir=/x', '--config-file', 'a.json'])
  assert.deepEqual(normalizeArgv(['kv', 'get', '-recurse', 'web/']), ['kv', 'get', '--recurse', 'web/'])
})

test('double-dash flags, short flags, numbers, stdin and anything after -- stay as they are', () => {
  assert.deepEqual(normalizeArgv(['--dev', '-n', '-1', '-', '--', '-not-a-flag']), ['--dev', '-n', '-1', '-', '--', '-not-a-flag'])
  assert.deepEqual(normalizeArgv(['kv', 'get', '-h']), ['kv', 'get', '--help'])
  assert.deepEqual(normalizeArgv(['-dns-port', '-1']), ['--dns-port', '-1'])
})
