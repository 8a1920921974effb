/**
 * A campaign of the driver-level simulator (driver-sim.ts): seeds over a fixed cluster size, each
 * varying its faults as the core campaign does (loss 5-29%, crash rate 1-3%, leader churn on every
 * other seed) and the drivers' snapshot threshold (so InstallSnapshot happens). Figures are the core
 * campaign's (test/raft/core/campaign.ts), which `npm run sim` prints for either level.
 */
import type { CampaignResult } from '../../raft/core/campaign.js'
import { SimFailure, classify } from '../../raft/core/sim.js'
import { DriverSim, type DriverSimOptions, type Implementation } from './driver-sim.js'

export interface DriverCampaignOptions {
  seeds: number
  from?: number
  /** 3 to 7; by default seeds alternate between 3 and 5 servers. */
  servers?: number
  steps?: number
  impl?: Implementation
  overrides?: Partial<DriverSimOptions>
  stopAtFirstFailure?: boolean
}

export function driverSimOptions(seed: number, o: Pick<DriverCampaignOptions, 'servers' | 'steps' | 'impl'> = {}): DriverSimOptions {
  return {
    seed,
    nodes: o.servers ?? (seed % 2 ? 3 : 5),
    steps: o.steps ?? 400,
    dropRate: 0.05 + (seed % 4) * 0.08,
    crashRate: 0.01 + (seed % 3) * 0.01,
    leaderChurn: seed % 2 === 0,
    snapshotThreshold: [12, 24, 48][seed % 3],
    trailingLogs: seed % 4,
    logCacheEntries: [1, 3, 4096][Math.floor(seed / 3) % 3],
    impl: o.impl,
  }
}

export async function driverCampaign(o: DriverCampaignOptions): Promise<CampaignResult & { snapshotsInstalled: number; crashes: number }> {
  const start = Date.now()
  const r = {
    seeds: 0, steps: 0, failures: [] as CampaignResult['failures'], safetyViolations: 0, linearizabilityAnomalies: 0, livenessFailures: 0,
    ops: 0, writes: 0, unknownWrites: 0, consistentReads: 0, defaultReads: 0, staleModeReads: 0, staleDefault: 0, staleStale: 0, ms: 0,
    snapshotsInstalled: 0, crashes: 0,
  }
  const from = o.from ?? 1000
  // The endpoints answer refusals (NotLeader, a failed CAS) with Errors, thousands per seed; their
  // stack traces were a tenth of the run. A failure's message carries the trace that matters;
  // replaying its seed alone (DRIVER_SIM_SEED) gives full stacks.
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    for (let seed = from; seed < from + o.seeds && !(o.stopAtFirstFailure && r.failures.length > 0); seed++) await runSeed(seed)
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  r.ms = Date.now() - start
  return r

  async function runSeed(seed: number): Promise<void> {
    r.seeds++
    const sim = new DriverSim({ ...driverSimOptions(seed, o), ...o.overrides })
    try {
      const res = await sim.run()
      r.steps += res.steps
      r.snapshotsInstalled += res.snapshotsInstalled
      r.crashes += res.crashes
      const c = res.clients
      r.ops += c.ops; r.writes += c.writes; r.unknownWrites += c.unknownWrites
      r.consistentReads += c.consistentReads; r.defaultReads += c.defaultReads; r.staleModeReads += c.staleModeReads
      r.staleDefault += c.staleDefault; r.staleStale += c.staleStale
    } catch (err) {
      const what = err instanceof SimFailure ? err.what : String((err as Error).stack ?? err)
      const kind = err instanceof SimFailure ? classify(what) : 'error'
      r.failures.push({ seed, kind, what, message: (err as Error).message })
      if (kind === 'safety' || kind === 'error') r.safetyViolations++
      else if (kind === 'linearizability') r.linearizabilityAnomalies++
      else r.livenessFailures++
    }
  }
}
