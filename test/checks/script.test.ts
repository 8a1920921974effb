import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import http from 'node:http'
import { spawnSync } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { createCheckRunner } from '../../src/checks/index.js'
import { Recorder, runOnce, tempDir } from './helpers.js'

/** Alive and not a zombie (an orphan's zombie may linger if PID 1 does not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** SIGKILL is delivered asynchronously: give the kernel a moment to finish the processes off. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 250 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20))
  return !alive(pid)
}

test('script: exit 0 passing, 1 warning, anything else critical; stdout and stderr combined', async () => {
  const pass = await runOnce({ args: ['/bin/sh', '-c', 'echo hello; echo oops >&2; exit 0'] })
  assert.equal(pass.status, 'passing')
  assert.equal(pass.output, 'hello\noops\n')
  const warn = await runOnce({ args: ['/bin/sh', '-c', 'echo degraded; exit 1'] })
  assert.deepEqual([warn.status, warn.output], ['warning', 'degraded\n'])
  const crit = await runOnce({ args: ['/bin/sh', '-c', 'echo broken; exit 2'] })
  assert.deepEqual([crit.status, crit.output], ['critical', 'broken\n'])
  const signalled = await runOnce({ args: ['/bin/sh', '-c', 'kill -9 $$'] })
  assert.equal(signalled.status, 'critical')
})

test('script: argv is passed without a shell; legacy script runs through /bin/sh -c', async () => {
  const argv = await runOnce({ args: ['/bin/echo', 'a  b', '$HOME', '*'] })
  assert.deepEqual([argv.status, argv.output], ['passing', 'a  b $HOME *\n'])
  const legacy = await runOnce({ script: 'x=41; echo $((x + 1)) | cat; exit 1' })
  assert.deepEqual([legacy.status, legacy.output], ['warning', '42\n'])
})

test('script: a missing command is critical with the shell\'s explanation', async () => {
  const r = await runOnce({ args: ['/nonexistent/check-thing'] })
  assert.equal(r.status, 'critical')
  assert.match(r.output, /nonexistent\/check-thing/)
})

test('script: /dev/stdout and /dev/stderr can be opened (real pipes, not sockets)', async () => {
  // The seed's curl check does `--dump-header /dev/stderr`; opening /dev/stderr fails on a socket (ENXIO).
  const r = await runOnce({
    args: ['/bin/sh', '-c', 'echo to-stderr > /dev/stderr && echo to-stdout > /dev/stdout && test -p /dev/stdout && test -p /dev/stderr && echo pipes'],
  })
  assert.equal(r.status, 'passing', r.output)
  assert.equal(r.output, 'to-stderr\nto-stdout\npipes\n')
})

test('script: output beyond outputMaxSize keeps the tail with Consul\'s note', async () => {
  const r = await runOnce({ args: ['/bin/sh', '-c', 'printf "%0100d" 0; printf END'], outputMaxSize: 20 })
  assert.equal(r.status, 'passing')
  assert.equal(r.output, `Captured 20 of 103 bytes\n...\n${'0'.repeat(17)}END`)
  const big = await runOnce({ args: ['/bin/sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" x; echo; echo last line'] })
  assert.ok(big.output.startsWith('Captured 4096 of 1000011 bytes\n...\n'), big.output.slice(0, 60))
  assert.ok(big.output.endsWith('x\nlast line\n'))
})

test('script: killed with its whole process group at the timeout', async () => {
  const { dir, cleanup } = tempDir('script')
  try {
    const pids = join(dir, 'pids')
    const script = join(dir, 'slow.sh')
    writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho "$$ $!" > ${pids}\necho started\nsleep 300\n`)
    chmodSync(script, 0o755)
    const r = await runOnce({ args: [script], timeoutMs: 500 })
    assert.equal(r.status, 'critical')
    assert.equal(r.output, 'Timed out (500ms) running check\n\nstarted\n')
    const [shellPid, sleepPid] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number]
    assert.ok(await gone(shellPid), 'the script is gone')
    assert.ok(await gone(sleepPid), 'its background child is gone')
  } finally {
    cleanup()
  }
})

test('script: the command does not inherit the status pipe', async () => {
  const r = await runOnce({ args: ['/bin/sh', '-c', 'if [ -e /proc/self/fd/3 ]; then echo leaked; exit 2; fi; echo clean'] })
  assert.deepEqual([r.status, r.output], ['passing', 'clean\n'])
})

test('script: stop() kills a running check and nothing is reported', async () => {
  const { dir, cleanup } = tempDir('script-stop')
  try {
    const pidFile = join(dir, 'pid')
    const rec = new Recorder()
    const runner = createCheckRunner(
      { id: 's', name: 's', intervalMs: 60_000, args: ['/bin/sh', '-c', `echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; exec sleep 300`] },
      rec,
      { random: () => 0 },
    )
    runner.start()
    for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10))
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    assert.ok(pid > 0 && alive(pid))
    runner.stop()
    await runner.idle()
    assert.ok(await gone(pid), 'the check process is gone')
    assert.deepEqual(rec.updates, [])
  } finally {
    cleanup()
  }
})

test('script: the seed\'s curl check, which dumps headers to /dev/stderr, passes and fails with its output', async (t) => {
  if (spawnSync('curl', ['--version'], { stdio: 'ignore' }).status !== 0) return t.skip('curl is not installed')
  let healthy = true
  const server = http.createServer((req, res) => {
    if (req.url === '/ping' && healthy) res.writeHead(200).end('pong')
    else res.writeHead(503).end('sick')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`
  const args = ['curl', '--silent', '--show-error', '--fail', '--dump-header', '/dev/stderr', '--retry', '2', url]
  try {
    const ok = await runOnce({ args })
    assert.equal(ok.status, 'passing', ok.output)
    assert.match(ok.output, /^HTTP\/1\.1 200 OK\r\n/)
    assert.ok(ok.output.endsWith('pong'))
    healthy = false
    const bad = await runOnce({ args: args.filter((a, i) => !(a === '--retry' || args[i - 1] === '--retry')) })
    assert.equal(bad.status, 'critical')
    assert.match(bad.output, /HTTP\/1\.1 503 Service Unavailable/)
    assert.match(bad.output, /curl: \(22\)/)
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})
