/**
 * `npm run bench -- gossip`: the gossip core and its driver, with memberlist's LAN timers.
 *
 * 1. Simulator (test/gossip/sim.ts, seeded, virtual time, 1-5 ms links): pools of 50, 200 and
 *    1,000 members. Time until every member knows of a crash (first and last detection), time for
 *    a new member to be known everywhere, false "failed" reports, and UDP bytes each member sends
 *    per second once the joins' broadcasts have drained and nothing happens. Bounds from the SWIM and Lifeguard papers for these settings:
 *    a crash is first suspected within about one probe interval (every member probes one member a
 *    second) and declared after the suspicion timeout, at least 4 × log10(N) probe intervals and at
 *    most 6 times that without confirmations; a new member spreads in O(log N) gossip rounds.
 * 2. Real sockets on loopback: 50 members in this one Node process (our driver, src/gossip/members.ts)
 *    against 50 hashicorp/memberlist members in one Go process (bench/gossip/go/main.go, built here in
 *    GOPATH mode from Debian's golang-github-hashicorp-memberlist-dev), same timers: join
 *    convergence and failure detection at every survivor (three members crashed one after another
 *    in each run, a run's figure the median of its three), median of 3 runs each.
 */
import { spawnSync, execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LAN_CONFIG } from '../src/gossip/core/config.js'
import { suspicionTimeoutMs } from '../src/gossip/core/math.js'
import { Members, type Member } from '../src/gossip/members.js'
import { systemClock } from '../src/lib/clock.js'
import { RpcServer } from '../src/rpc/server.js'
import { GossipSim } from '../test/gossip/sim.js'
import { removeTempDir, tempDir } from './lib/procs.js'
import { textTable } from './lib/table.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const GO_MAIN = join(ROOT, 'bench', 'gossip', 'go', 'main.go')
const REAL_N = 50
const RUNS = 3
/** Members crashed one after another in each real run: when a crash is first probed is random, so one crash a run is too noisy to compare. */
const CRASHES = 3
const QUIET_MS = 30_000

interface SimRow {
  n: number
  firstDetectMs: number
  allDetectMs: number
  minSuspicionMs: number
  maxBoundMs: number
  newKnownMs: number
  falseFailed: number
  bytesPerMemberPerSec: number
  simSeconds: number
}

function simRow(n: number, seed: number): SimRow {
  const started = Date.now()
  const sim = new GossipSim({ seed, config: LAN_CONFIG, loss: 0 })
  const names = Array.from({ length: n }, (_, i) => `n${i}`)
  for (const name of names) sim.add(name)
  for (const name of names.slice(1)) {
    sim.run(Math.floor(sim.random() * 20))
    sim.join(name, ['n0'])
  }
  if (!sim.runUntilTrue(() => sim.converged(() => 'alive'), 300_000, 500)) throw new Error(`${n} members did not converge`)
  // Steady traffic: once the joins' broadcasts have drained, 30 s with nothing happening (probes and acks).
  sim.runUntilTrue(() => [...sim.members.values()].every((m) => m.node.queue.length === 0), 300_000, 1000)
  const before = new Map([...sim.members.values()].map((m) => [m.name, m.sentBytes]))
  sim.run(QUIET_MS)
  const bytes = [...sim.members.values()].map((m) => m.sentBytes - (before.get(m.name) ?? 0)).sort((a, b) => a - b)
  // A new member, joining one: until every member holds it alive.
  sim.add('newcomer')
  const joinedAt = sim.now
  sim.join('newcomer', ['n0'])
  if (!sim.runUntilTrue(() => [...sim.members.values()].every((m) => m.name === 'newcomer' || m.node.pool.member('newcomer')?.state === 'alive'), 120_000, 50)) throw new Error('the newcomer did not spread')
  const newKnownMs = sim.now - joinedAt
  // A crash: until every other member holds it dead.
  const victim = names[Math.floor(n / 2)]!
  const crashedAt = sim.now
  const eventsBefore = sim.events.length
  sim.crash(victim)
  if (!sim.runUntilTrue(() => sim.converged((_o, m) => (m === victim ? 'dead' : 'alive')), 300_000, 100)) throw new Error(`the crash of ${victim} was not detected everywhere`)
  const failed = sim.events.slice(eventsBefore).filter((e) => e.event === 'failed')
  const detections = failed.filter((e) => e.member === victim).map((e) => e.at - crashedAt)
  const falseFailed = sim.events.filter((e) => e.event === 'failed' && e.member !== victim).length
  const minSuspicionMs = suspicionTimeoutMs(LAN_CONFIG.suspicionMult, n, LAN_CONFIG.probeIntervalMs)
  return {
    n,
    firstDetectMs: Math.min(...detections),
    allDetectMs: Math.max(...detections),
    minSuspicionMs,
    // First probe within a couple of intervals, the longest suspicion, then the dead message's spread.
    maxBoundMs: 2 * LAN_CONFIG.probeIntervalMs + minSuspicionMs * LAN_CONFIG.suspicionMaxTimeoutMult + 2_000,
    newKnownMs,
    falseFailed,
    bytesPerMemberPerSec: (bytes[bytes.length >> 1]! * 1000) / QUIET_MS,
    simSeconds: (Date.now() - started) / 1000,
  }
}

