/**
 * A simulation campaign: many seeds of the Raft core simulator (sim.ts) over 3- and 5-server
 * clusters with every fault it has, varied by seed (loss 5-29%, crash rate 1-3%, a spare server
 * that joins and members that leave on every third seed). Used by the campaign test (1,000 seeds in
 * CI) and by `npm run sim -- --seeds N [--servers 3|5] [--steps M] [--from S]`.
 */
import { pathToFileURL } from 'node:url'
import { Sim, type SimOptions } from './sim.js'

export interface CampaignOptions {
  seeds: number
  from?: number
  /** Fixed cluster size; by default seeds alternate between 3 and 5 servers. */
  servers?: number
  steps?: number
}

export interface CampaignResult {
  seeds: number
  failures: Array<{ seed: number; message: string }>
  ms: number
}

export function simOptions(seed: number, o: Pick<CampaignOptions, 'servers' | 'steps'> = {}): SimOptions {
  return {
    seed,
    nodes: o.servers ?? (seed % 2 ? 3 : 5),
    spares: seed % 3 === 0 ? 1 : 0,
    steps: o.steps ?? 400,
    dropRate: 0.05 + (seed % 4) * 0.08,
    crashRate: 0.01 + (seed % 3) * 0.01,
  }
}

export function campaign(o: CampaignOptions): CampaignResult {
  const start = Date.now()
  const failures: CampaignResult['failures'] = []
  const from = o.from ?? 1000
  for (let seed = from; seed < from + o.seeds; seed++) {
    try {
      new Sim(simOptions(seed, o)).run()
    } catch (err) {
      failures.push({ seed, message: (err as Error).message })
    }
  }
  return { seeds: o.seeds, failures, ms: Date.now() - start }
}

// As a program (npm run sim): prints a summary and the first failure's trace; exit 1 on any failure.
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
  const r = campaign({ seeds: arg('seeds') ?? 1000, from: arg('from'), servers: arg('servers'), steps: arg('steps') })
  process.stdout.write(`${r.seeds} seeds, ${r.failures.length} failed, ${r.ms} ms (${Math.round((r.seeds * 1000) / Math.max(1, r.ms))} seeds/s)\n`)
  if (r.failures.length) {
    process.stdout.write(`failed seeds: ${r.failures.map((f) => f.seed).join(' ')}\nreplay one: RAFT_SIM_SEED=<n> node --test dist/test/raft/core/sim.test.js\n\n${r.failures[0]!.message}\n`)
    process.exit(1)
  }
}
