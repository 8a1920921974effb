import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { startCt, runCt, kvPut } from './helpers.js'

const read = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined)
const lines = (p: string): string[] => (read(p) ?? '').split('\n').filter((l) => l !== '')

describe('consul-template config files, quiescence, perms and backups', () => {
  let agent: RunningAgent
  let dir: string
  before(async () => {
    agent = await startAgent({ dev: true })
    dir = tempDir('ct-cfg-')
  })
  after(async () => {
    await agent.stop()
    removeDir(dir)
  })

  test('a -config folder of HCL and JSON files: contents, perms, create_dest_dirs, backup, command', async () => {
    const conf = join(dir, 'conf.d')
    mkdirSync(conf)
    writeFileSync(join(conf, '10-consul.hcl'), `consul {\n  address = "${agent.httpAddr}"\n  retry { attempts = 2 }\n}\nlog_level = "info"\n`)
    const out = join(dir, 'deep', 'er', 'app.conf')
    writeFileSync(
      join(conf, '20-template.hcl'),
      `template {\n  contents = <<EOT\nport={{ keyOrDefault "cfg/port" "80" }}\nEOT\n  destination = "${out}"\n  perms = 0600\n  backup = true\n  command = "echo done >> ${join(dir, 'cfg-cmd.log')}"\n}\n`,
    )
    writeFileSync(join(conf, '30-extra.json'), JSON.stringify({ template: [{ contents: 'x={{ key "cfg/x" }}', destination: join(dir, 'x.txt'), perms: '0640' }] }))
    await kvPut(agent.httpAddr, 'cfg/x', '1')
    let r = await runCt(['-config', conf, '-once'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(read(out), 'port=80\n')
    assert.equal(statSync(out).mode & 0o777, 0o600)
    assert.equal(statSync(join(dir, 'x.txt')).mode & 0o777, 0o640)
    assert.deepEqual(lines(join(dir, 'cfg-cmd.log')), ['done'])

    await kvPut(agent.httpAddr, 'cfg/port', '8080')
    r = await runCt(['-config', conf, '-once'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(read(out), 'port=8080\n')
    assert.equal(read(out + '.bak'), 'port=80\n')

    // Unchanged data: nothing written, no command.
    const ino = statSync(out).ino
    r = await runCt(['-config', conf, '-once'])
    assert.equal(r.code, 0)
    assert.equal(statSync(out).ino, ino)
    assert.deepEqual(lines(join(dir, 'cfg-cmd.log')), ['done', 'done'])
  })

  test('-parse-only checks templates without Consul', async () => {
    const tpl = join(dir, 'p.ctmpl')
    writeFileSync(tpl, '{{ key "a" }}')
    let r = await runCt(['-consul-addr', '127.0.0.1:1', '-parse-only', '-template', `${tpl}:${join(dir, 'p.out')}`])
    assert.equal(r.code, 0)
    writeFileSync(tpl, '{{ key "a" }')
    r = await runCt(['-consul-addr', '127.0.0.1:1', '-parse-only', '-template', `${tpl}:${join(dir, 'p.out')}`])
    assert.equal(r.code, 14)
    assert.match(r.stderr, /p\.ctmpl:1: unexpected "}" in operand/)
  })

  test('-wait: a burst of changes after the first render gives one write and one command', async () => {
    const tpl = join(dir, 'wait.ctmpl')
    writeFileSync(tpl, '{{ keyOrDefault "wait/k" "0" }}')
    const out = join(dir, 'wait.txt')
    const log = join(dir, 'wait-cmd.log')
    const ct = startCt(['-consul-addr', agent.httpAddr, '-wait', '1500ms:20s', '-template', `${tpl}:${out}:echo run >> ${log}`])
    try {
      await until('first render (not delayed by wait)', async () => (read(out) === '0' ? true : undefined))
      await until('first command', async () => (lines(log).length === 1 ? true : undefined))
      for (const v of ['1', '2', '3']) await kvPut(agent.httpAddr, 'wait/k', v)
      await until('quiet render', async () => (read(out) === '3' ? true : undefined))
      await until('second command', async () => (lines(log).length === 2 ? true : undefined))
      await new Promise((r) => setTimeout(r, 500))
      assert.equal(lines(log).length, 2)
    } finally {
      await ct.stop()
    }
  })

  test('a failing or overlong command stops consul-template with exit 14', async () => {
    const tpl = join(dir, 'cmd.ctmpl')
    writeFileSync(tpl, 'x')
    let r = await runCt(['-consul-addr', agent.httpAddr, '-once', '-template', `${tpl}:${join(dir, 'cmd1.out')}:sh -c "exit 3"`])
    assert.equal(r.code, 14)
    assert.match(r.stderr, /failed to execute command "sh -c \\"exit 3\\"" from ".*cmd\.ctmpl" => ".*cmd1\.out": command exited with a non-zero exit status \(3\)/)
    const hcl = join(dir, 'timeout.hcl')
    writeFileSync(hcl, `template {\n  source = "${tpl}"\n  destination = "${join(dir, 'cmd2.out')}"\n  command = "sleep 30"\n  command_timeout = "200ms"\n}\n`)
    r = await runCt(['-consul-addr', agent.httpAddr, '-once', '-config', hcl])
    assert.equal(r.code, 14)
    assert.match(r.stderr, /command did not finish within 0.2s/)
  })

  test('-once with -exec waits for the child and returns its code; -pid-file', async () => {
    const tpl = join(dir, 'oncex.ctmpl')
    writeFileSync(tpl, '{{ keyOrDefault "oncex" "v" }}')
    const pidFile = join(dir, 'ct.pid')
    const r = await runCt(['-consul-addr', agent.httpAddr, '-once', '-pid-file', pidFile, '-template', `${tpl}:${join(dir, 'oncex.out')}`, '-exec', `sh -c "test -f ${join(dir, 'oncex.out')} && exit 5"`])
    assert.equal(r.code, 5)
    assert.equal(existsSync(pidFile), false, 'the pid file is removed on exit')
    const ct = startCt(['-consul-addr', agent.httpAddr, '-pid-file', pidFile, '-template', `${tpl}:${join(dir, 'oncex2.out')}`])
    try {
      await until('pid file', async () => (read(pidFile) === String(ct.proc.pid) ? true : undefined))
    } finally {
      await ct.stop()
    }
  })

  test('exec environment: pristine, custom, allow and deny lists, CONSUL_HTTP_ADDR', async () => {
    const tpl = join(dir, 'envx.ctmpl')
    writeFileSync(tpl, 'x')
    const envFile = join(dir, 'child.env')
    const run = (extra: string[]) =>
      runCt(['-consul-addr', agent.httpAddr, '-once', '-template', `${tpl}:${join(dir, 'envx.out')}`, '-exec', `sh -c "env > ${envFile}"`, ...extra], { env: { CT_KEEP_ME: '1', CT_DROP_ME: '1' } })
    let r = await run(['-exec-env-pristine', '-exec-env-custom', 'A=b'])
    assert.equal(r.code, 0, r.stderr)
    let env = lines(envFile)
    assert.ok(env.includes('A=b'))
    assert.ok(env.includes(`CONSUL_HTTP_ADDR=${agent.httpAddr}`))
    assert.ok(!env.some((l) => l.startsWith('CT_KEEP_ME=')))
    r = await run(['-exec-env-allowlist', 'CT_*', '-exec-env-denylist', 'CT_DROP*'])
    assert.equal(r.code, 0, r.stderr)
    env = lines(envFile)
    assert.ok(env.includes('CT_KEEP_ME=1'))
    assert.ok(!env.some((l) => l.startsWith('CT_DROP_ME=') || l.startsWith('HOME=')))
  })

  test('file: a watched file re-renders the template when it changes', async () => {
    const src = join(dir, 'watched.txt')
    writeFileSync(src, 'v1')
    const tpl = join(dir, 'file.ctmpl')
    writeFileSync(tpl, `[{{ file "${src}" }}]`)
    const out = join(dir, 'file.out')
    const ct = startCt(['-consul-addr', agent.httpAddr, '-template', `${tpl}:${out}`])
    try {
      await until('first', async () => (read(out) === '[v1]' ? true : undefined))
      writeFileSync(src, 'version 2')
      await until('changed', async () => (read(out) === '[version 2]' ? true : undefined))
    } finally {
      await ct.stop()
    }
  })

  test('SIGHUP reloads templates from disk', async () => {
    const tpl = join(dir, 'reload.ctmpl')
    writeFileSync(tpl, 'one')
    const out = join(dir, 'reload.txt')
    const ct = startCt(['-consul-addr', agent.httpAddr, '-template', `${tpl}:${out}`])
    try {
      await until('first', async () => (read(out) === 'one' ? true : undefined))
      writeFileSync(tpl, 'two')
      ct.proc.kill('SIGHUP')
      await until('reloaded', async () => (read(out) === 'two' ? true : undefined))
    } finally {
      await ct.stop()
    }
  })
})
