import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { render } from '../../src/ctemplate/render.js'
import { removeDir, tempDir } from '../helpers/agent.js'

describe('render (atomic write)', () => {
  const dir = tempDir('ct-render-')
  after(() => removeDir(dir))
  const base = { perms: undefined, backup: false, createDestDirs: true, dry: false, dryWrite: () => undefined }

  test('writes through a temp file in the same folder, leaving nothing behind; unchanged content is not rewritten', () => {
    const p = join(dir, 'a', 'b', 'out.txt')
    assert.deepEqual(render({ ...base, path: p, contents: 'one' }), { didRender: true, wouldRender: true })
    assert.equal(readFileSync(p, 'utf8'), 'one')
    assert.equal(statSync(p).mode & 0o777, 0o644)
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o755)
    const ino = statSync(p).ino
    assert.deepEqual(render({ ...base, path: p, contents: 'one' }), { didRender: false, wouldRender: true })
    assert.equal(statSync(p).ino, ino)
    render({ ...base, path: p, contents: 'two' })
    assert.notEqual(statSync(p).ino, ino, 'replaced by rename')
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['out.txt'])
  })

  test('keeps an existing mode unless perms says otherwise', () => {
    const p = join(dir, 'mode.txt')
    writeFileSync(p, 'x', { mode: 0o600 })
    render({ ...base, path: p, contents: 'y' })
    assert.equal(statSync(p).mode & 0o777, 0o600)
    render({ ...base, path: p, contents: 'z', perms: 0o640 })
    assert.equal(statSync(p).mode & 0o777, 0o640)
  })

  test('backup keeps the previous file as .bak and the one before as .old.bak', () => {
    const p = join(dir, 'bak.txt')
    for (const v of ['1', '2', '3']) render({ ...base, path: p, contents: v, backup: true })
    assert.equal(readFileSync(p, 'utf8'), '3')
    assert.equal(readFileSync(p + '.bak', 'utf8'), '2')
    assert.equal(readFileSync(p + '.old.bak', 'utf8'), '1')
  })

  test('create_dest_dirs=false and a missing folder; dry mode prints instead of writing', () => {
    assert.throws(() => render({ ...base, path: join(dir, 'nope', 'x'), contents: 'x', createDestDirs: false }), /failed writing file: parent directory is missing/)
    let printed = ''
    mkdirSync(join(dir, 'dry'))
    render({ ...base, path: join(dir, 'dry', 'x'), contents: 'body', dry: true, dryWrite: (s) => (printed += s) })
    assert.equal(printed, `> ${join(dir, 'dry', 'x')}\nbody`)
    assert.deepEqual(readdirSync(join(dir, 'dry')), [])
  })
})

describe('command lines', async () => {
  const { commandArgv } = await import('../../src/ctemplate/child.js')
  test('a simple command runs as sh -c "exec ..."; compound ones and assignments keep the shell; lists run directly', () => {
    assert.deepEqual(commandArgv('app --flag x'), { file: '/bin/sh', args: ['-c', 'exec app --flag x'], shell: true })
    assert.deepEqual(commandArgv('a && b'), { file: '/bin/sh', args: ['-c', 'a && b'], shell: true })
    assert.deepEqual(commandArgv('FOO=1 app'), { file: '/bin/sh', args: ['-c', 'FOO=1 app'], shell: true })
    assert.deepEqual(commandArgv('app'), { file: 'app', args: [], shell: false })
    assert.deepEqual(commandArgv(['svc', 'reload']), { file: 'svc', args: ['reload'], shell: false })
  })
})
