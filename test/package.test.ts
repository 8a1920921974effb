import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ROOT, removeDir, startAgent, tempDir } from './helpers/agent.js'

test('package-lock.json matches package.json, so npm install leaves it as committed', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))
  const self = lock.packages['']
  for (const key of ['name', 'version', 'license', 'bin', 'dependencies', 'devDependencies', 'engines']) assert.deepEqual(self[key], pkg[key], key)
  assert.equal(lock.version, pkg.version)
  // And npm itself agrees: resolving the tree from the lock (offline, lock only) writes it back byte for byte.
  const dir = tempDir('lock-')
  try {
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(dir, f))
    const res = spawnSync('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' })
    assert.equal(res.status, 0, res.stderr)
    assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))
  } finally {
    removeDir(dir)
  }
})

test('the packed tarball is a library: the HTTP client and the template engine import from "consulate"', async () => {
  const dir = tempDir('pack-')
  const agent = await startAgent({ dev: true })
  try {
    const packed = spawnSync('npm', ['pack', ROOT, '--pack-destination', dir, '--ignore-scripts', '--json'], { cwd: dir, encoding: 'utf8' })
    assert.equal(packed.status, 0, packed.stderr)
    const tarball = join(dir, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename)
    // Installed offline: the tarball unpacked as node_modules/consulate, its declared dependencies (only those) from ours.
    const project = join(dir, 'project')
    const modules = join(project, 'node_modules')
    mkdirSync(modules, { recursive: true })
    assert.equal(spawnSync('tar', ['-xzf', tarball, '-C', modules]).status, 0)
    renameSync(join(modules, 'package'), join(modules, 'consulate'))
    const { dependencies } = JSON.parse(readFileSync(join(modules, 'consulate', 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    for (const name of Object.keys(dependencies)) {
      mkdirSync(dirname(join(modules, name)), { recursive: true })
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name))
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }))
    writeFileSync(
      join(project, 'use.js'),
      `import { ConsulClient, Template, ApiError } from 'consulate'
import { Template as Alone } from 'consulate/template'
const client = new ConsulClient({ address: process.argv[2] })
await client.kvPut('lib/greeting', 'hello')
const pair = await client.kvGet('lib/greeting')
const value = Buffer.from(pair.Value, 'base64').toString()
console.log(new Template('t').parse('{{.Key}}={{.Value}} {{len .Key}}').execute({ Key: pair.Key, Value: value }))
console.log(Alone === Template, typeof ApiError)
client.close()
`,
    )
    const run = spawnSync(process.execPath, ['use.js', agent.httpAddr], { cwd: project, encoding: 'utf8' })
    assert.equal(run.stderr, '')
    assert.equal(run.stdout, 'lib/greeting=hello 12\ntrue function\n')
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  }
})
