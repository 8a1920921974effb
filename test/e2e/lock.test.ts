import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const LOCK_FLAGS = '3304740253564472344'

describe('consul lock against a dev agent', () => {
  let agent: RunningAgent
  let env: NodeJS.ProcessEnv
  let dir: string
  const consul = (...args: string[]) => runCli(CONSUL_BIN, args, { env })
  const api = async <T = any>(path: string): Promise<T | undefined> => {
    const res = await fetch(agent.httpAddr + path)
    if (res.status === 404) return undefined
    assert.ok(res.ok, `${path}: ${res.status}`)
    return (await res.json()) as T
  }

  before(async () => {
    dir = tempDir('cli-lock-')
    agent = await startAgent({ dev: true })
    env = { CONSUL_HTTP_ADDR: agent.httpAddr }
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  test('runs the child while holding the lock, then releases and cleans up', async () => {
    const seen = join(dir, 'seen')
    const res = await consul('lock', '-session-ttl=10s', 'jobs/one', `echo "$CONSUL_LOCK_HELD" > ${seen}`)
    assert.equal(res.code, 0, res.stderr)
    assert.equal(readFileSync(seen, 'utf8'), 'true\n')
    // The key is deleted when nobody else waits on it, and the session is gone.
    assert.equal(await api('/v1/kv/jobs/one/.lock'), undefined)
    assert.deepEqual(await api('/v1/session/list'), [])

    // The child's own flags are not ours (Go's flag rule), and -shell=false runs the words directly.
    const direct = await consul('lock', '-shell=false', 'jobs/one', '/bin/sh', '-c', 'echo "$*"', 'sh', '-n', '--timeout=1', '-verbose')
    assert.deepEqual(direct, { code: 0, stdout: '-n --timeout=1 -verbose\n', stderr: '' })
  })

  test('exit codes and refused usage', async () => {
    const failed = await consul('lock', 'jobs/two', 'exit 3')
    assert.equal(failed.code, 0)
    assert.equal(failed.stderr, 'Error running handler: exit status 3\n')
    assert.equal((await consul('lock', '-child-exit-code', 'jobs/two', 'exit 3')).code, 2)
    assert.deepEqual(await consul('lock', 'jobs/two'), { code: 1, stdout: '', stderr: 'Key prefix and child command must be specified\n' })
    assert.deepEqual(await consul('lock', '-n=0', 'jobs/two', 'true'), { code: 1, stdout: '', stderr: 'Lock holder limit must be positive\n' })
  })

  test('-n=2: a semaphore lets two of three run at once, in HashiCorp\'s key layout', async () => {
    const ran = join(dir, 'sem-ran')
    const go = join(dir, 'sem-go')
    // Children hold their slot until the test says go, so a slow machine cannot reorder anything.
    const runs = ['1', '2', '3'].map((i) => consul('lock', '-n=2', '-session-ttl=10s', 'jobs/sem', `echo ${i} >> ${ran}; while [ ! -e ${go} ]; do sleep 0.1; done`))
    const [lines, raw] = await until('two holders', async () => {
      const l = existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n') : []
      const pair = (await api<Array<{ Value: string; Flags: number }>>('/v1/kv/jobs/sem/.lock'))?.[0]
      return l.length === 2 && pair ? ([l, Buffer.from(pair.Value, 'base64').toString()] as const) : undefined
    })
    assert.equal(lines.length, 2)
    await new Promise((r) => setTimeout(r, 1_000))
    assert.equal(readFileSync(ran, 'utf8').trim().split('\n').length, 2, 'a third holder got in')
    const state = JSON.parse(raw) as { Limit: number; Holders: Record<string, boolean> }
    assert.equal(state.Limit, 2)
    assert.equal(Object.keys(state.Holders).length, 2)
    // A plain lock on a semaphore's prefix is a conflict, as in Consul.
    const clash = await consul('lock', '-timeout=1s', 'jobs/sem', 'true')
    assert.equal(clash.code, 1)
    assert.equal(clash.stderr, 'Lock acquisition failed: Existing key does not match lock use\n')
    writeFileSync(go, '')
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(readFileSync(ran, 'utf8').trim().split('\n').sort(), ['1', '2', '3'])
    // The last one out removes the semaphore and every contender key.
    assert.equal(await api('/v1/kv/jobs/sem/?recurse'), undefined)
  })

  test('-timeout gives up while another process holds the lock', async () => {
    const holder = spawn(process.execPath, [CONSUL_BIN, 'lock', 'jobs/three', 'exec sleep 30'], { env: { ...process.env, ...env }, stdio: 'ignore' })
    const holderExit = new Promise<number | null>((resolve) => holder.once('exit', (code) => resolve(code)))
    try {
      await until('the first holder', async () => ((await api<Array<{ Session?: string }>>('/v1/kv/jobs/three/.lock'))?.[0]?.Session ? true : undefined))
      const res = await consul('lock', '-timeout=1s', 'jobs/three', 'echo never')
      assert.deepEqual(res, { code: 1, stdout: '', stderr: 'Shutdown triggered or timeout during lock acquisition\n' })
    } finally {
      holder.kill('SIGTERM')
    }
    // SIGTERM: the child is stopped, the lock released, and the command exits 0.
    assert.equal(await holderExit, 0)
    assert.equal(await api('/v1/kv/jobs/three/.lock'), undefined)
  })

  test('three competing processes: one holder at a time; kill -9 of the holder hands the lock over', { timeout: 80_000 }, async () => {
    const holders = join(dir, 'holders')
    const procs = new Map<string, ChildProcess>()
    const childPids: number[] = []
    const readHolders = (): Array<{ who: string; pid: number }> =>
      existsSync(holders)
        ? readFileSync(holders, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => ({ who: l.split(' ')[0]!, pid: Number(l.split(' ')[1]) }))
        : []
    const lockState = async (): Promise<{ session: string; name: string } | undefined> => {
      const pair = (await api<Array<{ Session?: string; Flags: number }>>('/v1/kv/service/leader/.lock'))?.[0]
      if (!pair?.Session) return undefined
      const info = await api<Array<{ Name: string }>>(`/v1/session/info/${pair.Session}`)
      return { session: pair.Session, name: info?.[0]?.Name ?? '' }
    }
    try {
      for (const who of ['a', 'b', 'c']) {
        const p = spawn(
          process.execPath,
          [CONSUL_BIN, 'lock', '-session-ttl=10s', '-lock-delay=1s', `-name=holder-${who}`, 'service/leader', `echo ${who} $$ >> ${holders}; exec sleep 120`],
          { env: { ...process.env, ...env }, stdio: 'ignore' },
        )
        procs.set(who, p)
      }
      const first = await until('a first holder', () => (readHolders().length > 0 ? readHolders()[0] : undefined))
      childPids.push(first.pid)
      // Give the others every chance to (wrongly) start their child too.
      await new Promise((r) => setTimeout(r, 2_000))
      assert.equal(readHolders().length, 1, `more than one holder: ${JSON.stringify(readHolders())}`)
      const held = await lockState()
      assert.equal(held?.name, `holder-${first.who}`)
      const raw = await (await fetch(`${agent.httpAddr}/v1/kv/service/leader/.lock`)).text()
      assert.ok(raw.includes(`"Flags":${LOCK_FLAGS}`) || raw.includes(`"Flags": ${LOCK_FLAGS}`), raw)

      // kill -9 the holder's `consul lock` (its child lives on, as with Consul): the session
      // expires after at most 2×TTL, then lock-delay passes, and another process takes over.
      const victim = procs.get(first.who)!
      victim.kill('SIGKILL')
      procs.delete(first.who)
      const second = await until('a second holder', () => (readHolders().length > 1 ? readHolders()[1] : undefined), 45_000)
      childPids.push(second.pid)
      assert.notEqual(second.who, first.who)
      const now = await lockState()
      assert.equal(now?.name, `holder-${second.who}`)
      assert.notEqual(now?.session, held?.session)
      // The old session is gone; the third process is still waiting.
      assert.equal((await api<unknown[]>(`/v1/session/info/${held!.session}`))?.length ?? 0, 0)
      assert.equal(readHolders().length, 2)
    } finally {
      const exits = [...procs.values()].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve()))
      for (const p of procs.values()) p.kill('SIGTERM')
      await Promise.all(exits)
      for (const pid of [...childPids, ...readHolders().map((h) => h.pid)]) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
  })
})
