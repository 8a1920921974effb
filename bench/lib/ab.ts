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
  /** Share of b's busy CPU samples (V8's profiler, an extra round) with a frame in the feature's code, when asked for. */
  featureShare?: number
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
  /**
   * Profiles b during one extra round (GET /debug/pprof/profile: -dev has enable_debug) and counts
   * the samples whose stack passes through a script matching `code`: a direct, noise-free figure of
   * what the feature costs, beside the CPU per request (it misses only the garbage it leaves).
   */
  profile?: { code: RegExp; headers?: Record<string, string> }
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string }; children?: number[] }>
  samples: number[]
}

/** Of the samples that were not idle, the share with `code` somewhere on the stack. */
export function shareOf(p: CpuProfile, code: RegExp): number {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const hit = new Map<number, boolean>()
  const inCode = (id: number): boolean => {
    let known = hit.get(id)
    if (known === undefined) {
      const up = parent.get(id)
      known = code.test(byId.get(id)!.callFrame.url) || (up !== undefined && inCode(up))
      hit.set(id, known)
    }
    return known
  }
  let busy = 0
  let feature = 0
  for (const id of p.samples) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue
    busy++
    if (inCode(id)) feature++
  }
  return busy === 0 ? 0 : feature / busy
}

async function profiled(side: AbSide, o: AbOptions, run: () => Promise<AbRun>): Promise<{ run: AbRun; share: number }> {
  const seconds = Math.max(1, o.seconds - 2)
  const profile = fetch(`${side.url}/debug/pprof/profile?seconds=${seconds}`, { headers: o.profile!.headers }).then(async (res) => {
    if (res.status !== 200) throw new Error(`profile of ${side.name}: ${res.status} ${await res.text()}`)
    return (await res.json()) as CpuProfile
  })
  const r = await run()
  return { run: r, share: shareOf(await profile, o.profile!.code) }
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
  // The profiler slows what it watches: its round is an extra one, not counted above.
  const featureShare = o.profile ? (await profiled(b, o, () => once(b, reqs.get(b)!, o, o.rounds + 1))).share : undefined
  const best = (l: AbRun[]): number => Math.max(...l.map((x) => x.rps))
  const cpuUs = (l: AbRun[]): number => (l.reduce((s, x) => s + x.cpuS, 0) * 1e6) / l.reduce((s, x) => s + x.requests, 0)
  const [ra, rb] = [best(runs.get(a)!), best(runs.get(b)!)]
  const [ca, cb] = [cpuUs(runs.get(a)!), cpuUs(runs.get(b)!)]
  return { rps: [ra, rb], cpuUs: [ca, cb], rpsRatio: rb / ra, cpuRatio: ca / cb, featureShare }
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
