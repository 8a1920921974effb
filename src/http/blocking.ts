import type { ApiRequest } from './request.js'
import { blockingParams } from './request.js'
import type { ApiContext } from './context.js'
import { badRequest, noPathToDatacenter } from '../lib/errors.js'
import { field } from '../lib/json.js'
import { readJsonBody } from './body.js'
import type { CallContext, QueryMeta, QueryOptions, QueryReply } from '../server/types.js'
import type { BlockingCounters } from '../server/blocking.js'
import type { QuerySource } from '../server/rtt.js'

/**
 * The body of a write that names a node (catalog register and deregister, coordinate update): its
 * datacenter (the body's `Datacenter` over `?dc=`) and its `Node`, which must be there, as Consul's.
 */
export async function nodeWriteBody(req: ApiRequest, ctx: ApiContext): Promise<{ body: unknown; datacenter: string | undefined; node: string }> {
  const body = await readJsonBody(req)
  const datacenter = checkDatacenter(req, ctx, field(body, 'Datacenter'))
  const node = field(body, 'Node')
  if (typeof node !== 'string' || !node) throw badRequest('Must provide node')
  return { body, datacenter, node }
}

/** `?near=<node>|_agent`: the node to sort by round trip from (in this agent's datacenter), or none. */
export function nearSource(req: ApiRequest, ctx: ApiContext): QuerySource | undefined {
  const near = req.param('near')
  if (!near) return undefined
  return { node: near === '_agent' ? ctx.nodeName : near, datacenter: ctx.datacenter }
}

/**
 * A read's query options from its query string, with Consul's errors: ?dc, ?index, ?wait
 * (default 5m, max 10m: the server adds up to wait/16 jitter), ?stale or ?consistent, the token.
 */
export function queryOptions(req: ApiRequest, ctx: ApiContext): QueryOptions {
  checkDatacenter(req, ctx)
  const params = blockingParams(req, { defaultWaitMs: ctx.limits.defaultQueryTimeMs, maxWaitMs: ctx.limits.maxQueryTimeMs })
  const dc = req.param('dc')
  const opts: QueryOptions = { consistency: params.consistency, minQueryIndex: params.minIndex, maxQueryTimeMs: params.waitMs, token: req.token, maxStaleMs: params.maxStaleMs }
  if (dc) opts.datacenter = dc
  return opts
}

/**
 * A server request: a handler's own arguments plus the query options. Not `{ ...opts, key }`:
 * optimised, that literal gets a new hidden class on every call (V8 in Node 20), and those live in
 * old space pointing at the request's young objects, so every scavenge kept and promoted them
 * (5x the GC time of a GET and a third of its throughput under load).
 */
export function withOptions<A extends object>(args: A, opts: QueryOptions): A & QueryOptions {
  return Object.assign({}, args, opts)
}

/**
 * A read's call context over its HTTP request. A class, not an object literal with a getter:
 * such a literal is a dictionary-mode object per request, and the same GC cost as above.
 */
class HttpCall implements CallContext {
  readonly #req: ApiRequest
  readonly blockingDeadline: number | undefined
  readonly counters: BlockingCounters

  constructor(req: ApiRequest, counters: BlockingCounters) {
    this.#req = req
    this.blockingDeadline = req.blockingDeadline
    this.counters = counters
  }

  /** Made on first use, and only a call that waits uses it. */
  get signal(): AbortSignal {
    return this.#req.signal
  }
}

/**
 * Runs a server read for a request: its options from the query string, its call context (the
 * client's abort signal, the deadline shared waits gave it, the HTTP counters), and the reply's meta
 * into the X-Consul-* headers. Identical requests arriving while one waits do not get here until
 * their turn: they wait on its answer (shared-waits.ts), which is why the request records how
 * its blocking read ended.
 */
export async function serverRead<T>(req: ApiRequest, ctx: ApiContext, read: (opts: QueryOptions, call: CallContext) => Promise<QueryReply<T>>): Promise<T> {
  const reply = await read(queryOptions(req, ctx), new HttpCall(req, ctx.blocking))
  setMeta(req, reply.meta)
  return reply.value
}

/** Records a reply's meta on the request: its headers, and how its blocking wait ended. */
export function setMeta(req: ApiRequest, meta: QueryMeta): void {
  req.meta = meta
  if (meta.outcome !== undefined) req.blockingOutcome = meta.outcome
}

/**
 * The datacenter a request names with `?dc=` (a request body's own `Datacenter`, as in catalog
 * register/deregister, wins, as in Consul): undefined for this one, Consul's 500 `No path to
 * datacenter` for one no server knows of. The endpoint layer sends the request there.
 */
export function checkDatacenter(req: ApiRequest, ctx: ApiContext, bodyDatacenter?: unknown): string | undefined {
  const dc = typeof bodyDatacenter === 'string' && bodyDatacenter ? bodyDatacenter : req.param('dc')
  if (!dc || dc === ctx.datacenter) return undefined
  if (!ctx.knowsDatacenter(dc)) throw noPathToDatacenter()
  return dc
}
