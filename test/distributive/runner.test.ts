import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parseChecklist, type Checklist } from '../../src/distributive/checklist.js'
import { Host } from '../../src/distributive/host.js'
import { DISTRIBUTIVE_LIMITS } from '../../src/distributive/limits.js'
import { exitCode, formatJson, formatNagios, parseVerbosity, statusLine } from '../../src/distributive/report.js'
import { runChecklists, type RunReport } from '../../src/distributive/runner.js'

const host = new Host()
const zeroClock = { now: () => 0 }

function list(name: string, checks: [string, string[], string?][]): Checklist {
  return parseChecklist(JSON.stringify({ Name: name, Checklist: checks.map(([ID, Parameters, Severity]) => ({ ID, Parameters, Severity })) }), `${name}.json`)
}

let dir: string
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'distributive-run-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('runner', () => {
  test('a hung command is cut off at the timeout, reported UNKNOWN, and its process group killed', async () => {
    const pidFile = path.join(dir, 'sleeper.pid')
    const l = list('hang', [
      ['command', [`sleep 300 & echo $! > ${pidFile}; wait`]],
      ['command', ['true']],
    ])
    const report = await runChecklists([l], host, { timeoutMs: 500 })
    assert.deepEqual(report.outcomes.map((o) => o.status), ['unknown', 'passing'])
    assert.match(report.outcomes[0]!.message, /timed out after 0\.5s/)
    const pid = Number((await readFile(pidFile, 'utf8')).trim())
    // The grandchild dies with its group; wait (bounded) for the kernel to reap it.
    let alive = true
    for (let i = 0; i < 100 && alive; i++) {
      try {
        process.kill(pid, 0)
        await new Promise((r) => setTimeout(r, 50))
      } catch {
        alive = false
      }
    }
    assert.equal(alive, false, `sleep ${pid} survived the timeout`)
  })

  test('results come back in checklist order whatever order they finish in', async () => {
    const l = list('order', [
      ['command', ['sleep 0.2']],
      ['command', ['exit 1']],
      ['command', ['true']],
    ])
    const report = await runChecklists([l, list('second', [['directory', ['/']]])], host, { concurrency: 4 })
    assert.deepEqual(report.outcomes.map((o) => `${o.checklist.name}#${o.check.position}:${o.status}`), ['order#1:passing', 'order#2:critical', 'order#3:passing', 'second#1:passing'])
    assert.deepEqual(report.counts, { total: 4, passed: 3, warning: 0, critical: 1, unknown: 0 })
  })

  test('an aborted run reports every unfinished check as UNKNOWN', async () => {
    const ctl = new AbortController()
    const running = runChecklists([list('abort', [['command', ['sleep 300']]])], host, { signal: ctl.signal })
    setImmediate(() => ctl.abort())
    const report = await running
    assert.equal(report.outcomes[0]!.status, 'unknown')
  })

  test('a run of more than 10 checks on one signal: no MaxListenersExceededWarning, and an abort reaches every check', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => {
      warnings.push(w)
    }
    process.on('warning', onWarning)
    try {
      const ctl = new AbortController()
      const checks = Array.from({ length: 16 }, () => ['command', ['sleep 300']] as [string, string[]])
      const running = runChecklists([list('many', checks)], host, { signal: ctl.signal, concurrency: 16 })
      setTimeout(() => ctl.abort(), 50)
      const report = await running
      assert.deepEqual(new Set(report.outcomes.map((o) => `${o.status}: ${o.message}`)), new Set(['unknown: aborted']))
      assert.equal(report.outcomes.length, 16)
      const passing = await runChecklists([list('many-ok', Array.from({ length: 12 }, () => ['command', ['true']] as [string, string[]]))], host, { signal: new AbortController().signal })
      assert.equal(passing.counts.passed, 12)
      await new Promise((r) => setImmediate(r)) // warnings are emitted on a later tick
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), [])
    } finally {
      process.off('warning', onWarning)
    }
  })

  test('a failing check of severity warning is a warning', async () => {
    const report = await runChecklists([list('sev', [['command', ['exit 1'], 'warning'], ['command', ['true'], 'warning']])], host)
    assert.deepEqual(report.outcomes.map((o) => o.status), ['warning', 'passing'])
    assert.equal(exitCode(report), 1)
  })
})

