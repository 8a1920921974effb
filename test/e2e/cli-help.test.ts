import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, CONSULKV_BIN, ROOT, removeDir, runCli, tempDir } from '../helpers/agent.js'

const TEMPLATE_BIN = join(ROOT, 'bin', 'consul-template.js')
const DISTRIBUTIVE_BIN = join(ROOT, 'bin', 'distributive.js')

test('usage lines show the command the user types', async () => {
  const usage = async (bin: string, args: string[]) => {
    const out = await runCli(bin, args)
    assert.equal(out.code, 0, out.stderr)
    assert.doesNotMatch(out.stdout, /\$ consul (consulkv|consul-template|distributive)/)
    return /USAGE\n {2}(.*)/.exec(out.stdout)?.[1]
  }
  assert.match((await usage(CONSULKV_BIN, ['read', '--help']))!, /^\$ consulkv read KEY /)
  assert.equal(await usage(CONSULKV_BIN, ['--help']), '$ consulkv COMMAND')
  assert.equal(await usage(CONSUL_BIN, ['consulkv', 'write', '-h']).then((u) => u?.split(' ').slice(0, 3).join(' ')), '$ consulkv write')
  assert.match((await usage(TEMPLATE_BIN, ['-h']))!, /^\$ consul-template\b/)
  assert.match((await usage(DISTRIBUTIVE_BIN, ['--help']))!, /^\$ distributive \[-f <value>\]/)
  assert.match((await usage(CONSUL_BIN, ['kv', 'get', '-h']))!, /^\$ consul kv get /)
})

test('topics are described as topics, not by one of their commands', async () => {
  const root = (await runCli(CONSUL_BIN, ['--help'])).stdout
  assert.match(root, /\n {2}catalog +Interact with the catalog: datacenters, nodes and services\n/)
  assert.match(root, /\n {2}services +Register and deregister services of the local agent\n/)
  assert.match((await runCli(CONSUL_BIN, ['services'])).stdout, /^Register and deregister services of the local agent\n/)
})

test('consul -v, -version and --version print what consul version prints', async () => {
  const version = await runCli(CONSUL_BIN, ['version'])
  assert.match(version.stdout, /^Consul v\d+\.\d+\.\d+\nRevision /)
  for (const flag of ['-v', '-version', '--version']) assert.deepEqual(await runCli(CONSUL_BIN, [flag]), version, flag)
})

/** Runs a command on a pseudo-terminal (util-linux `script`), so that it may paint. */
function onTty(args: string[], env: NodeJS.ProcessEnv): string {
  const quoted = [process.execPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const res = spawnSync('script', ['-qec', quoted, '/dev/null'], { env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env }, encoding: 'utf8' })
  return res.stdout
}

const hasScript = spawnSync('script', ['--version']).status === 0

test('colour on a terminal, none under NO_COLOR or in a pipe', { skip: !hasScript && 'no util-linux script' }, async () => {
  const dir = tempDir('nocolor-')
  try {
    const checklist = join(dir, 'c.json')
    writeFileSync(checklist, JSON.stringify({ Name: 't', Checklist: [{ ID: 'command', Parameters: ['true'] }] }))
    const args = [DISTRIBUTIVE_BIN, '-f', checklist, '--verbosity=info']
    assert.match(onTty(args, {}), /\x1b\[32m\[OK\]/)
    const plain = onTty(args, { NO_COLOR: '1' })
    assert.match(plain, /\[OK\] t #1/)
    assert.doesNotMatch(plain, /\x1b\[/)
    assert.doesNotMatch((await runCli(DISTRIBUTIVE_BIN, args.slice(1))).stdout, /\x1b\[/)
  } finally {
    removeDir(dir)
  }
})
