/** The `distributive` binary end to end: exit codes, stdout contract, upstream flag spellings, no stack traces. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const REPO = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const BIN = path.join(REPO, 'bin/distributive.js')
/** Generous bound for one CLI run; a run that takes longer has hung. */
const RUN_TIMEOUT_MS = 60_000

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[], opts: { stdin?: string; bin?: string[] } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.bin ?? [BIN]), ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.stdin ?? '')
  })
}

function noStackTrace(r: Run): void {
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace')
}

let dir: string
let good: string
let bad: string
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'distributive-cli-'))
  good = path.join(dir, 'good.json')
  bad = path.join(dir, 'bad.json')
  await writeFile(good, JSON.stringify({ Name: 'Good', Checklist: [{ Check: 'directory', Parameters: ['/'] }, { Check: 'command', Parameters: ['true'] }] }))
  await writeFile(bad, JSON.stringify({ Name: 'Bad', Checklist: [{ ID: 'directory', Parameters: ['/'] }, { ID: 'file', Parameters: [path.join(dir, 'missing')] }] }))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

test('a passing checklist exits 0 with one OK line (Mantl spelling: -f x -d "")', async () => {
  const r = await run(['-f', good, '-d', '', '--verbosity=warn'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^DISTRIBUTIVE OK - 2 of 2 checks passed \| passed=2 failed=0 warning=0 unknown=0 time=\d+\.\d\ds\n$/)
})

test('a failing checklist exits 2, status line first, then the failure', async () => {
  const r = await run(['-f', bad])
  assert.equal(r.code, 2)
  const lines = r.stdout.split('\n')
  assert.match(lines[0]!, /^DISTRIBUTIVE CRITICAL - 1 of 2 checks failed: Bad: file .*missing \| passed=1 failed=1 /)
  assert.match(lines[1]!, /^\[CRITICAL\] Bad #2 file .*: No such file or directory/)
})

test('--legacy-exit-codes exits 1 for the same failure', async () => {
  assert.equal((await run(['-f', bad, '--legacy-exit-codes'])).code, 1)
})

test('-s=true reads YAML from stdin; --format json', async () => {
  const r = await run(['-d', '', '-s=true', '--format', 'json'], { stdin: 'name: piped\nChecklist:\n  - id: directory\n    parameters: [/]\n' })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  let doc: { status: string; checks: { checklist: string }[] }
  try {
    doc = JSON.parse(r.stdout) as typeof doc
  } catch {
    assert.fail(`stdout is not JSON:\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
  assert.equal(doc.status, 'OK')
  assert.equal(doc.checks[0]!.checklist, 'piped')
})

test('bad input exits 3 with one line naming the file and the check, no stack trace', async () => {
  const cases: [string, string, RegExp][] = [
    ['syntax.json', '{"Checklist": [', /syntax\.json:1:16: invalid JSON/],
    ['syntax.yml', 'Checklist:\n  - id: file\n   parameters: [/x\n', /syntax\.yml:\d+:\d+: invalid YAML/],
    ['empty.json', '{"Name":"e","Checklist":[]}', /empty\.json: the checklist has no checks/],
    ['unknown.json', '{"Checklist":[{"ID":"directory","Parameters":["/"]},{"ID":"nosuch","Parameters":[]}]}', /unknown\.json: check #2 \(nosuch\): unknown check/],
    ['count.json', '{"Checklist":[{"ID":"checksum","Parameters":["MD5"]}]}', /count\.json: check #1 \(checksum\): expected 3 parameters, got 1/],
    ['regex.json', '{"Checklist":[{"ID":"fileMatches","Parameters":["/x","(["]}]}', /regex\.json: check #1 \(fileMatches\): bad regular expression/],
  ]
  const runs = await Promise.all(
    cases.map(async ([name, text]) => {
      const f = path.join(dir, name)
      await writeFile(f, text)
      return run(['-f', f])
    }),
  )
  for (const [i, [name, , message]] of cases.entries()) {
    const r = runs[i]!
    assert.equal(r.code, 3, `${name}: ${r.stdout}${r.stderr}`)
    assert.match(r.stdout, /^DISTRIBUTIVE UNKNOWN - /)
    assert.match(r.stdout, message)
    assert.equal(r.stdout.trim().split('\n').length, 1)
    noStackTrace(r)
  }
})

test('an unreachable URL, a missing file and a bad flag exit 3 too', async () => {
  const url = await run(['-u', 'http://127.0.0.1:1/checks.json', '--no-cache'])
  assert.equal(url.code, 3)
  assert.match(url.stdout, /http:\/\/127\.0\.0\.1:1\/checks\.json: cannot fetch checklist/)
  const missing = await run(['-f', path.join(dir, 'nope.json')])
  assert.equal(missing.code, 3)
  assert.match(missing.stdout, /nope\.json: cannot read checklist: no such file/)
  const flag = await run(['--frobnicate'])
  assert.equal(flag.code, 3)
  for (const r of [url, missing, flag]) noStackTrace(r)
})

test('the consul binary runs it as `consul distributive`', async () => {
  const r = await run(['distributive', '-f', good], { bin: [path.join(REPO, 'bin/consul.js')] })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^DISTRIBUTIVE OK/)
})

test('-v prints the version', async () => {
  const r = await run(['-v'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /^distributive \d+\.\d+\.\d+/)
})

test('SIGTERM to distributive kills the commands its checks started', async () => {
  const pidFile = path.join(dir, 'sleeper.pid')
  const f = path.join(dir, 'hang.json')
  await writeFile(f, JSON.stringify({ Checklist: [{ ID: 'command', Parameters: [`sleep 300 & echo $! > ${pidFile}; wait`] }] }))
  const child = spawn(process.execPath, [BIN, '-f', f, '--timeout', '300s'], { cwd: dir, stdio: 'ignore' })
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  let pid = 0
  for (let i = 0; i < 400 && !pid; i++) {
    pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || 0
    if (!pid) await new Promise((r) => setTimeout(r, 50))
  }
  assert.ok(pid > 0, 'the check started its command')
  child.kill('SIGTERM')
  assert.equal(await exited, 3)
  let alive = true
  for (let i = 0; i < 100 && alive; i++) {
    try {
      process.kill(pid, 0)
      await new Promise((r) => setTimeout(r, 50))
    } catch {
      alive = false
    }
  }
  assert.equal(alive, false, `sleep ${pid} outlived distributive`)
})