interface RealRun {
  convergeMs: number
  /** Per crash, when each survivor reported it. */
  detectMs: number[][]
}

/** 50 of our members on loopback in this process, each joining the first as it starts; then CRASHES of them crash, one after another. */
async function ourRun(): Promise<RealRun> {
  const pools: Array<{ name: string; members: Members; rpc: RpcServer }> = []
  /** Victim -> survivor -> when it reported the victim failed. */
  const gone = new Map<string, Map<string, number>>()
  const start = Date.now()
  try {
    for (let i = 0; i < REAL_N; i++) {
      const name = `m${i}`
      const rpc = new RpcServer({ id: `id-${i}`, datacenter: 'dc1', cluster: '' })
      const port = (await rpc.listen('127.0.0.1', 0)).port
      const self = (): Member => ({ name, addr: '127.0.0.1', port, tags: {}, status: 'alive' })
      const members = new Members({ rpc, self, clock: systemClock, log: () => undefined, config: LAN_CONFIG })
      await members.listenUdp('127.0.0.1', port)
      members.start()
      members.onChange((m) => {
        const seen = gone.get(m.name)
        if (seen && m.status === 'failed' && !seen.has(name)) seen.set(name, Date.now())
      })
      if (i > 0) {
        const r = await members.join([`127.0.0.1:${pools[0]!.rpc.address().split(':').at(-1)}`], 0)
        if (r.joined !== 1) throw new Error(`join: ${r.errors.join('; ')}`)
      }
      pools.push({ name, members, rpc })
    }
    await until(120_000, () => pools.every((p) => p.members.list().filter((m) => m.status === 'alive').length === REAL_N))
    const convergeMs = Date.now() - start
    const detectMs: number[][] = []
    for (let k = 0; k < CRASHES; k++) {
      const dead = pools.pop()!
      const seen = new Map<string, number>()
      gone.set(dead.name, seen)
      const crashedAt = Date.now()
      dead.members.stop()
      await dead.rpc.close()
      await until(120_000, () => seen.size === pools.length)
      detectMs.push([...seen.values()].map((t) => t - crashedAt))
    }
    return { convergeMs, detectMs }
  } finally {
    for (const p of pools) {
      p.members.stop()
      await p.rpc.close()
    }
  }
}

async function until(ms: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

function buildMemberlist(): { bin: string; dir: string } | string {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed'
  if (spawnSync('dpkg-query', ['-W', 'golang-github-hashicorp-memberlist-dev']).status !== 0) return 'golang-github-hashicorp-memberlist-dev is not installed'
  const dir = tempDir('consul-bench-memberlist-')
  mkdirSync(join(dir, 'src', 'mlpeer'), { recursive: true })
  writeFileSync(join(dir, 'src', 'mlpeer', 'main.go'), spawnSync('cat', [GO_MAIN], { encoding: 'utf8' }).stdout)
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOPATH: `${dir}:/usr/share/gocode`, GOCACHE: process.env.GOCACHE ?? join(dir, 'gocache') }
  const bin = join(dir, 'mlpeer')
  const r = spawnSync('go', ['build', '-o', bin, 'mlpeer'], { env, encoding: 'utf8' })
  if (r.status !== 0) {
    removeTempDir(dir)
    return `go build failed:\n${r.stderr}`
  }
  return { bin, dir }
}

