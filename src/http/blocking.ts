import type { ApiRequest, BlockingParams } from './request.js'
import { blockingParams } from './request.js'
import type { ApiContext } from './context.js'
import { WatchSet } from '../state/watch.js'
import { LIMITS } from '../lib/limits.js'
import { noPathToDatacenter } from '../lib/errors.js'

/** One agent's blocking-query counters, for /v1/agent/self (an object per agent: several run in one process). */
export class BlockingCounters {
  /** Blocking queries waiting in their own loop here. */
  loops = 0
  /** Evaluations of blocking queries (with ?index): shows waiters sharing one. */
  evaluations = 0
  /** Followers parked in shared-waits.ts. */
  parked = 0
  /** Answers written from a leader's answer instead of an evaluation of their own. */
  shared = 0
}

/** When a wait of `params` that starts now ends: the wait plus up to wait/16 jitter, as Consul. */
export function blockingDeadline(params: BlockingParams): number {
  return Date.now() + params.waitMs + Math.random() * (params.waitMs / LIMITS.blockingJitterFraction)
}

/**
 * What a query function returns. Rules it must follow (as Consul's blockingquery.Query):
 * it reads only from the state store, registers a watch on everything it reads through the
 * WatchSet, and reports the index of exactly the data it returned, so that unrelated writes
 * do not change it.
 */
export interface QueryResult<T> {
  index: number
  value: T
}

/**
 * The one blocking-query loop every read endpoint uses. Without `?index` it answers at once.
 * With it, it answers as soon as the result's index passes the client's, or when the wait
 * (default 5m, max 10m, plus up to wait/16 jitter) runs out, or never if the client leaves.
 * Sets the response's X-Consul-* meta; the index is never 0. Identical requests arriving while
 * one waits do not get here until their turn: they wait on its answer (shared-waits.ts), which
 * is why it records on the request how it ended.
 */
export async function blockingQuery<T>(
  req: ApiRequest,
  ctx: ApiContext,
  query: (ws: WatchSet | undefined) => QueryResult<T>,
): Promise<T> {
  checkDatacenter(req, ctx)
  const params = blockingParams(req, { defaultWaitMs: ctx.limits.defaultQueryTimeMs, maxWaitMs: ctx.limits.maxQueryTimeMs })
  let result: QueryResult<T>
  if (params.minIndex === 0) {
    result = query(undefined)
  } else {
    const deadline = req.blockingDeadline ?? blockingDeadline(params)
    const evaluate = (ws: WatchSet | undefined): QueryResult<T> => {
      ctx.blocking.evaluations++
      return query(ws)
    }
    for (let first = true; ; first = false) {
      const ws = new WatchSet()
      result = evaluate(ws)
      const remaining = deadline - Date.now()
      if (result.index > params.minIndex) {
        req.blockingOutcome = first ? 'immediate' : 'changed'
        break
      }
      if (remaining <= 0) {
        req.blockingOutcome = 'timeout'
        break
      }
      ctx.blocking.loops++
      const outcome = await ws.wait(remaining, req.signal).finally(() => ctx.blocking.loops--)
      if (outcome === 'timeout') {
        result = evaluate(undefined)
        req.blockingOutcome = 'timeout'
        break
      }
      if (outcome === 'aborted') {
        req.blockingOutcome = 'aborted'
        break
      }
    }
  }
  req.meta = {
    index: Math.max(1, result.index),
    knownLeader: ctx.raft.leaderAddress() !== '',
    lastContactMs: ctx.raft.lastContactMs(),
    consistency: params.consistency === 'default' ? 'leader' : params.consistency,
  }
  return result.value
}

/**
 * `?dc=` naming another datacenter: WAN federation arrives later, so there is no path yet. A request
 * body's own `Datacenter` (catalog register/deregister) wins over `?dc=`, as in Consul.
 */
export function checkDatacenter(req: ApiRequest, ctx: ApiContext, bodyDatacenter?: unknown): void {
  const dc = typeof bodyDatacenter === 'string' && bodyDatacenter ? bodyDatacenter : req.param('dc')
  if (dc && dc !== ctx.datacenter) throw noPathToDatacenter()
}
