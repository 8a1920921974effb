#!/usr/bin/env node
// Writes oclif.manifest.json only when the compiled commands may have changed: the manifest lists every command's
// flags, which can come from any module, so the fingerprint covers all of dist/src and package.json's oclif section.
// `oclif manifest` runs with its update check off: no registry request, no "update available" notice.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stamp = join(root, 'dist', '.manifest-fingerprint')
const manifest = join(root, 'oclif.manifest.json')

const hash = createHash('sha256')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
hash.update(JSON.stringify([pkg.version, pkg.oclif]))
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path)
    else if (entry.name.endsWith('.js')) hash.update(path).update(readFileSync(path))
  }
}
walk(join(root, 'dist', 'src'))
const fingerprint = hash.digest('hex')

if (existsSync(manifest) && existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) process.exit(0)
const oclif = join(root, 'node_modules', 'oclif', 'bin', 'run.js')
execFileSync(process.execPath, [oclif, 'manifest'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true' } })
writeFileSync(stamp, fingerprint)
