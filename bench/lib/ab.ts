/**
 * A/B of two agents of ours that differ in one setting (ACLs, telemetry): the same wrk load on
 * each, interleaved round by round with the order swapped each round, so a slow spell of the
 * machine hits both. On this 2-core machine two identical agents differ by up to 9% in req/s
 * (measured), more than the costs these benchmarks look for, so the verdict is the agent's CPU
 * time per request, summed over every round (from /proc); throughput is printed beside it.
 */
import { cpuSeconds, which, type Server } from './procs.js'
import { randomRequestScript, runWrk, type LuaRequest } from './wrk.js'

export interface AbSide {
  name: string
  server: Server
  url: string
  /** Started for the duration of each of this side's loads (a Prometheus-like scrape); returns its stop. */
  during?: () => () => void
}

export interface AbRun {
  rps: number
  requests: number
  cpuS: number
}

export interface AbResult {
  /** Best req/s of each side over the rounds. */
  rps: [number, number]
  /** CPU microseconds per request of each side, over every round. */
  cpuUs: [number, number]
  /** b's req/s over a's best. */
  rpsRatio: number
  /** a's CPU per request over b's: below 1 when b costs more. */
  cpuRatio: number
}

export interface AbOptions {
  requests: (side: AbSide) => LuaRequest[]
  tag: string
  scratch: string
  connections: number
  seconds: number
  /** Measured rounds, each one load per side (after one unmeasured warm-up each). */
  rounds: number
}

async function once(side: AbSide, requests: LuaRequest[], o: AbOptions, n: number): Promise<AbRun> {
  const stop = side.during?.()
  const cpu0 = cpuSeconds(side.server.proc.pid) ?? 0
  try {
    const r = await runWrk({ wrk: which('wrk')!, url: side.url, script: randomRequestScript(requests), scriptName: `${o.tag}-${side.name}-${n}.lua`, dir: o.scratch, connections: o.connections, seconds: o.seconds })
    if (r.non2xx + r.socketErrors.timeout > 0) throw new Error(`${o.tag} (${side.name}): ${r.non2xx} non-2xx, ${r.socketErrors.timeout} timeouts`)
    return { rps: r.rps, requests: r.requests, cpuS: (cpuSeconds(side.server.proc.pid) ?? 0) - cpu0 }
  } finally {
    stop?.()
  }
}

export async function compare(a: AbSide, b: AbSide, o: AbOptions): Promise<AbResult> {
  const reqs = new Map([a, b].map((s) => [s, o.requests(s)]))
  for (const side of [a, b]) await once(side, reqs.get(side)!, o, 0)
  const runs = new Map<AbSide, AbRun[]>([[a, []], [b, []]])
  for (let round = 1; round <= o.rounds; round++) {
    for (const side of round % 2 === 1 ? [a, b] : [b, a]) runs.get(side)!.push(await once(side, reqs.get(side)!, o, round))
  }
  const best = (l: AbRun[]): number => Math.max(...l.map((x) => x.rps))
  const cpuUs = (l: AbRun[]): number => (l.reduce((s, x) => s + x.cpuS, 0) * 1e6) / l.reduce((s, x) => s + x.requests, 0)
  const [ra, rb] = [best(runs.get(a)!), best(runs.get(b)!)]
  const [ca, cb] = [cpuUs(runs.get(a)!), cpuUs(runs.get(b)!)]
  return { rps: [ra, rb], cpuUs: [ca, cb], rpsRatio: rb / ra, cpuRatio: ca / cb }
}

/**
 * A timed single request, interleaved between the sides like `compare`: the median ms of each
 * (a recursive read, an endpoint's answer). `call` must check what it got.
 */
export async function compareLatency(a: AbSide, b: AbSide, rounds: number, call: (side: AbSide) => Promise<void>): Promise<[number, number]> {
  for (const side of [a, b]) for (let i = 0; i < 2; i++) await call(side)
  const times = new Map<AbSide, number[]>([[a, []], [b, []]])
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? [a, b] : [b, a]) {
      const t0 = performance.now()
      await call(side)
      times.get(side)!.push(performance.now() - t0)
    }
  }
  const median = (l: number[]): number => [...l].sort((x, y) => x - y)[Math.floor(l.length / 2)]!
  return [median(times.get(a)!), median(times.get(b)!)]
}
