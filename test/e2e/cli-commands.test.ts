import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONSUL_BIN, removeDir, runCli, tempDir } from '../helpers/agent.js'

const consul = (...args: string[]) => runCli(CONSUL_BIN, args)

test('a Consul command we do not have yet is named as not supported (exit 1), flags and arguments notwithstanding', async () => {
  const cases: Array<[string[], string]> = [
    [['login', '-method=oidc', '-token-sink-file=t'], 'login'],
    [['troubleshoot', '-h'], 'troubleshoot'],
    [['acl', 'auth-method', 'list', '-format=json'], 'acl auth-method'],
    [['intention', 'list'], 'intention'],
    [['resource', 'list', 'demo.v2.Artist'], 'resource'],
    [['exec', '-node=web1', 'uptime'], 'exec'],
    [['peering', 'list', '-detailed'], 'peering'],
    [['operator', 'usage', 'instances'], 'operator usage'],
    [['config', 'list', '-kind=service-defaults'], 'config'],
    [['operator', 'autopilot', 'get-config'], 'operator autopilot'],
    [['services', 'export', '-name=web'], 'services export'],
  ]
  for (const [args, name] of cases) {
    assert.deepEqual(await consul(...args), { code: 1, stdout: '', stderr: `\`consul ${name}\` is not supported by this version yet\n` }, args.join(' '))
  }
  // Not a Consul command at all: the commands there are.
  const typo = await consul('snapshat', 'save')
  assert.equal(typo.code, 1)
  assert.match(typo.stderr, /^consul: unknown command "snapshat"; the commands are: acl, agent, bridge, catalog, .*validate, version, watch\n$/)
  assert.deepEqual(await consul('-http-addr=127.0.0.1:8500', 'snapshot', 'save', 'x'), {
    code: 1,
    stdout: '',
    stderr: 'consul: unknown flag -http-addr=127.0.0.1:8500; flags go after the command: consul COMMAND [flags] (consul -h lists the commands)\n',
  })
  // A command we have, with no agent to answer: Consul's error line.
  const offline = await runCli(CONSUL_BIN, ['snapshot', 'save', join(tempDir(), 'x.snap')], { env: { CONSUL_HTTP_ADDR: '127.0.0.1:1' } })
  assert.equal(offline.code, 1)
  assert.match(offline.stderr, /^Error saving snapshot: Error connecting to http:\/\/127\.0\.0\.1:1: /)
  const sub = await consul('kv', 'frob')
  assert.deepEqual(sub, { code: 1, stdout: '', stderr: 'consul kv: unknown subcommand "frob"; the subcommands are: delete, export, get, import, put\n' })
})

test('consul validate: files and directories, -quiet, and the file, key and reason of an error', async () => {
  const dir = tempDir('validate-')
  try {
    const confDir = join(dir, 'consul.d')
    mkdirSync(confDir)
    writeFileSync(join(confDir, 'a.json'), JSON.stringify({ datacenter: 'eu', ports: { http: 8500 } }))
    writeFileSync(join(confDir, 'b.hcl'), 'server = true\nbootstrap_expect = 1\n')
    writeFileSync(join(confDir, 'notes.txt'), 'not config')
    const single = join(dir, 'single.json')
    writeFileSync(single, JSON.stringify({ log_level: 'debug' }))

    assert.deepEqual(await consul('validate', confDir), { code: 0, stdout: 'Configuration is valid!\n', stderr: '' })
    assert.deepEqual(await consul('validate', '-quiet', confDir, single), { code: 0, stdout: '', stderr: '' })

    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ ports: { http: 'x' } }))
    assert.deepEqual(await consul('validate', single, bad), { code: 1, stdout: '', stderr: `Config validation failed: ${bad}: ports.http: must be integer\n` })
    writeFileSync(join(confDir, 'c.json'), '{"server": tru}')
    const syntax = await consul('validate', '-quiet', confDir)
    assert.equal(syntax.code, 1)
    assert.match(syntax.stderr, new RegExp(`^Config validation failed: ${join(confDir, 'c.json')}: invalid JSON at line 1, column \\d+`))
    // Cross-key rules are the agent's too.
    writeFileSync(join(confDir, 'c.json'), JSON.stringify({ bootstrap: true }))
    assert.match((await consul('validate', confDir)).stderr, /^Config validation failed: .*bootstrap and bootstrap_expect are mutually exclusive\n$/)

    const missing = await consul('validate', join(dir, 'nope.json'))
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^Config validation failed: .*nope\.json: cannot read: /)
    assert.deepEqual(await consul('validate'), { code: 1, stdout: '', stderr: 'Must specify at least one config file or directory\n' })
  } finally {
    removeDir(dir)
  }
})
