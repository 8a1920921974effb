/**
 * Every fault against every workload: one cluster per size, one cell per fault (all workloads at
 * once, on their own keys), the cluster restored and settled between cells. Each cell's schedule
 * comes from the seed and the cell's name, so `--fault X --seed S` replays the schedule of that
 * cell of a longer run.
 */
import { join } from 'node:path'
import { mulberry32 } from '../../src/lib/prng.js'
import { Cluster, type Crash, type Member } from './cluster.js'
import { Faults } from './faults.js'
import { FAULTS, schedule, type Fault } from './nemeses.js'
import { WORKLOADS, type Verdict, type Workload } from './workloads.js'
import { ROOT, tempDir } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { call, sleep } from './http.js'

export interface SuiteOptions {
  seed: number
  sizes: readonly number[]
  clients: number
  secondsPerFault: number
  faults?: readonly string[]
  workloads?: readonly string[]
  /** The second octet of the cluster's addresses. */
  net: number
  log: (line: string) => void
}

export interface Row {
  size: number
  fault: string
  workload: string
  verdict?: Verdict
  crashes: number
  /** Why the cell did not run. */
  skipped?: string
}

export interface SuiteResult {
  rows: Row[]
  /** One line per failed cell: what broke, the seed, the schedule and how to replay. */
  failures: string[]
}

/** A stable number from a name, mixed into the seed: each cell has its own schedule. */
function mix(seed: number, name: string): number {
  let h = seed >>> 0
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0
  return h
}

export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const rows: Row[] = []
  const failures: string[] = []
  const faults = FAULTS.filter((f) => !o.faults || o.faults.includes(f.name))
  const workloads = WORKLOADS.filter((w) => !o.workloads || o.workloads.includes(w.name))
  for (const size of o.sizes) {
    const shims = Faults.setup(tempDir('reliability-faults-'))
    const cluster = await Cluster.start({ servers: size, clients: o.clients, net: o.net }, { prepare: (m) => shims.prepare(m), teardown: () => shims.teardown() })
    try {
      await waitForLeader(cluster)
      for (const fault of faults) {
        const cell = await runCell({ o, size, fault, workloads, cluster, shims })
        rows.push(...cell.rows)
        failures.push(...cell.failures)
      }
    } finally {
      await cluster.stop()
    }
  }
  return { rows, failures }
}

interface CellArgs {
  o: SuiteOptions
  size: number
  fault: Fault
  workloads: readonly Workload[]
  cluster: Cluster
  shims: Faults
}

/** One fault against every workload at once: schedule, run, restore, settle, check. */
async function runCell({ o, size, fault, workloads, cluster, shims }: CellArgs): Promise<SuiteResult> {
  const rows: Row[] = []
  const failures: string[] = []
  const cell = `${size} servers, ${fault.name}`
  const skipped = fault.unavailable?.(shims)
  if (skipped) {
    o.log(`${cell}: not run: ${skipped}`)
    for (const w of workloads) rows.push({ size, fault: fault.name, workload: w.name, crashes: 0, skipped })
    return { rows, failures }
  }
  const seed = mix(o.seed, `${size}/${fault.name}`)
  const rng = mulberry32(seed)
  const durationMs = o.secondsPerFault * 1000
  const steps = schedule(rng, durationMs)
  const plan = steps.map((s) => `${(s.at / 1000).toFixed(1)}s+${(s.hold / 1000).toFixed(1)}s`).join(' ')
  o.log(`${cell}: schedule from seed ${o.seed}: ${plan || '(no steps)'}`)
  const journal: string[] = []
  const t0 = Date.now()
  const say = (s: string): void => {
    const line = `  ${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`
    journal.push(line)
    o.log(line)
  }
  const crashesBefore = cluster.crashes.length
  const running = workloads.map((w, i) => ({ w, r: w.start({ members: cluster.members, until: t0 + durationMs, prefix: `rel/${size}/${fault.name}/${w.name}/`, rng: mulberry32(seed + i + 1) }) }))
  const harness: string[] = []
  for (const step of steps) {
    await sleep(Math.max(0, t0 + step.at - Date.now()))
    const pick = mulberry32(Math.floor(step.draw * 2 ** 32))
    try {
      const undo = await fault.inject(cluster, pick, say, shims)
      await sleep(Math.max(0, t0 + step.at + step.hold - Date.now()))
      await undo()
    } catch (err) {
      harness.push(`${fault.name} at ${(step.at / 1000).toFixed(1)}s: ${(err as Error).message.split('\n')[0]}`)
      say(`failed: ${harness.at(-1)}`)
    }
  }
  await Promise.all(running.map(({ r }) => r.done))
  await cluster.restore().catch((err: Error) => harness.push(`restoring the cluster: ${err.message.split('\n')[0]}`))
  if (!(await waitForLeader(cluster).then(() => true, () => false))) harness.push('no leader 60 s after healing')
  await Promise.all(running.map(({ r }) => r.settle(cluster.members)))
  harness.push(...(await caughtUp(cluster, `rel/${size}/${fault.name}/marker`)))
  const crashes: Crash[] = cluster.crashes.slice(crashesBefore)
  for (const { w, r } of running) {
    const verdict = r.check()
    rows.push({ size, fault: fault.name, workload: w.name, verdict, crashes: crashes.length + harness.length })
    const bad = verdict.anomalies + verdict.lost + verdict.undecided > 0 || crashes.length + harness.length > 0
    if (bad) {
      const logs = join(ROOT, 'test-output', 'reliability', `${o.seed}-${size}-${fault.name}`)
      cluster.saveLogs(logs)
      failures.push([
        `${cell}, ${w.name}: ${verdict.anomalies} anomalies, ${verdict.lost} lost, ${verdict.undecided} undecided, ${crashes.length} crashes`,
        ...verdict.notes.map((n) => `  ${n.split('\n').join('\n  ')}`),
        ...harness.map((h) => `  harness: ${h}`),
        ...crashes.map((c) => `  crash: ${c.member} exited (${c.code ?? c.signal}):\n${c.tail}`),
        `  schedule: ${plan}`,
        ...journal,
        `  replay: npm run reliability -- --sizes ${size} --fault ${fault.name} --seed ${o.seed} --seconds ${o.secondsPerFault}`,
        `  agents' logs: ${logs}`,
      ].join('\n'))
    }
  }
  return { rows, failures }
}

