/** Our example checklists in checks/ load, run in the test world, and the Consul check definitions point at them. */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runDistributive, runDistributiveCheck } from '../../src/distributive/index.js'
import { loadChecklists, loadFile } from '../../src/distributive/sources.js'
import { createWorld, type World } from './world.js'

const CHECKS = path.resolve(fileURLToPath(import.meta.url), '../../../../checks')
/** Our checklists, apart from checks/ (which holds agent config files). */
const CHECKLIST_DIR = path.join(CHECKS, 'distributive.d')

let world: World
before(async () => {
  world = await createWorld()
})
after(async () => {
  await world.close()
})

test('checks/distributive.d loads as a directory of checklists (-d)', async () => {
  const lists = await loadChecklists({ directory: CHECKLIST_DIR })
  assert.deepEqual(lists.map((l) => path.basename(l.source)), ['base-node.yml', 'consul-node.json'])
  assert.equal((await readdir(CHECKLIST_DIR)).length, 2)
})

test('the Consul check definitions run checklists that exist in checks/', async () => {
  const script = JSON.parse(await readFile(path.join(CHECKS, 'distributive-node.json'), 'utf8')) as { check: { args: string[]; interval: string } }
  assert.equal(path.basename(script.check.args[0]!), 'distributive')
  const file = script.check.args[script.check.args.indexOf('-f') + 1]!
  assert.ok(file.startsWith('/etc/distributive.d/'))
  await loadFile(path.join(CHECKLIST_DIR, path.basename(file)))
  const native = JSON.parse(await readFile(path.join(CHECKS, 'distributive-native.json'), 'utf8')) as { check: { distributive: string } }
  await loadFile(path.join(CHECKLIST_DIR, path.basename(native.check.distributive)))
})

test('the files the checklists name (the check definitions that register them) exist and point back at them', async () => {
  for (const name of await readdir(CHECKLIST_DIR)) {
    const text = await readFile(path.join(CHECKLIST_DIR, name), 'utf8')
    for (const [mention] of text.matchAll(/\bchecks\/[\w./-]+\.(?:json|yml|yaml)\b|\b[\w-]+\.json\b/g)) {
      const file = path.join(CHECKS, mention.replace(/^checks\//, ''))
      const definition = await readFile(file, 'utf8').catch(() => assert.fail(`${name} names ${mention}, which does not exist`))
      assert.match(definition, new RegExp(`/${name.replace('.', '\\.')}\\b`), `${mention} registers ${name}`)
    }
  }
})

test('base-node.yml passes in the test world (no timedatectl there, so time sync is "unknown")', async () => {
  const r = await runDistributive({ file: path.join(CHECKLIST_DIR, 'base-node.yml'), host: world.bareHost })
  assert.equal(r.exitCode, 0, r.stdout)
})

test('consul-node.json fails in a world without Consul, and the in-agent check type turns that into critical with the report as output', async () => {
  const r = await runDistributiveCheck(path.join(CHECKLIST_DIR, 'consul-node.json'), { host: world.host })
  assert.equal(r.status, 'critical')
  assert.match(r.output, /^DISTRIBUTIVE CRITICAL - \d+ of 12 checks failed: Consul agent node: file \/usr\/bin\/consul/)
  assert.match(r.output, /\n\[CRITICAL\] Consul agent node #4 userExists consul: User does not exist: consul/)
})

test('the in-agent check type maps warnings to warning and a bad checklist to critical', async () => {
  const file = path.join(world.dir, 'warn.json')
  await writeFile(file, JSON.stringify({ Name: 'w', Checklist: [{ ID: 'memoryUsage', Parameters: ['50'], Severity: 'warning' }, { ID: 'directory', Parameters: ['/'] }] }))
  const warn = await runDistributiveCheck(file, { host: world.host })
  assert.equal(warn.status, 'warning')
  assert.match(warn.output, /^DISTRIBUTIVE WARNING - 1 of 2 checks warned/)
  const missing = await runDistributiveCheck(path.join(CHECKLIST_DIR, 'no-such-checklist.json'), { host: world.host })
  assert.equal(missing.status, 'critical')
  assert.match(missing.output, /^DISTRIBUTIVE UNKNOWN - .*no-such-checklist\.json: cannot read checklist/)
})

test('the README lists every registered check name', async () => {
  const readme = await readFile(path.resolve(CHECKS, '../src/distributive/README.md'), 'utf8')
  const { checkNames } = await import('../../src/distributive/registry.js')
  for (const name of checkNames()) assert.ok(readme.includes(`\`${name}\``), `README misses ${name}`)
})