function memberlistRun(bin: string, port: number): Promise<RealRun> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['-n', String(REAL_N), '-port', String(port), '-crashes', String(CRASHES)], { encoding: 'utf8', timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`memberlist peer failed: ${err.message}\n${stderr}`))
      resolve(JSON.parse(stdout) as RealRun)
    })
  })
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const fmt = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms).toLocaleString('en-US')} ms`)

const table = (head: string[], rows: string[][]): string => textTable(head, rows, new Set([0]))

export async function runGossipBench(args: readonly string[]): Promise<number> {
  const quick = args.includes('--quick')
  const sizes = quick ? [50, 200] : [50, 200, 1000]
  let failures = 0
  process.stdout.write(`gossip simulator, memberlist LAN timers (probe ${LAN_CONFIG.probeIntervalMs} ms, timeout ${LAN_CONFIG.probeTimeoutMs} ms, suspicion ${LAN_CONFIG.suspicionMult} x log10(N), gossip ${LAN_CONFIG.gossipNodes} every ${LAN_CONFIG.gossipIntervalMs} ms), no loss\n`)
  const sim = sizes.map((n) => simRow(n, 1))
  const flat = sim.at(-1)!.bytesPerMemberPerSec / sim[0]!.bytesPerMemberPerSec
  process.stdout.write(
    table(
      ['members', 'crash: first', 'all', 'min suspicion', 'bound', 'new member everywhere', 'false failed', 'bytes/member/s', 'result', 'sim s'],
      sim.map((r) => {
        const ok = r.falseFailed === 0 && r.firstDetectMs >= r.minSuspicionMs && r.allDetectMs <= r.maxBoundMs
        if (!ok) failures++
        return [String(r.n), fmt(r.firstDetectMs), fmt(r.allDetectMs), fmt(r.minSuspicionMs), `<= ${fmt(r.maxBoundMs)}`, fmt(r.newKnownMs), String(r.falseFailed), Math.round(r.bytesPerMemberPerSec).toLocaleString('en-US'), ok ? 'PASS' : 'FAIL', r.simSeconds.toFixed(1)]
      }),
    ) + '\n',
  )
  const flatOk = flat <= 1.5
  if (!flatOk) failures++
  process.stdout.write(`bandwidth per member, ${sim.at(-1)!.n} vs ${sim[0]!.n} members: ${flat.toFixed(2)}x (target <= 1.5x, flat): ${flatOk ? 'PASS' : 'FAIL'}\n\n`)

  const built = buildMemberlist()
  const ours: RealRun[] = []
  const theirs: RealRun[] = []
  for (let i = 0; i < RUNS; i++) {
    ours.push(await ourRun())
    if (typeof built !== 'string') theirs.push(await memberlistRun(built.bin, 28000 + i * 100))
  }
  if (typeof built !== 'string') removeTempDir(built.dir)
  // A run's figure is the median over its crashes; the table shows the median of the runs.
  const survivorMedian = (r: RealRun): number => median(r.detectMs.map((d) => median(d)))
  const lastSurvivor = (r: RealRun): number => median(r.detectMs.map((d) => Math.max(...d)))
  const meanLast = (runs: RealRun[]): number => {
    const all = runs.flatMap((r) => r.detectMs.map((d) => Math.max(...d)))
    return all.reduce((a, b) => a + b, 0) / all.length
  }
  const row = (name: string, runs: RealRun[]): string[] =>
    runs.length === 0 ? [name, '-', '-', '-', '-'] : [name, fmt(median(runs.map((r) => r.convergeMs))), fmt(median(runs.map(survivorMedian))), fmt(median(runs.map(lastSurvivor))), fmt(meanLast(runs))]
  process.stdout.write(`${REAL_N} members on loopback, one process each side, LAN timers, median of ${RUNS} runs (each the median of ${CRASHES} crashes, one after another)\n`)
  process.stdout.write(table(['', 'join convergence', 'crash detected (median survivor)', '(last survivor)', '(last survivor, mean of every crash)'], [row('ours', ours), row('memberlist', theirs)]) + '\n')
  if (typeof built === 'string') process.stdout.write(`memberlist: not run (${built})\n`)
  else {
    const detectRatio = median(ours.map(lastSurvivor)) / median(theirs.map(lastSurvivor))
    const convergeRatio = median(ours.map((r) => r.convergeMs)) / median(theirs.map((r) => r.convergeMs))
    const ok = detectRatio <= 1.1 && convergeRatio <= 1.1
    if (!ok) failures++
    process.stdout.write(`ours / memberlist: convergence ${convergeRatio.toFixed(2)}x, detection at the last survivor ${detectRatio.toFixed(2)}x (target <= 1x, within 10% noise): ${ok ? 'PASS' : 'FAIL'}\n`)
  }
  const file = join(ROOT, 'bench', 'results', `gossip-${new Date().toISOString().slice(0, 10)}.json`)
  writeFileSync(file, JSON.stringify({ sim, flat, ours, memberlist: theirs }, null, 2) + '\n')
  process.stdout.write(`results: ${file}\n`)
  return failures > 0 ? 1 : 0
}
