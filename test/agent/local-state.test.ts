import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LocalState, type LocalChange } from '../../src/agent/local-state.js'
import { parseCheck } from '../../src/agent/definitions.js'
import { until } from '../helpers/poll.js'

function state(intervalMs: number): { local: LocalState; changes: LocalChange[]; logs: string[] } {
  const logs: string[] = []
  const local = new LocalState({ dataDir: undefined, checkUpdateIntervalMs: () => intervalMs, log: (level, m) => logs.push(`${level} ${m}`), random: () => 0 })
  const changes: LocalChange[] = []
  local.addCheck(parseCheck({ ID: 'c', Name: 'c', TTL: '1h' }), 'api', undefined)
  local.onChange = (c) => changes.push(c)
  return { local, changes, logs }
}

test('output-only changes are shown locally at once and written back once per check_update_interval', async () => {
  const { local, changes } = state(200)
  local.updateCheck('c', 'passing', 'first')
  assert.equal(changes.length, 1, 'a status change syncs at once')
  assert.equal(local.checks.get('c')!.catalogOutput, 'first')
  local.updateCheck('c', 'passing', 'second')
  local.updateCheck('c', 'passing', 'third')
  assert.equal(local.checks.get('c')!.output, 'third', 'the agent shows the newest output')
  assert.equal(local.checks.get('c')!.catalogOutput, 'first', 'the catalog keeps the old one for now')
  assert.equal(changes.length, 1)
  await until('the deferred write-back', () => (changes.length === 2 ? true : undefined))
  assert.equal(local.checks.get('c')!.catalogOutput, 'third', 'several changes coalesce into one write-back')
  local.stopAll()
})

test('a status change carries the latest output at once and cancels the pending write-back', async () => {
  const { local, changes, logs } = state(60_000)
  local.updateCheck('c', 'passing', 'ok')
  local.updateCheck('c', 'passing', 'ok, later')
  local.updateCheck('c', 'critical', 'down')
  assert.equal(changes.length, 2)
  assert.equal(local.checks.get('c')!.catalogOutput, 'down')
  assert.equal(local.checks.get('c')!.deferred, undefined)
  assert.deepEqual(logs, ['info agent: Check is now passing: check=c', 'warn agent: Check is now critical: check=c'])
  local.stopAll()
})

test('check_update_interval 0 writes every output change through', () => {
  const { local, changes } = state(0)
  local.updateCheck('c', 'passing', 'a')
  local.updateCheck('c', 'passing', 'b')
  assert.equal(changes.length, 2)
  assert.equal(local.checks.get('c')!.catalogOutput, 'b')
})

test('the first verdict after registration goes through at once even when it keeps the initial status', () => {
  const { local, changes } = state(60_000)
  local.updateCheck('c', 'critical', 'connection refused')
  assert.equal(changes.length, 1)
  assert.equal(local.checks.get('c')!.catalogOutput, 'connection refused')
  local.updateCheck('c', 'critical', 'connection refused again')
  assert.equal(changes.length, 1, 'later output-only changes wait')
  local.stopAll()
})
