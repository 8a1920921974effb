import type { Checklist, CheckSpec } from './checklist.js'
import { eachLimited } from '../lib/pool.js'
import type { Host } from './host.js'
import { DISTRIBUTIVE_LIMITS } from './limits.js'
import { CannotRunError, type Status } from './types.js'

export interface CheckOutcome {
  checklist: Checklist
  check: CheckSpec
  status: Status
  message: string
  durationMs: number
}

export interface RunReport {
  /** In checklist order, then check order (not completion order, so reports are stable run to run). */
  outcomes: CheckOutcome[]
  elapsedMs: number
  counts: { total: number; passed: number; warning: number; critical: number; unknown: number }
}

export interface RunOptions {
  /** Per-check limit; a check still running then is UNKNOWN and its processes are killed. */
  timeoutMs?: number
  concurrency?: number
  /** Aborts every check (the agent stopping). */
  signal?: AbortSignal
  /** Clock for durations, injectable so reports can be compared exactly. */
  now?: () => number
}

function clipMessage(s: string): string {
  const max = DISTRIBUTIVE_LIMITS.messageBytesMax
  return s.length > max ? s.slice(0, max) + '…' : s
}

/**
 * Runs one check under its own AbortController, registered in `running` so that the run's one listener on the outer
 * signal can abort it (a listener per check would pile up on that signal: Node warns past 10); never throws.
 */
async function runOne(check: CheckSpec, host: Host, timeoutMs: number, outer: AbortSignal | undefined, running: Set<AbortController>): Promise<{ status: Status; message: string }> {
  const ctl = new AbortController()
  if (outer?.aborted) ctl.abort()
  running.add(ctl)
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<{ status: Status; message: string }>((resolve) => {
    timer = setTimeout(() => {
      ctl.abort()
      resolve({ status: 'unknown', message: `timed out after ${timeoutMs / 1000}s` })
    }, timeoutMs)
  })
  const ran = (async () => {
    try {
      const r = await check.run(host, ctl.signal)
      // A failure of a warning-severity check is a warning, not critical.
      const status: Status = r.status === 'critical' && check.severity === 'warning' ? 'warning' : r.status
      return { status, message: r.message }
    } catch (err) {
      if (ctl.signal.aborted) return { status: 'unknown' as const, message: outer?.aborted ? 'aborted' : `timed out after ${timeoutMs / 1000}s` }
      if (err instanceof CannotRunError) return { status: 'unknown' as const, message: err.message }
      // Anything else a check throws (an unreadable /proc file, say) means it could not run, not that it failed.
      return { status: 'unknown' as const, message: `could not run: ${(err as Error).message}` }
    }
  })()
  try {
    const r = await Promise.race([ran, timedOut])
    return { status: r.status, message: clipMessage(r.message) }
  } finally {
    clearTimeout(timer)
    running.delete(ctl)
  }
}

/**
 * Runs every check of every checklist concurrently (at most `concurrency` at once), each with its own timeout,
 * so one hung command cannot hang the run.
 */
export async function runChecklists(lists: readonly Checklist[], host: Host, opts: RunOptions = {}): Promise<RunReport> {
  const now = opts.now ?? (() => performance.now())
  const timeoutMs = opts.timeoutMs ?? DISTRIBUTIVE_LIMITS.checkTimeoutMsDefault
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? DISTRIBUTIVE_LIMITS.concurrencyMax, DISTRIBUTIVE_LIMITS.concurrencyMax))
  const runHost = host.forRun()
  const jobs = lists.flatMap((checklist) => checklist.checks.map((check) => ({ checklist, check })))
  const outcomes: CheckOutcome[] = new Array(jobs.length)
  const start = now()
  const running = new Set<AbortController>()
  const onAbort = (): void => {
    for (const ctl of running) ctl.abort()
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await eachLimited(jobs, concurrency, async (job, i) => {
      const t0 = now()
      const r = await runOne(job.check, runHost, timeoutMs, opts.signal, running)
      outcomes[i] = { ...job, ...r, durationMs: now() - t0 }
    })
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
  const counts = { total: jobs.length, passed: 0, warning: 0, critical: 0, unknown: 0 }
  for (const o of outcomes) counts[o.status === 'passing' ? 'passed' : o.status]++
  return { outcomes, elapsedMs: now() - start, counts }
}
