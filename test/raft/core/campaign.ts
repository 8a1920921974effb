/**
 * A simulation campaign: many seeds of the cluster simulator (sim.ts) over 3- and 5-server clusters
 * with every fault it has, varied by seed (loss 5-29%, crash rate 1-3%, a spare server that joins
 * and members that leave on every third seed, leader churn on every other), with KV clients checked for linearizability. Used by
 * the campaign tests (CI) and by `npm run sim -- --seeds N [--servers 3|5] [--steps M] [--from S]`,
 * which prints the figures and, for the first failed seed, its trace with every message (`--level core`;
 * the default `--level driver` runs test/server/sim/driver-campaign.ts the same way).
 */
import { pathToFileURL } from 'node:url'
import { Sim, SimFailure, classify, type FailureKind, type NodeFactory, type SimOptions } from './sim.js'

export interface CampaignOptions {
  seeds: number
  from?: number
  /** Fixed cluster size; by default seeds alternate between 3 and 5 servers. */
  servers?: number
  steps?: number
  /** The raft implementation under test. */
  createNode?: NodeFactory
  /** Options for every seed on top of simOptions(seed). */
  overrides?: Partial<SimOptions>
  /** Stop at the first failed seed (for a test that expects one). */
  stopAtFirstFailure?: boolean
}

export interface CampaignFailure { seed: number; kind: FailureKind; what: string; message: string }

export interface CampaignResult {
  seeds: number
  steps: number
  failures: CampaignFailure[]
  safetyViolations: number
  linearizabilityAnomalies: number
  livenessFailures: number
  /** Client figures summed over the seeds that completed. */
  ops: number
  writes: number
  unknownWrites: number
  consistentReads: number
  defaultReads: number
  staleModeReads: number
  staleDefault: number
  staleStale: number
  ms: number
}

export function simOptions(seed: number, o: Pick<CampaignOptions, 'servers' | 'steps' | 'createNode'> = {}): SimOptions {
  return {
    seed,
    nodes: o.servers ?? (seed % 2 ? 3 : 5),
    spares: seed % 3 === 0 ? 1 : 0,
    steps: o.steps ?? 400,
    dropRate: 0.05 + (seed % 4) * 0.08,
    crashRate: 0.01 + (seed % 3) * 0.01,
    // Every other seed churns leaders, each crashing soon after its election with its appends on a
    // minority, and sends one entry per append: the Raft paper's Figure 8 needs both.
    leaderChurn: seed % 2 === 0,
    maxMsgBytes: seed % 2 === 0 ? 1 : [256, 1024][seed % 5 % 2],
    createNode: o.createNode,
  }
}

export { classify }

export function campaign(o: CampaignOptions): CampaignResult {
  const start = Date.now()
  const r: CampaignResult = {
    seeds: 0, steps: 0, failures: [], safetyViolations: 0, linearizabilityAnomalies: 0, livenessFailures: 0,
    ops: 0, writes: 0, unknownWrites: 0, consistentReads: 0, defaultReads: 0, staleModeReads: 0, staleDefault: 0, staleStale: 0, ms: 0,
  }
  const from = o.from ?? 1000
  for (let seed = from; seed < from + o.seeds; seed++) {
    r.seeds++
    const sim = new Sim({ ...simOptions(seed, o), ...o.overrides })
    try {
      const res = sim.run()
      r.steps += res.steps
      const c = res.clients
      if (c !== undefined) {
        r.ops += c.ops; r.writes += c.writes; r.unknownWrites += c.unknownWrites
        r.consistentReads += c.consistentReads; r.defaultReads += c.defaultReads; r.staleModeReads += c.staleModeReads
        r.staleDefault += c.staleDefault; r.staleStale += c.staleStale
      }
    } catch (err) {
      const what = err instanceof SimFailure ? err.what : String((err as Error).stack ?? err)
      const kind = err instanceof SimFailure ? classify(what) : 'error'
      r.failures.push({ seed, kind, what, message: (err as Error).message })
      if (kind === 'safety' || kind === 'error') r.safetyViolations++
      else if (kind === 'linearizability') r.linearizabilityAnomalies++
      else r.livenessFailures++
      if (o.stopAtFirstFailure) break
    }
  }
  r.ms = Date.now() - start
  return r
}