function fakeReport(statuses: ('passing' | 'warning' | 'critical' | 'unknown')[]): RunReport {
  const l = list('Fake checks', statuses.map((_, i) => ['directory', [`/d${i}`]] as [string, string[]]))
  const outcomes = statuses.map((status, i) => ({ checklist: l, check: l.checks[i]!, status, message: status === 'passing' ? '' : `reason ${i}\n\tdetail ${i}`, durationMs: 1 }))
  const counts = { total: statuses.length, passed: 0, warning: 0, critical: 0, unknown: 0 }
  for (const s of statuses) counts[s === 'passing' ? 'passed' : s]++
  return { outcomes, elapsedMs: 410, counts }
}

describe('exit codes', () => {
  const table: [string[], number, number][] = [
    // statuses, Nagios exit, legacy exit
    [['passing', 'passing'], 0, 0],
    [['passing', 'warning'], 1, 1],
    [['warning', 'critical'], 2, 1],
    [['unknown', 'passing'], 3, 0], // upstream counted these as "Other" and passed
    [['unknown', 'warning'], 3, 1],
    [['unknown', 'critical'], 2, 1],
  ]
  for (const [statuses, nagios, legacy] of table) {
    test(`${statuses.join(', ')} → ${nagios} (legacy ${legacy})`, () => {
      const r = fakeReport(statuses as ('passing' | 'warning' | 'critical' | 'unknown')[])
      assert.equal(exitCode(r), nagios)
      assert.equal(exitCode(r, true), legacy)
    })
  }
})

