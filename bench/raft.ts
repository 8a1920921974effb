/**
 * Raft benchmark (issue 12): commits/s and p50/p99 commit latency of a 3-voter cluster in one
 * process, over an in-memory transport with fsync to disk, at 1 and at 64 concurrent proposers:
 * our raft against hashicorp/raft with raft-boltdb (the pair Consul's servers use), in the same
 * run. Each proposer is a closed loop: it proposes an 8-byte key + 256-byte value on the leader
 * and waits until that entry is committed and applied there. Target: at least 1x hashicorp at
 * both proposer counts. Also: simulated steps/s of the Raft core simulator.
 *
 * The hashicorp side is a small Go program of ours (bench/raft/go/main.go), built here in GOPATH
 * mode over Debian's packaged sources (golang-github-hashicorp-raft-dev, -raft-boltdb-dev).
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdirSync, statfsSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { textTable } from './lib/table.js'
import { cleanupAll, installSignalHandlers, machineBusy, removeTempDir, tempDir } from './lib/procs.js'
import { startOurCluster, type OurCluster } from './raft/ours.js'
import { measureSimRate, type SimRate } from './raft/sim-rate.js'

/** Repository root: this file runs as dist/bench/raft.js. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const GO_MAIN = join(ROOT, 'bench', 'raft', 'go', 'main.go')
const GOPATH_SYSTEM = '/usr/share/gocode'
const DEB_PACKAGES = ['golang-go', 'golang-github-hashicorp-raft-dev', 'golang-github-hashicorp-raft-boltdb-dev'] as const
const INSTALL_HINT = `apt-get install -y ${DEB_PACKAGES.join(' ')}`

const VOTERS = 3
const PROPOSERS = [1, 64] as const
const TARGET = 1
const KEY_BYTES = 8
const VALUE_BYTES = 256
/** Distinct keys, as in the KV bench and the Go side: the state machine stays small. */
const KEYS = 1000
const DEFAULT_SIM_SEEDS = 200
/** statfs magic of tmpfs: fsync there costs nothing, so the cells would not measure durability. */
const TMPFS_MAGIC = 0x01021994

interface Measured {
  proposers: number
  commits: number
  errors: number
  seconds: number
  commitsPerSec: number
  p50Ms: number
  p99Ms: number
  firstError?: string
}

interface Cell {
  proposers: number
  ours: Measured | undefined
  hashicorp: Measured | undefined
}

type Side = 'ours' | 'hashicorp'

/** The 256 bytes both sides write: printable, not all one letter (the same loop as main.go). */
const VALUE = Uint8Array.from({ length: VALUE_BYTES }, (_, i) => 33 + ((i * 37) % 90))

function entry(seq: number): Uint8Array {
  const e = new Uint8Array(KEY_BYTES + VALUE_BYTES)
  new DataView(e.buffer).setBigUint64(0, BigInt(seq % KEYS))
  e.set(VALUE, KEY_BYTES)
  return e
}

/** Nearest-rank percentile of sorted values, as main.go computes it. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
}

/** `proposers` closed loops of propose() for `ms`; the same accounting as main.go's run(). */
async function closedLoop(propose: (data: Uint8Array) => Promise<unknown>, proposers: number, ms: number, seq: { n: number }): Promise<Measured> {
  const start = performance.now()
  const end = start + ms
  const latencies: number[] = []
  let errors = 0
  let firstError: string | undefined
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const data = entry(++seq.n)
      const t0 = performance.now()
      try {
        await propose(data)
        latencies.push(performance.now() - t0)
      } catch (err) {
        errors++
        firstError ??= (err as Error).message ?? String(err)
      }
    }
  }
  await Promise.all(Array.from({ length: proposers }, loop))
  const seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return { proposers, commits: latencies.length, errors, seconds, commitsPerSec: latencies.length / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), ...(firstError ? { firstError } : {}) }
}

interface OursRun { cell: Measured; applied: number[]; config: Record<string, unknown> }

async function measureOurs(proposers: number, warmupS: number, seconds: number): Promise<OursRun> {
  const dir = tempDir('consul-bench-raft-ours-')
  let cluster: OurCluster | undefined
  try {
    cluster = await startOurCluster(dir, VOTERS)
    const seq = { n: 0 }
    // Warm-up (not recorded): V8 optimises the hot paths, as Go's side warms its allocator.
    await closedLoop((d) => cluster!.propose(d), proposers, warmupS * 1000, seq)
    const cell = await closedLoop((d) => cluster!.propose(d), proposers, seconds * 1000, seq)
    return { cell, applied: await settledApplied(cluster), config: cluster.config }
  } finally {
    await cluster?.close()
    removeTempDir(dir)
  }
}

