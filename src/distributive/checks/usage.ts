import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { formatBytes, parsePercent, parseSize } from '../params.js'
import { fail, pass, unknown, type CheckDef, type CheckResult } from '../types.js'

/** /proc/meminfo in bytes (the file counts in KiB). */
export function meminfo(host: Host): Promise<Map<string, number>> {
  return host.memo('meminfo', async () => {
    const out = new Map<string, number>()
    for (const line of (await readFile(host.proc('meminfo'), 'utf8')).split('\n')) {
      const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line)
      if (m) out.set(m[1]!, Number(m[2]) * (line.includes('kB') ? 1024 : 1))
    }
    return out
  })
}

/** Aggregate CPU jiffies: [busy, total] from the first line of /proc/stat. */
async function cpuTimes(host: Host): Promise<[number, number]> {
  const first = (await readFile(host.proc('stat'), 'utf8')).split('\n')[0] ?? ''
  const f = first.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = f.reduce((a, b) => a + b, 0)
  const idle = (f[3] ?? 0) + (f[4] ?? 0) // idle + iowait
  return [total - idle, total]
}

function memCheck(
  name: string,
  summary: string,
  failure: string,
  parseLimit: (s: string) => number,
  measure: (mem: Map<string, number>) => { value: number; ok: (limit: number) => boolean; show: (n: number) => string } | undefined,
): CheckDef {
  return {
    names: [name],
    params: 1,
    summary,
    parse: ([p]) => {
      const limit = parseLimit(p!)
      return async (host): Promise<CheckResult> => {
        let mem: Map<string, number>
        try {
          mem = await meminfo(host)
        } catch (err) {
          return unknown(`cannot read /proc/meminfo: ${(err as Error).message}`)
        }
        const m = measure(mem)
        if (!m) return unknown('/proc/meminfo lacks the fields this check needs')
        return m.ok(limit) ? pass() : fail(`${failure}:\n\tSpecified: ${m.show(limit)}\n\tActual: ${m.show(m.value)}`)
      }
    },
  }
}

const pct = (n: number): string => `${Math.floor(n)}%`

export const usageChecks: CheckDef[] = [
  // Used memory is total − MemAvailable (page cache counts as free); upstream v0.3 measured the *free* share instead.
  memCheck('memoryUsage', 'memory usage is below the percentage', 'Memory usage above maximum', parsePercent, (m) => {
    const total = m.get('MemTotal')
    const avail = m.get('MemAvailable') ?? m.get('MemFree')
    if (!total || avail === undefined) return undefined
    return { value: ((total - avail) / total) * 100, ok: (l) => ((total - avail) / total) * 100 < l, show: pct }
  }),
  // No swap at all is 0 % used.
  memCheck('swapUsage', 'swap usage is below the percentage', 'Swap usage above maximum', parsePercent, (m) => {
    const total = m.get('SwapTotal')
    const free = m.get('SwapFree')
    if (total === undefined || free === undefined) return undefined
    const used = total === 0 ? 0 : ((total - free) / total) * 100
    return { value: used, ok: (l) => used < l, show: pct }
  }),
  memCheck('freeMemory', 'available memory (MemAvailable) is above the size', 'Available memory below minimum', parseSize, (m) => {
    const avail = m.get('MemAvailable') ?? m.get('MemFree')
    if (avail === undefined) return undefined
    return { value: avail, ok: (l) => avail > l, show: formatBytes }
  }),
  memCheck('freeSwap', 'free swap is above the size', 'Free swap below minimum', parseSize, (m) => {
    const free = m.get('SwapFree')
    if (free === undefined) return undefined
    return { value: free, ok: (l) => free > l, show: formatBytes }
  }),
  {
    names: ['cpuUsage'],
    params: 1,
    summary: 'CPU usage over a short sample of /proc/stat is below the percentage',
    parse: ([p]) => {
      const limit = parsePercent(p!)
      return async (host, signal) => {
        let a: [number, number]
        let b: [number, number]
        try {
          a = await cpuTimes(host)
          await sleep(DISTRIBUTIVE_LIMITS.cpuSampleMs, undefined, { signal })
          b = await cpuTimes(host)
        } catch (err) {
          if (signal.aborted) throw err
          return unknown(`cannot read /proc/stat: ${(err as Error).message}`)
        }
        // No jiffies elapsed (a frozen fixture, a very coarse clock): use the totals since boot.
        const [busy, total] = b[1] - a[1] > 0 ? [b[0] - a[0], b[1] - a[1]] : b
        const used = total === 0 ? 0 : (busy / total) * 100
        return used < limit ? pass() : fail(`CPU usage above maximum:\n\tSpecified: ${limit}%\n\tActual: ${Math.floor(used)}%`)
      }
    },
  },
]
