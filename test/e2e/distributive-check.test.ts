import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir, ROOT } from '../helpers/agent.js'
import { until, getJson } from '../helpers/poll.js'

test('a distributive checklist registered as a Consul check drives the node\'s health, report in Output', async () => {
  const dir = tempDir('distributive-check-')
  const marker = join(dir, 'deployed.flag')
  const checklist = join(dir, 'node.json')
  writeFileSync(checklist, JSON.stringify({ Name: 'node', Checklist: [{ Name: 'deploy marker', ID: 'file', Parameters: [marker] }] }))
  writeFileSync(
    join(dir, 'check.json'),
    JSON.stringify({
      enable_local_script_checks: true,
      check: { id: 'distributive', name: 'Node configuration (distributive)', args: [process.execPath, join(ROOT, 'bin', 'distributive.js'), '-f', checklist], interval: '1s', timeout: '20s' },
    }),
  )
  const agent = await startAgent({ args: [`-config-dir=${dir}`] })
  try {
    const check = async (status: string) =>
      until(`the distributive check to be ${status}`, async () => {
        const checks = await getJson<Array<{ CheckID: string; Status: string; Output: string }>>(`${agent.httpAddr}/v1/health/node/test-node`)
        const c = checks.find((x) => x.CheckID === 'distributive')
        // The initial status is critical with no output: wait for a real run.
        return c?.Status === status && c.Output ? c : undefined
      })
    const failing = await check('critical')
    assert.match(failing.Output, /^DISTRIBUTIVE CRITICAL/)
    assert.match(failing.Output, /file \S*deployed\.flag/)
    writeFileSync(marker, 'yes')
    const passing = await check('passing')
    assert.match(passing.Output, /^DISTRIBUTIVE OK/)
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  }
})

test('the native distributive check type runs a checklist in the agent, without script checks', async () => {
  const dir = tempDir('distributive-native-')
  const marker = join(dir, 'ready.flag')
  const checklist = join(dir, 'node.json')
  writeFileSync(checklist, JSON.stringify({ Name: 'node', Checklist: [{ ID: 'file', Parameters: [marker] }] }))
  writeFileSync(join(dir, 'check.json'), JSON.stringify({ check: { id: 'native', name: 'native checklist', distributive: checklist, interval: '1s' } }))
  const agent = await startAgent({ args: [`-config-dir=${dir}`] })
  try {
    const status = async (want: string) =>
      until(`the native check to be ${want}`, async () => {
        const checks = await getJson<Record<string, { Status: string; Output: string; Type: string }>>(`${agent.httpAddr}/v1/agent/checks`)
        return checks.native?.Status === want && checks.native.Output ? checks.native : undefined
      })
    const failing = await status('critical')
    assert.equal(failing.Type, 'distributive')
    assert.match(failing.Output, /^DISTRIBUTIVE CRITICAL/)
    writeFileSync(marker, 'ok')
    await status('passing')
    const bad = await fetch(`${agent.httpAddr}/v1/agent/check/register`, { method: 'PUT', body: JSON.stringify({ Name: 'x', Distributive: checklist }) })
    assert.equal(bad.status, 400, 'like a script check, it needs an interval')
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  }
})