/** Entries applied per voter once followers have caught up (or 10 s passed). */
async function settledApplied(cluster: OurCluster): Promise<number[]> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const a = cluster.applied()
    if (Math.min(...a) >= Math.max(...a) || Date.now() > deadline) return a
    await new Promise((r) => setTimeout(r, 20))
  }
}

interface GoBuild { bin: string; dir: string }

function debVersion(pkg: string): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' })
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined
}

/** Builds main.go against Debian's Go sources; a reason string when it cannot. */
function buildHashicorp(): GoBuild | string {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed'
  const missing = DEB_PACKAGES.filter((p) => debVersion(p) === undefined)
  if (missing.length > 0) return `missing Debian packages: ${missing.join(' ')}`
  const dir = tempDir('consul-bench-raft-go-')
  // GOPATH mode, offline: the imports resolve from /usr/share/gocode, nothing is fetched; the
  // temp dir comes first so that nothing is written under the system tree.
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOPATH: `${dir}:${GOPATH_SYSTEM}` }
  if (!env.GOCACHE) env.GOCACHE = join(dir, 'gocache')
  const bin = join(dir, 'raftbench')
  const r = spawnSync('go', ['build', '-o', bin, GO_MAIN], { env, encoding: 'utf8' })
  if (r.status !== 0) {
    removeTempDir(dir)
    return `go build failed:\n${r.stderr}`
  }
  return { bin, dir }
}

interface HashicorpRun { cell: Measured; applied: number[]; config: Record<string, unknown>; go: string; stillLeader: boolean; finalBarrier: string }

function measureHashicorp(bin: string, proposers: number, warmupS: number, seconds: number): Promise<HashicorpRun> {
  const dir = tempDir('consul-bench-raft-hashicorp-')
  const args = ['-voters', String(VOTERS), '-proposers', String(proposers), '-warmup', `${warmupS}s`, '-duration', `${seconds}s`, '-dir', dir]
  return new Promise<HashicorpRun>((resolve, reject) => {
    execFile(bin, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: (warmupS + seconds + 60) * 1000 }, (err, stdout, stderr) => {
      removeTempDir(dir)
      if (err) return reject(new Error(`hashicorp raftbench failed (${err.message}):\n${stderr.slice(-4000)}`))
      const out = JSON.parse(stdout) as Omit<HashicorpRun, 'cell'> & { cells: Measured[] }
      resolve({ cell: out.cells[0]!, applied: out.applied, config: out.config, go: out.go, stillLeader: out.stillLeader, finalBarrier: out.finalBarrier })
    })
  })
}

const invalid = (m: Measured | undefined): boolean => m !== undefined && m.errors > 0

function verdict(c: Cell): string {
  if (!c.ours) return 'n/a (ours not run)'
  if (!c.hashicorp) return 'n/a (no hashicorp)'
  if (invalid(c.ours) || invalid(c.hashicorp)) return 'INVALID (errors)'
  return c.ours.commitsPerSec / c.hashicorp.commitsPerSec >= TARGET ? 'PASS' : 'FAIL'
}

const fmtRate = (n: number): string => Math.round(n).toLocaleString('en-US')
const fmtMs = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0))
const fmtLat = (m: Measured | undefined): string => (m ? `${fmtMs(m.p50Ms)} / ${fmtMs(m.p99Ms)}` : '-')

function cellTable(cells: readonly Cell[]): string {
  const head = ['proposers', 'ours commits/s', 'hashicorp commits/s', 'ratio', 'ours p50/p99 ms', 'hashicorp p50/p99 ms', 'p99 ours/hashicorp', 'errors ours/hashicorp', 'target', 'result']
  const rows = cells.map((c) => [
    String(c.proposers),
    c.ours ? fmtRate(c.ours.commitsPerSec) : '-',
    c.hashicorp ? fmtRate(c.hashicorp.commitsPerSec) : '-',
    c.ours && c.hashicorp ? `${(c.ours.commitsPerSec / c.hashicorp.commitsPerSec).toFixed(2)}x` : '-',
    fmtLat(c.ours),
    fmtLat(c.hashicorp),
    c.ours && c.hashicorp ? `${(c.ours.p99Ms / c.hashicorp.p99Ms).toFixed(2)}x` : '-',
    `${c.ours?.errors ?? '-'} / ${c.hashicorp?.errors ?? '-'}`,
    `>= ${TARGET}x`,
    verdict(c),
  ])
  return textTable(head, rows, new Set([0, 8, 9]))
}

