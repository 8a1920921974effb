import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, removeDir, tempDir } from './helpers/agent.js'

test('a rebuild of an unchanged tree compiles nothing, keeps the manifest and shows no oclif update notice', () => {
  const manifest = join(ROOT, 'oclif.manifest.json')
  const before = statSync(manifest).mtimeMs
  const res = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(res.status, 0, res.stderr)
  assert.doesNotMatch(res.stdout + res.stderr, /update available/i)
  assert.equal(res.stdout + res.stderr, '')
  assert.equal(statSync(manifest).mtimeMs, before, 'manifest not rewritten')
  assert.ok(existsSync(join(ROOT, 'dist', '.tsbuildinfo')), 'tsc builds incrementally')
})

test('the manifest step regenerates exactly when the compiled code changed', () => {
  const dir = tempDir('manifest-')
  try {
    // A copy of the built package: its own package.json, dist/src and scripts, the repo's node_modules.
    mkdirSync(join(dir, 'dist'))
    cpSync(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true })
    cpSync(join(ROOT, 'scripts'), join(dir, 'scripts'), { recursive: true })
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const manifest = join(dir, 'oclif.manifest.json')
    const step = () => {
      const res = spawnSync(process.execPath, [join(dir, 'scripts', 'manifest.js')], { cwd: dir, encoding: 'utf8' })
      assert.equal(res.status, 0, res.stderr)
      assert.doesNotMatch(res.stderr, /update available/i)
    }
    const summary = () => (JSON.parse(readFileSync(manifest, 'utf8')) as { commands: Record<string, { summary?: string }> }).commands.keygen?.summary
    step()
    assert.match(summary() ?? '', /gossip encryption key/)
    const first = statSync(manifest).mtimeMs
    step()
    assert.equal(statSync(manifest).mtimeMs, first, 'unchanged code: manifest kept')
    const keygen = join(dir, 'dist', 'src', 'commands', 'keygen.js')
    writeFileSync(keygen, readFileSync(keygen, 'utf8').replace(/summary = '[^']*'/, "summary = 'Changed summary.'"))
    step()
    assert.equal(summary(), 'Changed summary.')
  } finally {
    removeDir(dir)
  }
})
