/**
 * Simulated steps per second of the Raft core simulator (test/raft/core/sim.ts): the campaign's
 * seeds (3 and 5 servers, loss, duplication, crashes, membership; campaign.ts's simOptions), each
 * run to its end, steps counted as the simulator takes them.
 */
import { Sim, type SimOptions } from '../../test/raft/core/sim.js'
import { simOptions } from '../../test/raft/core/campaign.js'

/** Counts calls to step(), which run() makes for the faulty phase and again while healing. */
class CountingSim extends Sim {
  steps = 0
  constructor(opts: SimOptions) {
    super(opts)
  }

  override step(faults: boolean, proposals: boolean): void {
    this.steps++
    super.step(faults, proposals)
  }
}

export interface SimRate {
  seeds: number
  firstSeed: number
  steps: number
  seconds: number
  stepsPerSec: number
  seedsPerSec: number
  failures: number[]
}

export function measureSimRate(seeds: number, firstSeed = 1000): SimRate {
  let steps = 0
  const failures: number[] = []
  const start = performance.now()
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const sim = new CountingSim(simOptions(seed))
    try {
      sim.run()
    } catch {
      // A failing seed is a correctness matter for `npm run sim`; here it is reported, and its steps still count.
      failures.push(seed)
    }
    steps += sim.steps
  }
  const seconds = (performance.now() - start) / 1000
  return { seeds, firstSeed, steps, seconds, stepsPerSec: steps / seconds, seedsPerSec: seeds / seconds, failures }
}
