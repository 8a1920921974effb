/**
 * What `consul debug` captures from a running agent besides its API answers: a CPU profile (V8's
 * .cpuprofile, through the inspector) and a heap snapshot, and the host's facts.
 */
import { Session } from 'node:inspector'
import { cpus, freemem, hostname, loadavg, platform, release, totalmem, uptime, arch } from 'node:os'

export class Profiler {
  readonly #busy = new Set<'cpu' | 'heap'>()

  /** Samples the CPU for `seconds`: V8's .cpuprofile (one at a time per agent). */
  cpu(seconds: number): Promise<unknown> {
    return this.#sample('cpu', seconds, ['Profiler.enable', 'Profiler.start'], 'Profiler.stop')
  }

  /**
   * Samples allocations for `seconds`: V8's .heapprofile, stacks and sizes, as Go's heap.prof is.
   * Not a heap snapshot: a snapshot holds every string in memory, tokens included.
   */
  heap(seconds: number): Promise<unknown> {
    return this.#sample('heap', seconds, ['HeapProfiler.enable', 'HeapProfiler.startSampling'], 'HeapProfiler.stopSampling')
  }

  async #sample(kind: 'cpu' | 'heap', seconds: number, start: string[], stop: string): Promise<unknown> {
    if (this.#busy.has(kind)) throw new ProfileBusyError(kind)
    this.#busy.add(kind)
    const session = new Session()
    session.connect()
    const post = (method: string): Promise<unknown> =>
      new Promise((resolve, reject) => session.post(method, {}, (err, res) => (err ? reject(err) : resolve(res))))
    try {
      for (const m of start) await post(m)
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000).unref())
      return ((await post(stop)) as { profile: unknown }).profile
    } finally {
      session.disconnect()
      this.#busy.delete(kind)
    }
  }
}

export class ProfileBusyError extends Error {
  constructor(kind: 'cpu' | 'heap') {
    super(`a ${kind === 'cpu' ? 'CPU' : 'heap'} profile of this agent is already being taken`)
  }
}

/** GET /v1/agent/host: the machine's facts, in the spirit of Consul's (gopsutil's) shape. */
export function hostFacts(): Record<string, unknown> {
  return {
    Host: { hostname: hostname(), os: platform(), platformVersion: release(), kernelArch: arch(), uptime: Math.round(uptime()) },
    CPU: cpus().map((c, i) => ({ cpu: i, modelName: c.model, mhz: c.speed })),
    Memory: { total: totalmem(), available: freemem(), used: totalmem() - freemem() },
    Load: loadavg(),
    Runtime: { version: process.version, pid: process.pid, uptime: Math.round(process.uptime()), memory: process.memoryUsage() },
    CollectionTime: Date.now() * 1e6,
  }
}
