import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseChecklist } from '../../src/distributive/checklist.js'
import { checkNames } from '../../src/distributive/registry.js'
import { runChecklists } from '../../src/distributive/runner.js'
import { CASES, type CheckCase } from './cases.js'
import { createWorld, type World } from './world.js'

/** Runs one check through the real parser and runner, as a one-check checklist. */
async function runCase(w: World, c: CheckCase): Promise<{ status: string; message: string }> {
  const list = parseChecklist(JSON.stringify({ Name: 'case', Checklist: [{ ID: c.id, Parameters: c.params(w) }] }), 'case.json')
  const host = { host: w.host, bare: w.bareHost, noSystemd: w.noSystemdHost, empty: w.emptyHost }[c.on ?? 'host']
  const report = await runChecklists([list], host, { timeoutMs: 20_000 })
  return report.outcomes[0]!
}

/** Parameters for the test name, with the world's run-time ports shown as placeholders. */
function shownParams(c: CheckCase): string {
  const placeholder = new Proxy({}, { get: (_, k) => (k === 'zk' ? new Proxy({}, { get: (_, z) => `<zk.${String(z)}>` }) : `<${String(k)}>`) })
  return JSON.stringify(c.params(placeholder as World))
}

let world: World
before(async () => {
  world = await createWorld()
})
after(async () => {
  await world.close()
})

describe('every check against the test world', () => {
  for (const c of CASES) {
    test(`${c.id} ${shownParams(c)}${c.on ? ` on the ${c.on} host` : ''} → ${c.expect}`, async () => {
      const r = await runCase(world, c)
      assert.equal(r.status, c.expect, `message: ${r.message}`)
      if (c.message) assert.match(r.message, c.message)
      if (c.expect !== 'passing') assert.notEqual(r.message, '', 'a non-passing check says why')
    })
  }
})

test('the table has a passing and a failing case for every registered name', () => {
  const names = checkNames()
  // The 72 names of the union of v0.2.1, v0.2.5 and v0.3.0, plus ServerStats, v0.3's registered name for ZooKeeperServerStats.
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 73)
  for (const name of names) {
    const mine = CASES.filter((c) => c.id === name)
    assert.ok(mine.some((c) => c.expect === 'passing'), `no passing case for ${name}`)
    assert.ok(mine.some((c) => c.expect === 'critical'), `no failing case for ${name}`)
  }
})