/**
 * Every server must hold a write made after healing: a server left alive but unable to follow (a
 * storage that never recovered, a stuck replication) fails the cell.
 */
async function caughtUp(c: Cluster, key: string): Promise<string[]> {
  const written = await until('a write after healing', async () => {
    const l = await c.leader()
    const o = l ? await call(l, 'PUT', `/v1/kv/${key}`, 'x') : undefined
    return o?.sent === true && o.answer?.status === 200 ? true : undefined
  }, 30_000).catch(() => false)
  if (!written) return ['no write succeeded after healing']
  const behind = await Promise.all(c.servers.map((m) => until(`${m.name} holding it`, async () => {
    const o = await call(m, 'GET', `/v1/kv/${key}?stale`)
    return o.sent && o.answer?.status === 200 ? true : undefined
  }, 30_000).then(() => undefined, () => `${m.name} never caught up after healing`)))
  return behind.filter((b): b is string => b !== undefined)
}

const waitForLeader = (c: Cluster): Promise<Member> => until('a leader', () => c.leader(), 60_000)

/** The table: one line per cell. */
export function table(rows: readonly Row[]): string {
  const head = ['servers', 'nemesis', 'workload', 'histories', 'ops', 'anomalies', 'lost', 'stale reads', 'crashes', 'undecided']
  const body = rows.map((r) => r.skipped
    ? [String(r.size), r.fault, r.workload, '-', '-', '-', '-', '-', '-', `not run: ${r.skipped}`]
    : [String(r.size), r.fault, r.workload, String(r.verdict!.histories), String(r.verdict!.ops), String(r.verdict!.anomalies), String(r.verdict!.lost), String(r.verdict!.stale), String(r.crashes), String(r.verdict!.undecided)])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 || i === cells.length - 1 && c.startsWith('not') ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()
  const totals = rows.filter((r) => r.verdict).reduce((t, r) => ({ ops: t.ops + r.verdict!.ops, histories: t.histories + r.verdict!.histories, anomalies: t.anomalies + r.verdict!.anomalies, lost: t.lost + r.verdict!.lost, stale: t.stale + r.verdict!.stale }), { ops: 0, histories: 0, anomalies: 0, lost: 0, stale: 0 })
  // Crashes belong to a cell (every workload's row repeats them): count each cell once.
  const cells = new Map(rows.filter((r) => r.verdict).map((r) => [`${r.size}/${r.fault}`, r.crashes]))
  const crashes = [...cells.values()].reduce((n, x) => n + x, 0)
  return [line(head), ...body.map(line), `total: ${totals.histories} histories, ${totals.ops} operations, ${totals.anomalies} anomalies, ${totals.lost} acknowledged writes lost, ${totals.stale} stale default/?stale reads, ${crashes} crashes`].join('\n')
}
