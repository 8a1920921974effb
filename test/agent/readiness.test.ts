import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readiness } from '../../src/agent/self-view.js'

test('readiness: ok with a known leader; the reason when there is none, the servers fail, or the agent leaves', async () => {
  assert.deepEqual(await readiness(true, false, async () => '127.0.0.1:8300'), { server: { ok: true, message: 'ok' } })
  assert.deepEqual(await readiness(true, false, async () => ''), { server: { ok: false, message: 'No cluster leader' } })
  assert.deepEqual(await readiness(false, false, async () => { throw new Error('No known Consul servers') }), { client: { ok: false, message: 'No known Consul servers' } })
  let asked = false
  assert.deepEqual(await readiness(false, true, async () => ((asked = true), 'x')), { client: { ok: false, message: 'agent is leaving' } })
  assert.equal(asked, false, 'a leaving agent is not ready, whatever its servers say')
})
