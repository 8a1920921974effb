import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, tempDir, ROOT, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { startCt, runCt, register, setCheck, deregister, kvPut } from './helpers.js'

const read = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined)
const lines = (p: string): string[] => (read(p) ?? '').split('\n').filter((l) => l !== '')

describe('consul-template against a dev agent', () => {
  let agent: RunningAgent
  let dir: string
  let addr: string
  before(async () => {
    agent = await startAgent({ dev: true })
    addr = agent.httpAddr
    dir = tempDir('ct-e2e-')
  })
  after(async () => {
    await agent.stop()
    removeDir(dir)
  })

  test('register, fail and deregister re-render the file; the command runs once per change; unchanged data leaves the file alone', async () => {
    const d = join(dir, 'watch')
    const tpl = join(dir, 'watch.ctmpl')
    const other = join(dir, 'other.ctmpl')
    writeFileSync(tpl, '{{ range service "web" }}{{ .ID }} {{ .Address }}:{{ .Port }}\n{{ end }}')
    writeFileSync(other, '{{ range service "other|any" }}{{ .ID }} {{ .Status }}\n{{ end }}')
    const out = join(d, 'web.txt')
    const otherOut = join(d, 'other.txt')
    const cmdLog = join(dir, 'cmd.log')
    await register(addr, { Name: 'web', ID: 'web1', Port: 8080, Address: '10.0.0.1' })
    const ct = startCt(['-consul-addr', addr.replace('http://', ''), '-template', `${tpl}:${out}:echo run >> ${cmdLog}`, '-template', `${other}:${otherOut}`, '-log-level=info'])
    try {
      await until('first render', async () => (read(out) === 'web1 10.0.0.1:8080\n' ? true : undefined), 20_000)
      await until('first command', async () => (lines(cmdLog).length === 1 ? true : undefined))

      await register(addr, { Name: 'web', ID: 'web2', Port: 8081, Address: '10.0.0.2' })
      await until('web2 appears', async () => (read(out) === 'web1 10.0.0.1:8080\nweb2 10.0.0.2:8081\n' ? true : undefined))
      await until('second command', async () => (lines(cmdLog).length === 2 ? true : undefined))

      await setCheck(addr, 'web1', 'fail')
      await until('failing web1 leaves', async () => (read(out) === 'web2 10.0.0.2:8081\n' ? true : undefined))
      await until('third command', async () => (lines(cmdLog).length === 3 ? true : undefined))

      // An unrelated change: the other template renders, this file and its command do not move.
      const before = statSync(out)
      await register(addr, { Name: 'other', ID: 'other1', Port: 1 })
      await until('other renders', async () => (read(otherOut) === 'other1 passing\n' ? true : undefined))
      await setCheck(addr, 'other1', 'warn')
      await until('other re-renders', async () => (read(otherOut) === 'other1 warning\n' ? true : undefined))
      const afterStat = statSync(out)
      assert.equal(afterStat.ino, before.ino, 'the file was not rewritten')
      assert.equal(afterStat.mtimeMs, before.mtimeMs)
      assert.equal(lines(cmdLog).length, 3, 'no command for unchanged data')

      await deregister(addr, 'web2')
      await until('web2 leaves', async () => (read(out) === '' ? true : undefined))
      await until('fourth command', async () => (lines(cmdLog).length === 4 ? true : undefined))
      assert.equal(await ct.stop(), 12, 'the kill signal exits 12')
    } finally {
      await ct.stop()
      await deregister(addr, 'web1')
      await deregister(addr, 'other1')
    }
  })

  test('-once exits 0 after one full render (waiting for a key that appears later); -dry writes nothing', async () => {
    const tpl = join(dir, 'once.ctmpl')
    writeFileSync(tpl, 'value={{ key "once/k" }}\n')
    const out = join(dir, 'once.txt')
    const ct = startCt(['-consul-addr', addr, '-once', '-template', `${tpl}:${out}`])
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(read(out), undefined, 'key blocks the render')
    await kvPut(addr, 'once/k', 'v1')
    assert.equal(await ct.exited, 0)
    assert.equal(read(out), 'value=v1\n')

    const dryOut = join(dir, 'dry.txt')
    const r = await runCt(['-consul-addr', addr, '-once', '-dry', '-template', `${tpl}:${dryOut}`])
    assert.equal(r.code, 0)
    assert.equal(r.stdout, `> ${dryOut}\nvalue=v1\n`)
    assert.equal(existsSync(dryOut), false)
  })

  test('-once renders dependencies discovered in later passes (services, then each service)', async () => {
    await register(addr, { Name: 'chain-a', ID: 'ca1', Port: 1, Tags: ['chain'] })
    await register(addr, { Name: 'chain-b', ID: 'cb1', Port: 2, Tags: ['chain'] })
    try {
      const tpl = join(dir, 'chain.ctmpl')
      writeFileSync(tpl, '{{ range services }}{{ if .Tags | contains "chain" }}{{ range service .Name }}{{ .ID }};{{ end }}{{ end }}{{ end }}')
      const r = await runCt(['-consul-addr', addr, '-once', '-dry', '-template', `${tpl}:${join(dir, 'chain.out')}`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `> ${join(dir, 'chain.out')}\nca1;cb1;`)
    } finally {
      await deregister(addr, 'ca1')
      await deregister(addr, 'cb1')
    }
  })

  test('the ZooKeeper ensemble example renders the expected env file and follows health changes', async () => {
    const tpl = join(ROOT, 'templates', 'zookeeper-ensemble.env.ctmpl')
    const out = join(dir, 'zk', 'ensemble.env')
    for (const n of [1, 2, 3]) {
      await register(addr, { Name: 'zookeeper', ID: `zk-${n}:zkid-${n}`, Port: 2180 + n, Address: `10.0.1.${n}`, Meta: n === 3 ? { peer_port: '2890', election_port: '3890' } : {} })
    }
    const entry = (n: number, peer = '2888', election = '3888'): string =>
      `ZK_HOSTS[${n}]=10.0.1.${n}\nZK_CLIENT_PORTS[${n}]=${2180 + n}\nZK_PEER_PORTS[${n}]=${peer}\nZK_ELECTION_PORTS[${n}]=${election}\n` +
      `ZK_SERVERS[${n}]=server.${n}=10.0.1.${n}:${peer}:${election};${2180 + n}\n`
    const header = '# ZooKeeper ensemble rendered by consul-template\n'
    const all = header + entry(1) + entry(2) + entry(3, '2890', '3890')
    const ct = startCt(['-consul-addr', addr, '-template', `${tpl}:${out}`], { env: { CONSUL_QUERY: 'zookeeper' } })
    try {
      await until('ensemble', async () => (read(out) === all ? true : undefined))
      await setCheck(addr, 'zk-2:zkid-2', 'warn')
      await new Promise((r) => setTimeout(r, 200))
      await setCheck(addr, 'zk-2:zkid-2', 'fail')
      await until('zk 2 critical leaves', async () => (read(out) === header + entry(1) + entry(3, '2890', '3890') ? true : undefined))
      await setCheck(addr, 'zk-2:zkid-2', 'pass')
      await until('zk 2 comes back', async () => (read(out) === all ? true : undefined))
    } finally {
      await ct.stop()
      for (const n of [1, 2, 3]) await deregister(addr, `zk-${n}:zkid-${n}`)
    }
  })

  test('a template waiting on a missing key is named in the log', async () => {
    const tpl = join(dir, 'blocked.ctmpl')
    writeFileSync(tpl, '{{ key "blocked/missing" }}')
    const ct = startCt(['-consul-addr', addr, '-template', `${tpl}:${join(dir, 'blocked.txt')}`])
    try {
      await until('warning', async () => (/is waiting for data from: kv\.block\(blocked\/missing\)/.test(ct.stderr()) ? true : undefined), 20_000)
    } finally {
      await ct.stop()
    }
  })

  describe('exec mode', () => {
    const childJs = (d: string): string => {
      const p = join(d, 'child.cjs')
      writeFileSync(
        p,
        `const fs = require('fs'); const log = process.argv[2];
fs.appendFileSync(log, 'start ' + process.pid + '\\n');
process.on('SIGHUP', () => fs.appendFileSync(log, 'hup ' + process.pid + '\\n'));
process.on('SIGUSR2', () => fs.appendFileSync(log, 'usr2 ' + process.pid + '\\n'));
if (process.argv[3] === 'stubborn') process.on('SIGINT', () => fs.appendFileSync(log, 'ignored ' + process.pid + '\\n'));
else
process.on('SIGINT', () => { fs.appendFileSync(log, 'int ' + process.pid + '\\n'); process.exit(0) });
setInterval(() => { if (fs.existsSync(log + '.die')) process.exit(7) }, 50);
`,
      )
      return p
    }

    test('the child starts after the first render, restarts on a change, and its exit code becomes ours', async () => {
      const d = join(dir, 'exec1')
      const tpl = join(dir, 'exec1.ctmpl')
      writeFileSync(tpl, '{{ range service "exec-a" }}{{ .ID }}\n{{ end }}')
      await register(addr, { Name: 'exec-a', ID: 'a1', Port: 1 })
      const log = join(dir, 'exec1.log')
      const ct = startCt(['-consul-addr', addr, '-template', `${tpl}:${join(d, 'out')}`, '-exec', `${process.execPath} ${childJs(dir)} ${log}`, '-exec-kill-timeout', '5s'])
      try {
        await until('child started', async () => (lines(log).length === 1 && lines(log)[0].startsWith('start') ? true : undefined))
        assert.equal(read(join(d, 'out')), 'a1\n')
        await register(addr, { Name: 'exec-a', ID: 'a2', Port: 2 })
        await until('child restarted', async () => {
          const l = lines(log)
          return l.length === 3 && l[1].startsWith('int') && l[2].startsWith('start') ? true : undefined
        })
        writeFileSync(log + '.die', '')
        assert.equal(await ct.exited, 7)
        assert.match(ct.stderr(), /child process died with exit code 7/)
      } finally {
        await ct.stop()
        await deregister(addr, 'a1')
        await deregister(addr, 'a2')
      }
    })

    test('-exec-reload-signal=SIGHUP signals instead of restarting; the kill signal stops the child', async () => {
      const tpl = join(dir, 'exec2.ctmpl')
      writeFileSync(tpl, '{{ keyOrDefault "exec2/k" "none" }}')
      const log = join(dir, 'exec2.log')
      const ct = startCt(['-consul-addr', addr, '-template', `${tpl}:${join(dir, 'exec2.out')}`, '-exec', `${process.execPath} ${childJs(dir)} ${log}`, '-exec-reload-signal=SIGHUP'])
      try {
        await until('child started', async () => (lines(log).length === 1 ? true : undefined))
        const pid = lines(log)[0].split(' ')[1]
        await kvPut(addr, 'exec2/k', 'changed')
        await until('SIGHUP delivered', async () => (lines(log).includes(`hup ${pid}`) ? true : undefined))
        assert.equal(read(join(dir, 'exec2.out')), 'changed')
        // Signals other than the reload and kill signals go to the child.
        ct.proc.kill('SIGUSR2')
        await until('SIGUSR2 forwarded', async () => (lines(log).includes(`usr2 ${pid}`) ? true : undefined))
        assert.equal(await ct.stop(), 12)
        assert.ok(lines(log).includes(`int ${pid}`), 'the child got the kill signal')
        assert.equal(lines(log).filter((l) => l.startsWith('start')).length, 1, 'never restarted')
      } finally {
        await ct.stop()
      }
    })

    test('a child that ignores the kill signal is killed after -exec-kill-timeout', async () => {
      const log = join(dir, 'exec3.log')
      const ct = startCt(['-consul-addr', addr, '-template', `${join(dir, 'exec1.ctmpl')}:${join(dir, 'exec3.out')}`, '-exec', `${process.execPath} ${childJs(dir)} ${log} stubborn`, '-exec-kill-timeout=300ms'])
      await register(addr, { Name: 'exec-a', ID: 'a3', Port: 3 })
      try {
        await until('child started', async () => (lines(log).length === 1 ? true : undefined))
        const pid = Number(lines(log)[0].split(' ')[1])
        assert.equal(await ct.stop(), 12)
        assert.ok(lines(log).includes(`ignored ${pid}`))
        assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the child is gone')
      } finally {
        await ct.stop()
        await deregister(addr, 'a3')
      }
    })
  })

  test('the HAProxy and nginx examples render', async () => {
    await register(addr, { Name: 'web', ID: 'web-a', Port: 8080, Address: '10.0.2.1', Tags: ['http'] })
    await register(addr, { Name: 'api', ID: 'api-a', Port: 9090, Address: '10.0.2.2', Tags: ['http'] }, 'critical')
    try {
      const h = await runCt(['-consul-addr', addr, '-once', '-dry', '-template', `${join(ROOT, 'templates', 'haproxy-backend.cfg.ctmpl')}:${join(dir, 'haproxy.cfg')}`])
      assert.equal(h.code, 0, h.stderr)
      assert.match(h.stdout, /^> .*haproxy\.cfg\nbackend web\n    balance roundrobin\n    option httpchk GET \/health\n    server [^ ]+-web-a 10\.0\.2\.1:8080 check\n$/)
      const n = await runCt(['-consul-addr', addr, '-once', '-dry', '-template', `${join(ROOT, 'templates', 'nginx-upstream.conf.ctmpl')}:${join(dir, 'upstreams.conf')}`])
      assert.equal(n.code, 0, n.stderr)
      assert.ok(n.stdout.includes('upstream api {\n    least_conn;\n    server 127.0.0.1:65535 down; # no healthy instance\n}'), n.stdout)
      assert.ok(n.stdout.includes('upstream web {\n    least_conn;\n    server 10.0.2.1:8080 max_fails=3 fail_timeout=30s;\n}'), n.stdout)
    } finally {
      await deregister(addr, 'web-a')
      await deregister(addr, 'api-a')
    }
  })

  describe('bad input', () => {
    test('a template syntax error names the file and line, exit 14', async () => {
      const tpl = join(dir, 'syntax.ctmpl')
      writeFileSync(tpl, 'ok\n{{ if }}\n')
      const r = await runCt(['-consul-addr', addr, '-once', '-template', `${tpl}:${join(dir, 'syntax.out')}`])
      assert.equal(r.code, 14)
      assert.match(r.stderr, new RegExp(`\\[ERR\\] \\(cli\\) ${tpl.replace(/[.]/g, '\\.')}: parse: template: ${tpl.replace(/[.]/g, '\\.')}:2: missing value for if`))
    })

    test('an unknown function, exit 14', async () => {
      const tpl = join(dir, 'unknown.ctmpl')
      writeFileSync(tpl, '\n\n{{ nope "x" }}')
      const r = await runCt(['-consul-addr', addr, '-once', '-template', `${tpl}:${join(dir, 'unknown.out')}`])
      assert.equal(r.code, 14)
      assert.match(r.stderr, /unknown\.ctmpl:3: function "nope" not defined/)
    })

    test('a malformed -template or flag, exit 13; a bad config file, exit 15', async () => {
      let r = await runCt(['-template', ''])
      assert.equal(r.code, 13)
      assert.match(r.stderr, /invalid value "" for flag -template: template: cannot be empty/)
      r = await runCt(['-no-such-flag'])
      assert.equal(r.code, 13)
      assert.match(r.stderr, /flag provided but not defined: -no-such-flag/)
      const bad = join(dir, 'bad.hcl')
      writeFileSync(bad, 'template {\n  source = "x"\n  bogus = 1\n}\n')
      r = await runCt(['-config', bad])
      assert.equal(r.code, 15)
      assert.match(r.stderr, /invalid keys: bogus/)
    })

    test('an unreachable Consul is retried with backoff, then reported, exit 14', async () => {
      const tpl = join(dir, 'unreach.ctmpl')
      writeFileSync(tpl, '{{ key "x" }}')
      const r = await runCt(['-consul-addr', '127.0.0.1:1', '-consul-retry-attempts=2', '-consul-retry-backoff=20ms', '-template', `${tpl}:${join(dir, 'unreach.out')}`])
      assert.equal(r.code, 14)
      assert.match(r.stderr, /\[WARN\] \(view\) kv\.block\(x\): .*ECONNREFUSED.* \(retry attempt 1 after "20ms"\)/)
      assert.match(r.stderr, /retry attempt 2 after "40ms"/)
      assert.match(r.stderr, /\[ERR\] \(cli\) watcher: kv\.block\(x\): .*ECONNREFUSED/)
    })

    test('a destination in a read-only folder, exit 14', async () => {
      const tpl = join(dir, 'ro.ctmpl')
      writeFileSync(tpl, 'x')
      // root ignores folder modes; /sys refuses new files even to root.
      let dest = '/sys/consul-template-test.out'
      if (process.getuid?.() !== 0) {
        const ro = join(dir, 'ro')
        copyFileSync(tpl, join(dir, 'ro.tmp'))
        const { mkdirSync, chmodSync } = await import('node:fs')
        mkdirSync(ro, { recursive: true })
        chmodSync(ro, 0o555)
        dest = join(ro, 'out')
      }
      const r = await runCt(['-consul-addr', addr, '-once', '-template', `${tpl}:${dest}`])
      assert.equal(r.code, 14)
      assert.match(r.stderr, /error rendering ".*ro\.ctmpl" => ".*": failed writing file: EACCES: permission denied/)
    })
  })
})