function simTable(s: SimRate): string {
  const head = ['simulator', 'seeds', 'steps', 'seconds', 'steps/s', 'seeds/s', 'failed seeds']
  const row = ['simulated steps/s', String(s.seeds), fmtRate(s.steps), s.seconds.toFixed(1), fmtRate(s.stepsPerSec), s.seedsPerSec.toFixed(1), s.failures.length ? s.failures.join(' ') : '0']
  return textTable(head, [row], new Set([0]))
}

function gitCommit(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

function parseArgs(args: readonly string[]): { simSeeds: number } | string {
  let simSeeds = DEFAULT_SIM_SEEDS
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    if (flag !== '--sim-seeds') return `unknown argument ${JSON.stringify(a)}; usage: npm run bench -- raft [--sim-seeds N]`
    const v = inline ?? args[++i]
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) return `--sim-seeds takes a whole number, got ${JSON.stringify(v)}`
    simSeeds = n
  }
  return { simSeeds }
}

export async function runRaftBench(args: readonly string[]): Promise<number> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10)
  if (!Number.isInteger(seconds) || seconds < 1) {
    process.stderr.write(`BENCH_SECONDS must be a whole number of seconds >= 1, got ${JSON.stringify(process.env.BENCH_SECONDS)}\n`)
    return 2
  }
  const parsed = parseArgs(args)
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n`)
    return 2
  }
  installSignalHandlers()
  const warmupS = Math.min(2, seconds)
  const cores = cpus().length

  let fsType: number | undefined
  try {
    fsType = statfsSync(tmpdir()).type
  } catch {
    fsType = undefined
  }
  const build = buildHashicorp()
  const haveGo = typeof build !== 'string'
  const debVersions = Object.fromEntries(DEB_PACKAGES.map((p) => [p, debVersion(p) ?? null]))
  process.stdout.write(
    `Raft benchmark: ${VOTERS} voters in one process, in-memory transport, fsync to disk under ${tmpdir()}; closed-loop proposals of an ${KEY_BYTES}-byte key + ${VALUE_BYTES}-byte value on the leader at ${PROPOSERS.join(' and ')} proposers, ${warmupS}s warm-up + ${seconds}s per cell (BENCH_SECONDS), a fresh cluster per cell.\n` +
      `Machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown'}); both sides run in turn, never together.\n` +
      `Ours: RaftDriver over the pure core in this process, InMemoryNetwork, SqliteStorage per voter (WAL, synchronous=FULL), raft_multiplier 1.\n` +
      (haveGo ? `hashicorp: raft ${debVersions['golang-github-hashicorp-raft-dev']}, raft-boltdb ${debVersions['golang-github-hashicorp-raft-boltdb-dev']} (Debian), built by bench/raft/go/main.go.\n` : `NOTE: hashicorp side not built (${build}); measuring ours only, no ratios. Install: ${INSTALL_HINT}\n`),
  )
  if (fsType === TMPFS_MAGIC) process.stdout.write(`WARNING: ${tmpdir()} is tmpfs: fsync costs nothing there, so the cells do not measure durable commits. Set TMPDIR to a disk.\n`)
  const loadBefore = loadavg()[0]!
  const busyBefore = await machineBusy(1000)
  if (busyBefore !== undefined && busyBefore > 0.2) {
    process.stdout.write(`WARNING: the machine was ${(busyBefore * 100).toFixed(0)}% busy in the second before the benchmark: other processes are using the CPU, so commits/s will be noisy.\n`)
  }

  try {
    let oursConfig: Record<string, unknown> | undefined
    let hashicorpConfig: Record<string, unknown> | undefined
    let goVersion: string | undefined
    const applied: Record<string, Partial<Record<Side, number[]>>> = {}
    const cells: Cell[] = []
    for (const proposers of PROPOSERS) {
      const cell: Cell = { proposers, ours: undefined, hashicorp: undefined }
      applied[proposers] = {}
      // Alternate who goes first, so a drift in background load does not always land on one side.
      const order: Side[] = cells.length % 2 === 0 ? ['ours', 'hashicorp'] : ['hashicorp', 'ours']
      for (const side of order) {
        if (side === 'ours') {
          const r = await measureOurs(proposers, warmupS, seconds)
          cell.ours = r.cell
          oursConfig = r.config
          applied[proposers]!.ours = r.applied
        } else {
          if (!haveGo) continue
          const r = await measureHashicorp(build.bin, proposers, warmupS, seconds)
          cell.hashicorp = r.cell
          hashicorpConfig = r.config
          goVersion = r.go
          applied[proposers]!.hashicorp = r.applied
          if (!r.stillLeader || r.finalBarrier) process.stdout.write(`  WARNING hashicorp: leadership changed during the cell${r.finalBarrier ? ` (${r.finalBarrier})` : ''}\n`)
        }
        const m = cell[side]!
        process.stdout.write(`  proposers=${String(proposers).padEnd(3)} ${side.padEnd(9)}: ${fmtRate(m.commitsPerSec).padStart(7)} commits/s  p50 ${fmtMs(m.p50Ms)} ms  p99 ${fmtMs(m.p99Ms)} ms  errors ${m.errors}${m.firstError ? ` (${m.firstError})` : ''}  applied per voter ${applied[proposers]![side]!.join('/')}\n`)
      }
      cells.push(cell)
    }

    process.stdout.write(`  simulator: ${parsed.simSeeds} campaign seeds...\n`)
    const sim = parsed.simSeeds > 0 ? measureSimRate(parsed.simSeeds) : undefined

    process.stdout.write(`\n${cellTable(cells)}\n\n`)
    if (sim) process.stdout.write(`${simTable(sim)}\n\n`)
    const loadAfter = loadavg()[0]!
    process.stdout.write(
      `commits/s = proposals committed and applied on the leader in the window / its length; latency = propose to applied on the leader, nearest-rank percentiles. Errors are failed proposals; a row with any is INVALID.\n` +
        `hashicorp config: DefaultConfig unchanged (1 s heartbeat/election, 500 ms lease: Consul's raft_multiplier 1, as ours; timeouts decide failure detection, not steady-state commit), InmemTransport with a 10 s RPC timeout, LogCache(512) over raft-boltdb with NoSync false, FileSnapshotStore retaining 2, as Consul wires them.\n` +
        `ours config: raft_multiplier 1 (Consul dev timing), Consul's snapshot defaults (threshold 16384, interval 30 s, trailing 10240): neither side snapshots within a cell.\n` +
        `Simulator: campaign seeds from 1000 (simOptions: 3 and 5 servers, all faults), steps counted as Sim takes them, heal phase included.\n` +
        `Load average ${loadAfter.toFixed(2)} at the end.\n`,
    )

    const date = new Date().toISOString().slice(0, 10)
    const outDir = join(ROOT, 'bench', 'results')
    mkdirSync(outDir, { recursive: true })
    const file = join(outDir, `raft-${date}.json`)
    const results = {
      benchmark: 'raft',
      date: new Date().toISOString(),
      commit: gitCommit(),
      secondsPerCell: seconds,
      warmupSeconds: warmupS,
      machine: { cores, cpu: cpus()[0]?.model, node: process.version, tmpdir: tmpdir(), tmpdirIsTmpfs: fsType === TMPFS_MAGIC, busyBeforeStart: busyBefore ?? null, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      workload: { voters: VOTERS, entryBytes: KEY_BYTES + VALUE_BYTES, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, keys: KEYS, proposers: 'closed loop: propose on the leader, wait until applied there' },
      ours: { config: oursConfig ?? null },
      hashicorp: haveGo ? { debian: debVersions, go: goVersion ?? null, config: hashicorpConfig ?? null } : { missing: build },
      target: `>= ${TARGET}x hashicorp commits/s at ${PROPOSERS.join(' and ')} proposers`,
      cells: cells.map((c) => ({
        proposers: c.proposers,
        ours: c.ours ?? null,
        hashicorp: c.hashicorp ?? null,
        ratio: c.ours && c.hashicorp ? c.ours.commitsPerSec / c.hashicorp.commitsPerSec : null,
        p99Ratio: c.ours && c.hashicorp ? c.ours.p99Ms / c.hashicorp.p99Ms : null,
        appliedPerVoter: applied[c.proposers],
        target: TARGET,
        result: verdict(c),
      })),
      simulator: sim ?? null,
    }
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
    process.stdout.write(`results written to ${relative(process.cwd(), file) || file}\n`)
    return cells.some((c) => verdict(c) === 'INVALID (errors)') || (sim?.failures.length ?? 0) > 0 ? 1 : 0
  } finally {
    await cleanupAll()
    if (haveGo) removeTempDir(build.dir)
  }
}
