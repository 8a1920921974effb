import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN, CONSULKV_BIN, type RunningAgent } from '../helpers/agent.js'

describe('the consul and consulkv CLIs against a real agent', () => {
  let agent: RunningAgent
  let env: NodeJS.ProcessEnv
  let dir: string
  const consul = (...args: string[]) => runCli(CONSUL_BIN, args, { env })
  const consulkv = (...args: string[]) => runCli(CONSULKV_BIN, args, { env })

  before(async () => {
    dir = tempDir('cli-')
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ log_level: 'info' }))
    agent = await startAgent({ args: [`-config-file=${join(dir, 'agent.json')}`] })
    env = { CONSUL_HTTP_ADDR: agent.httpAddr }
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('kv put / get / get -detailed / delete', async () => {
    assert.deepEqual(await consul('kv', 'put', 'app/name', 'demo'), { code: 0, stdout: 'Success! Data written to: app/name\n', stderr: '' })
    assert.equal((await consul('kv', 'get', 'app/name')).stdout, 'demo\n')
    const detailed = (await consul('kv', 'get', '-detailed', 'app/name')).stdout
    assert.match(detailed, /^CreateIndex\s+\d+\nFlags\s+0\nKey\s+app\/name\nLockIndex\s+0\nModifyIndex\s+\d+\nSession\s+-\nValue\s+demo\n$/)
    const missing = await consul('kv', 'get', 'app/nope')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /No key exists at: app\/nope/)
    assert.equal((await consul('kv', 'delete', 'app/name')).stdout, 'Success! Deleted key: app/name\n')
  })

  test('kv put from stdin and @file, -flags, -base64, -cas', async () => {
    const file = join(dir, 'value.txt')
    writeFileSync(file, 'from a file')
    await consul('kv', 'put', 'v/file', `@${file}`)
    assert.equal((await consul('kv', 'get', 'v/file')).stdout, 'from a file\n')
    await runCli(CONSUL_BIN, ['kv', 'put', 'v/stdin', '-'], { env, input: 'piped' })
    assert.equal((await consul('kv', 'get', 'v/stdin')).stdout, 'piped\n')
    await consul('kv', 'put', '-flags=42', '-base64', 'v/b64', Buffer.from('decoded').toString('base64'))
    assert.match((await consul('kv', 'get', '-detailed', 'v/b64')).stdout, /Flags\s+42\n[\s\S]*Value\s+decoded/)
    const cas = await consul('kv', 'put', '-cas', '-modify-index=1', 'v/b64', 'nope')
    assert.equal(cas.code, 1)
    assert.match(cas.stderr, /CAS failed/)
  })

  test('kv put / get / delete errors read as Consul\'s', async () => {
    const err = async (...args: string[]) => {
      const out = await consul(...args)
      assert.equal(out.code, 1, args.join(' '))
      assert.equal(out.stdout, '')
      return out.stderr
    }
    const big = join(dir, 'big.txt')
    writeFileSync(big, 'a'.repeat(600_000))
    assert.match(await err('kv', 'put', 'e/big', `@${big}`), /^Error! Failed writing data: Unexpected response code: 413 \(.*too large.*\)\n$/)
    assert.match(await err('kv', 'put', '-acquire', '-session=00000000-0000-0000-0000-000000000000', 'e/lock', 'v'), /^Error! Failed writing data: Unexpected response code: 500 \(invalid session/)
    assert.equal(await err('kv', 'put'), 'Error! Missing KEY argument\n')
    assert.equal(await err('kv', 'put', 'a', 'b', 'c'), 'Error! Too many arguments (expected 1 or 2, got 3)\n')
    assert.match(await err('kv', 'put', 'e/f', `@${join(dir, 'none')}`), /^Error! Failed to read file: ENOENT/)
    const down = '-http-addr=127.0.0.1:1'
    assert.match(await err('kv', 'put', down, 'e/k', 'v'), /^Error! Failed writing data: Error connecting to http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/)
    assert.match(await err('kv', 'get', down, 'e/k'), /^Error querying Consul agent: Error connecting to /)
    assert.match(await err('kv', 'delete', down, 'e/k'), /^Error deleting key e\/k: Error connecting to /)
    assert.match(await err('kv', 'delete', '-recurse', down, 'e/'), /^Error! Did not delete prefix e\/: Error connecting to /)
    assert.match(await err('kv', 'delete', '-cas', '-modify-index=3', down, 'e/k'), /^Error! Did not delete key e\/k: Error connecting to /)
    await consul('kv', 'put', 'e/k', 'v')
    assert.equal(await err('kv', 'delete', '-cas', '-modify-index=1', 'e/k'), 'Error! Did not delete key e/k: CAS failed\n')
    assert.equal(await err('kv', 'delete', '-modify-index=3', 'e/k'), 'Cannot specify -modify-index without -cas!\n')
    assert.equal(await err('kv', 'put', '-release', '-session=00000000-0000-0000-0000-000000000000', 'e/k', 'v'), 'Error! Did not release lock\n')
  })

  test('kv get -recurse and -keys', async () => {
    for (const k of ['r/a', 'r/b/c']) await consul('kv', 'put', k, k.toUpperCase())
    assert.equal((await consul('kv', 'get', '-recurse', 'r/')).stdout, 'r/a:R/A\nr/b/c:R/B/C\n')
    assert.equal((await consul('kv', 'get', '-keys', 'r/')).stdout, 'r/a\nr/b/\n')
  })

  test('kv export then import into another prefix', async () => {
    const exported = await consul('kv', 'export', 'r/')
    const data = JSON.parse(exported.stdout) as Array<{ key: string; flags: number; value: string }>
    assert.deepEqual(data.map((e) => e.key), ['r/a', 'r/b/c'])
    const file = join(dir, 'export.json')
    writeFileSync(file, exported.stdout)
    const imported = await consul('kv', 'import', '-prefix=copy/', `@${file}`)
    assert.equal(imported.stdout, 'Imported: copy/r/a\nImported: copy/r/b/c\n')
    assert.equal((await consul('kv', 'get', 'copy/r/b/c')).stdout, 'R/B/C\n')
  })

  test('consulkv read / write / delete and its exit codes', async () => {
    const { port } = new URL(agent.httpAddr)
    const at = `--consul=127.0.0.1:${port}`
    assert.equal((await consulkv('write', at, 'nodes/config/test', 'Hello World')).code, 0)
    assert.deepEqual(await consulkv('read', at, 'nodes/config/test'), { code: 0, stdout: 'Hello World\n', stderr: '' })
    await consulkv('write', at, 'nodes/config/other', 'x')
    assert.equal((await consulkv('read', at, '--recurse', 'nodes/config/')).stdout, 'nodes/config/other: x\nnodes/config/test: Hello World\n')
    assert.equal((await consulkv('delete', at, '--recurse', 'nodes/config/')).code, 0)
    const missing = await consulkv('read', at, 'nodes/config/test')
    assert.equal(missing.code, 1)
    assert.equal(missing.stderr.trim().split('\n').length, 1)
    const refused = await consulkv('read', '--consul=127.0.0.1:1', 'x')
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /^consulkv: .*ECONNREFUSED/)
    const usage = await consulkv('read')
    assert.deepEqual(usage, { code: 2, stdout: '', stderr: 'consulkv: read: missing KEY argument (usage: consulkv read KEY)\n' })
    const verb = await consulkv('frob', 'x')
    assert.deepEqual(verb, { code: 2, stdout: '', stderr: 'consulkv: unknown verb "frob"; the verbs are: delete, read, write\n' })
  })

  test('consul info and version', async () => {
    const info = await consul('info')
    assert.match(info.stdout, /^consul:\n\tbootstrap = false\n[\s\S]*\tleader = true\n/m)
    assert.match(info.stdout, /^raft:\n[\s\S]*\tstate = Leader$/m)
    assert.match((await consul('version')).stdout, /^Consul v\d+\.\d+\.\d+\n/)
  })

  test('consul reload re-reads the files and names the keys that need a restart', async () => {
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ log_level: 'debug', datacenter: 'elsewhere' }))
    const out = await consul('reload')
    assert.equal(out.code, 0)
    assert.match(out.stdout, /Configuration reload triggered/)
    assert.match(out.stderr, /datacenter/)
    assert.doesNotMatch(out.stderr, /log_level/)
    const self = (await (await fetch(`${agent.httpAddr}/v1/agent/self`)).json()) as { Config: { Datacenter: string }; DebugConfig: { LogLevel: string } }
    assert.equal(self.DebugConfig.LogLevel, 'DEBUG')
    assert.equal(self.Config.Datacenter, 'dc1', 'datacenter waits for a restart')
  })

  test('SIGHUP reloads too', async () => {
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ log_level: 'warn' }))
    agent.proc.kill('SIGHUP')
    for (let i = 0; i < 100; i++) {
      const self = (await (await fetch(`${agent.httpAddr}/v1/agent/self`)).json()) as { DebugConfig: { LogLevel: string } }
      if (self.DebugConfig.LogLevel === 'WARN') return
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.fail(`SIGHUP did not reload:\n${agent.output()}`)
  })

  test('every command has --help with examples', async () => {
    for (const cmd of [['agent'], ['kv', 'get'], ['kv', 'put'], ['kv', 'delete'], ['kv', 'export'], ['kv', 'import'], ['reload'], ['info'], ['validate'], ['consulkv', 'read']]) {
      const help = await consul(...cmd, '-help')
      assert.equal(help.code, 0, cmd.join(' '))
      assert.match(help.stdout, /EXAMPLES/, cmd.join(' '))
    }
  })
})

test('a bad config file stops the agent with the file, key and reason', async () => {
  const dir = tempDir('badcfg-')
  try {
    const file = join(dir, 'bad.json')
    writeFileSync(file, JSON.stringify({ ports: { http: 'x' } }))
    const out = await runCli(CONSUL_BIN, ['agent', '-dev', `-config-file=${file}`])
    assert.equal(out.code, 1)
    assert.equal(out.stderr, `==> Config validation failed: ${file}: ports.http: must be integer\n`)
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace')
  } finally {
    removeDir(dir)
  }
})
