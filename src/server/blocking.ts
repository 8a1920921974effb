/**
 * The one server-side blocking-query loop (Consul's agent/blockingquery Query). Every read
 * endpoint runs its query function through it; the HTTP layer only parses ?index/?wait and
 * writes headers, and its shared waits (http/shared-waits.ts) sit on top.
 */
import type { Clock } from '../lib/clock.js'
import { LIMITS } from '../lib/limits.js'
import { WatchSet } from '../state/watch.js'
import type { BlockingOutcome, CallContext } from './types.js'

/** One agent's blocking-query counters, for /v1/agent/self (an object per agent: several run in one process). */
export class BlockingCounters {
  /** Blocking queries waiting in their own loop here. */
  loops = 0
  /** Evaluations of blocking queries (with a minimum index): shows waiters sharing one. */
  evaluations = 0
  /** Followers parked in the HTTP layer's shared waits. */
  parked = 0
  /** HTTP answers written from a leader's answer instead of an evaluation of their own. */
  shared = 0
}

/** When a wait of `waitMs` that starts at `nowMs` ends: the wait plus up to wait/16 jitter, as Consul. */
export function queryDeadline(nowMs: number, waitMs: number, random: () => number): number {
  return nowMs + waitMs + random() * (waitMs / LIMITS.blockingJitterFraction)
}

/**
 * What a query function returns. Rules it must follow (as Consul's blockingquery.Query): it
 * reads only from the state store, registers a watch on everything it reads through the
 * WatchSet (undefined when nothing will wait), and reports the index of exactly the data it
 * returned, so that unrelated writes do not change it. It may throw (NotFoundError, ...): the
 * error is the call's answer.
 */
export interface QueryResult<T> {
  index: number
  value: T
  /** Something was left out because the caller's token may not read it. */
  filtered?: boolean
}

export type QueryFn<T> = (ws: WatchSet | undefined) => QueryResult<T>

export interface BlockingEnv {
  clock: Clock
  /** [0, 1) source for the deadline jitter. */
  random: () => number
}

/** Where calls without counters of their own count: nowhere anyone reads. */
const UNCOUNTED = (): BlockingCounters => new BlockingCounters()

export interface BlockingArgs {
  minQueryIndex: number
  maxQueryTimeMs: number
  /** Runs before every evaluation (the read barrier of a consistent read); may return a promise to wait for. */
  beforeEvaluate?: () => Promise<void> | undefined
}

/**
 * Without a minimum index, evaluates once. With one, evaluates until the result's index passes
 * it, or the wait (plus jitter) runs out, or the caller's signal aborts; a timeout re-evaluates
 * once more so the answer is current. Reports how the wait ended (shared waits need it).
 */
export async function runBlockingQuery<T>(
  env: BlockingEnv,
  args: BlockingArgs,
  call: CallContext | undefined,
  query: QueryFn<T>,
): Promise<{ result: QueryResult<T>; outcome: BlockingOutcome | undefined }> {
  const barrier = args.beforeEvaluate
  if (args.minQueryIndex === 0) {
    const wait = barrier?.()
    if (wait) await wait
    return { result: query(undefined), outcome: undefined }
  }
  const { clock } = env
  const counters = call?.counters ?? UNCOUNTED()
  const deadline = call?.blockingDeadline ?? queryDeadline(clock.now(), args.maxQueryTimeMs, env.random)
  for (let first = true; ; first = false) {
    const wait = barrier?.()
    if (wait) await wait
    const ws = new WatchSet(clock)
    counters.evaluations++
    const result = query(ws)
    const remaining = deadline - clock.now()
    if (result.index > args.minQueryIndex) return { result, outcome: first ? 'immediate' : 'changed' }
    if (remaining <= 0) return { result, outcome: 'timeout' }
    counters.loops++
    let outcome
    try {
      outcome = await ws.wait(remaining, call?.signal)
    } finally {
      counters.loops--
    }
    if (outcome === 'timeout') {
      const again = barrier?.()
      if (again) await again
      counters.evaluations++
      return { result: query(undefined), outcome: 'timeout' }
    }
    if (outcome === 'aborted') return { result, outcome: 'aborted' }
  }
}