describe('report', () => {
  test('the Nagios status line names the failures, each checklist once, with perfdata', () => {
    const r = fakeReport(['passing', 'critical', 'critical', 'unknown'])
    assert.equal(
      statusLine(r, exitCode(r)),
      'DISTRIBUTIVE CRITICAL - 2 of 4 checks failed: Fake checks: directory /d1, directory /d2 (1 could not run) | passed=1 failed=2 warning=0 unknown=1 time=0.41s',
    )
  })

  test('OK, WARNING and UNKNOWN lines', () => {
    const ok = fakeReport(['passing'])
    assert.equal(statusLine(ok, 0), 'DISTRIBUTIVE OK - 1 of 1 checks passed | passed=1 failed=0 warning=0 unknown=0 time=0.41s')
    const warn = fakeReport(['warning', 'passing'])
    assert.match(statusLine(warn, 1), /^DISTRIBUTIVE WARNING - 1 of 2 checks warned: Fake checks: directory \/d0 \|/)
    const unk = fakeReport(['unknown'])
    assert.match(statusLine(unk, 3), /^DISTRIBUTIVE UNKNOWN - 1 of 1 checks could not run: Fake checks: directory \/d0 \|/)
  })

  test('a long status line is cut before the perfdata, never after', () => {
    const r = fakeReport(Array(200).fill('critical'))
    const line = statusLine(r, 2)
    assert.ok(line.length < 800, `${line.length} characters`)
    assert.match(line, /and 195 more \| passed=0 failed=200 warning=0 unknown=0 time=0\.41s$/)
  })

  test('the long output lists failures by default, every check at info, timings at debug; nothing more at error', () => {
    const r = fakeReport(['passing', 'critical'])
    assert.equal(
      formatNagios(r, { verbosity: 'warn' }),
      [
        'DISTRIBUTIVE CRITICAL - 1 of 2 checks failed: Fake checks: directory /d1 | passed=1 failed=1 warning=0 unknown=0 time=0.41s',
        '[CRITICAL] Fake checks #2 directory /d1: reason 1',
        '    detail 1',
        '',
      ].join('\n'),
    )
    assert.match(formatNagios(r, { verbosity: 'info' }), /\n\[OK\] Fake checks #1 directory \/d0\n/)
    assert.match(formatNagios(r, { verbosity: 'debug' }), /\[OK\] Fake checks #1 directory \/d0 \(1\.0 ms, Fake checks\.json\)/)
    assert.equal(formatNagios(r, { verbosity: 'error' }).split('\n').length, 2)
    assert.doesNotMatch(formatNagios(r, { color: false }), /\x1b\[/)
    assert.match(formatNagios(r, { color: true }), /\x1b\[31m\[CRITICAL\]/)
  })

  test('verbosity names follow upstream: anything unknown is warn', () => {
    assert.equal(parseVerbosity('INFO'), 'info')
    assert.equal(parseVerbosity(''), 'warn')
    assert.equal(parseVerbosity('chatty'), 'warn')
  })

  test('--format json carries every check with its status and message', async () => {
    const report = await runChecklists([list('json', [['directory', ['/']], ['directory', ['/nonexistent-dir']]])], host, zeroClock)
    const doc = JSON.parse(formatJson(report)) as { status: string; exitCode: number; counts: unknown; checks: { id: string; status: string; message: string; position: number }[] }
    assert.equal(doc.status, 'CRITICAL')
    assert.equal(doc.exitCode, 2)
    assert.deepEqual(doc.counts, { total: 2, passed: 1, warning: 0, critical: 1, unknown: 0 })
    assert.deepEqual(doc.checks.map((c) => [c.position, c.id, c.status]), [[1, 'directory', 'passing'], [2, 'directory', 'critical']])
    assert.match(doc.checks[1]!.message, /No such file or directory/)
  })
})

describe('host', () => {
  test('paths map into the root, with /proc and /sys into their own roots', () => {
    const h = new Host({ root: '/srv/img', procRoot: '/fixtures/proc' })
    assert.equal(h.path('/etc/passwd'), '/srv/img/etc/passwd')
    assert.equal(h.path('/proc/net/tcp'), '/fixtures/proc/net/tcp')
    assert.equal(h.path('/sys/class/net/lo'), '/srv/img/sys/class/net/lo')
    assert.equal(new Host().path('/etc/passwd'), '/etc/passwd')
  })

  test('tables are read once per run and afresh by the next run', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'distributive-memo-'))
    try {
      await mkdir(path.join(root, 'etc'))
      await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
      await writeFile(path.join(root, 'etc/group'), 'root:x:0:\n')
      const h = new Host({ root })
      const l = list('memo', [['userExists', ['root']], ['userExists', ['carol']]])
      assert.deepEqual((await runChecklists([l], h)).outcomes.map((o) => o.status), ['passing', 'critical'])
      await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\ncarol:x:1001:1001::/home/carol:/bin/sh\n')
      assert.deepEqual((await runChecklists([l], h)).outcomes.map((o) => o.status), ['passing', 'passing'])
      const run = h.forRun()
      let loads = 0
      const load = async (): Promise<number> => ++loads
      assert.deepEqual(await Promise.all([run.memo('k', load), run.memo('k', load)]), [1, 1])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('output limits', () => {
  test('a check’s message is clipped', async () => {
    const report = await runChecklists([list('big', [['command', ['head -c 100000 /dev/zero | tr "\\0" x; exit 1']]])], host)
    assert.equal(report.outcomes[0]!.status, 'critical')
    assert.ok(report.outcomes[0]!.message.length <= DISTRIBUTIVE_LIMITS.messageBytesMax + 1, `${report.outcomes[0]!.message.length} characters`)
  })

  test('a | in a failing check does not break the perfdata', async () => {
    const report = await runChecklists([list('pipes', [['commandOutputMatches', ['echo a', 'b|c']]])], host, zeroClock)
    const line = statusLine(report, exitCode(report))
    assert.equal(line.split('|').length, 2)
    assert.match(line, /commandOutputMatches "echo a" b\/c \| passed=0 failed=1/)
  })
})
