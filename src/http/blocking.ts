import type { ApiRequest } from './request.js'
import { blockingParams } from './request.js'
import type { ApiContext } from './context.js'
import { noPathToDatacenter } from '../lib/errors.js'
import type { CallContext, QueryMeta, QueryOptions, QueryReply } from '../server/types.js'

/**
 * A read's query options from its query string, with Consul's errors: ?dc, ?index, ?wait
 * (default 5m, max 10m: the server adds up to wait/16 jitter), ?stale or ?consistent, the token.
 */
export function queryOptions(req: ApiRequest, ctx: ApiContext): QueryOptions {
  checkDatacenter(req, ctx)
  const params = blockingParams(req, { defaultWaitMs: ctx.limits.defaultQueryTimeMs, maxWaitMs: ctx.limits.maxQueryTimeMs })
  const dc = req.param('dc')
  return { ...(dc ? { datacenter: dc } : {}), consistency: params.consistency, minQueryIndex: params.minIndex, maxQueryTimeMs: params.waitMs, token: req.token }
}

/**
 * Runs a server read for a request: its options from the query string, its call context (the
 * client's abort signal, the deadline shared waits gave it, the HTTP counters), and the reply's meta
 * into the X-Consul-* headers. Identical requests arriving while one waits do not get here until
 * their turn: they wait on its answer (shared-waits.ts), which is why the request records how
 * its blocking read ended.
 */
export async function serverRead<T>(req: ApiRequest, ctx: ApiContext, read: (opts: QueryOptions, call: CallContext) => Promise<QueryReply<T>>): Promise<T> {
  const call: CallContext = {
    // Made on first use, and only a call that waits uses it.
    get signal() {
      return req.signal
    },
    blockingDeadline: req.blockingDeadline,
    counters: ctx.blocking,
  }
  const reply = await read(queryOptions(req, ctx), call)
  setMeta(req, reply.meta)
  return reply.value
}

/** Records a reply's meta on the request: its headers, and how its blocking wait ended. */
export function setMeta(req: ApiRequest, meta: QueryMeta): void {
  req.meta = meta
  if (meta.outcome !== undefined) req.blockingOutcome = meta.outcome
}

/**
 * `?dc=` naming another datacenter: WAN federation arrives later, so there is no path yet. A request
 * body's own `Datacenter` (catalog register/deregister) wins over `?dc=`, as in Consul.
 */
export function checkDatacenter(req: ApiRequest, ctx: ApiContext, bodyDatacenter?: unknown): void {
  const dc = typeof bodyDatacenter === 'string' && bodyDatacenter ? bodyDatacenter : req.param('dc')
  if (dc && dc !== ctx.datacenter) throw noPathToDatacenter()
}
