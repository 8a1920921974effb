import type { ApiRequest } from './request.js'
import { blockingParams } from './request.js'
import type { ApiContext } from './context.js'
import { WatchSet } from '../state/watch.js'
import { LIMITS } from '../lib/limits.js'
import { noPathToDatacenter } from '../lib/errors.js'

/**
 * What a query function returns. Rules it must follow (as Consul's blockingquery.Query):
 * it reads only from the state store, registers a watch on everything it reads through the
 * WatchSet, and reports the index of exactly the data it returned, so that unrelated writes
 * do not change it.
 */
/** Blocking queries currently waiting in this process (a gauge for /v1/agent/self and tests). */
let waiting = 0
export function blockingQueriesWaiting(): number {
  return waiting
}

export interface QueryResult<T> {
  index: number
  value: T
}

/**
 * The one blocking-query loop every read endpoint uses. Without `?index` it answers at once.
 * With it, it answers as soon as the result's index passes the client's, or when the wait
 * (default 5m, max 10m, plus up to wait/16 jitter) runs out, or never if the client leaves.
 * Sets the response's X-Consul-* meta; the index is never 0.
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
    const jitter = Math.random() * (params.waitMs / LIMITS.blockingJitterFraction)
    const deadline = Date.now() + params.waitMs + jitter
    for (;;) {
      const ws = new WatchSet()
      result = query(ws)
      const remaining = deadline - Date.now()
      if (result.index > params.minIndex || remaining <= 0) break
      waiting++
      const outcome = await ws.wait(remaining, req.signal).finally(() => waiting--)
      if (outcome === 'timeout') {
        result = query(undefined)
        break
      }
      if (outcome === 'aborted') break
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