export function formatCampaign(r: CampaignResult): string {
  return [
    `seeds run: ${r.seeds}, steps: ${r.steps}, time: ${r.ms} ms (${Math.round((r.seeds * 1000) / Math.max(1, r.ms))} seeds/s)`,
    `safety violations: ${r.safetyViolations}, linearizability anomalies (consistent mode): ${r.linearizabilityAnomalies}, liveness failures: ${r.livenessFailures}`,
    `client ops: ${r.ops} (writes ${r.writes}, of which unknown ${r.unknownWrites}; reads consistent ${r.consistentReads}, default ${r.defaultReads}, stale ${r.staleModeReads})`,
    `stale reads counted: default mode ${r.staleDefault} of ${r.defaultReads}, stale mode ${r.staleStale} of ${r.staleModeReads}`,
  ].join('\n')
}

// As a program (npm run sim): prints the figures and the first failure's full trace; exit 1 on any failure.
// `--level driver` (the default) runs the whole server stack (test/server/sim/driver-sim.ts): the core
// with the driver, the real state machine and the endpoint layer; `--level core` the core alone (sim.ts).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    if (i < 0) return undefined
    const v = process.argv[i].includes('=') ? process.argv[i].split('=')[1] : process.argv[i + 1]
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) {
      process.stderr.write(`--${name} takes a whole number, got ${JSON.stringify(v)}\n`)
      process.exit(2)
    }
    return n
  }
  const li = process.argv.findIndex((a) => a === '--level' || a.startsWith('--level='))
  const level = li < 0 ? 'driver' : process.argv[li].includes('=') ? process.argv[li].split('=')[1] : process.argv[li + 1]
  if (level !== 'driver' && level !== 'core') {
    process.stderr.write(`--level is driver or core, got ${JSON.stringify(level)}\n`)
    process.exit(2)
  }
  const o = { seeds: arg('seeds') ?? 1000, from: arg('from'), servers: arg('servers'), steps: arg('steps') }
  if (level === 'driver') {
    const { driverCampaign, driverSimOptions } = await import('../../server/sim/driver-campaign.js')
    const { DriverSim } = await import('../../server/sim/driver-sim.js')
    const r = await driverCampaign(o)
    process.stdout.write(`level: driver (core + driver + FSM + endpoint layer)\n${formatCampaign(r)}\n` +
      `crashes: ${r.crashes}, snapshots installed from a leader: ${r.snapshotsInstalled}\n`)
    if (r.failures.length) {
      const first = r.failures[0]
      process.stdout.write(`failed seeds: ${r.failures.map((f) => `${f.seed} (${f.kind})`).join(' ')}\n` +
        `replay one: DRIVER_SIM_SEED=<n> DRIVER_SIM_SERVERS=<servers> node --test dist/test/server/sim/driver-sim.test.js\n\n`)
      try {
        await new DriverSim({ ...driverSimOptions(first.seed, o), traceMessages: true }).run()
        process.stdout.write(first.message + '\n')
      } catch (err) {
        process.stdout.write(`${(err as Error).message}\n`)
      }
      process.exit(1)
    }
  } else {
    const r = campaign(o)
    process.stdout.write(`level: core\n${formatCampaign(r)}\n`)
    if (r.failures.length) {
      const first = r.failures[0]
      process.stdout.write(`failed seeds: ${r.failures.map((f) => `${f.seed} (${f.kind})`).join(' ')}\n` +
        `replay one: RAFT_SIM_SEED=<n> RAFT_SIM_SERVERS=<3|5> node --test dist/test/raft/core/sim.test.js\n\n`)
      // The same seed again, with every delivered message in the trace.
      try {
        new Sim({ ...simOptions(first.seed, o), traceMessages: true }).run()
        process.stdout.write(first.message + '\n')
      } catch (err) {
        process.stdout.write(`${(err as Error).message}\n`)
      }
      process.exit(1)
    }
  }
}
