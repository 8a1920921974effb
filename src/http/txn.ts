import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { checkDatacenter, queryOptions, setMeta, withOptions } from './blocking.js'
import { badRequest, tooLarge } from '../lib/errors.js'
import { field, parseJson, toJson } from '../lib/json.js'
import { toUint64 } from '../lib/uint64.js'
import { LIMITS } from '../lib/limits.js'
import type { KvOp, KvVerb } from '../state/commands.js'
import { isReadOnlyTxn } from '../server/kvs-endpoint.js'
import type { TxnOutcome } from '../state/store.js'
import { kvPairJson } from './kv.js'

export function registerTxnRoutes(router: Router, ctx: ApiContext): void {
  router.exact('/v1/txn', { PUT: (req) => txn(req, ctx) })
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Turns one `{"KV": {...}}` element into a KvOp, or says exactly what is wrong with it. */
function parseOp(raw: unknown, at: number): KvOp {
  const kv = field(raw, 'KV')
  if (kv === undefined || kv === null || typeof kv !== 'object') {
    const kind = ['Node', 'Service', 'Check'].find((k) => field(raw, k) !== undefined)
    throw badRequest(
      kind
        ? `Failed to parse body: operation ${at}: ${kind} operations are not available on this agent yet`
        : `Failed to parse body: operation ${at} has no KV member`,
    )
  }
  const verb = field(kv, 'Verb')
  const key = field(kv, 'Key') ?? ''
  if (typeof verb !== 'string' || typeof key !== 'string') throw badRequest(`Failed to parse body: operation ${at}: Verb and Key must be strings`)
  const op: KvOp = { Verb: verb as KvVerb, Key: key }
  const value = field(kv, 'Value')
  if (value !== undefined && value !== null) {
    if (typeof value !== 'string' || !BASE64.test(value)) throw badRequest(`Failed to parse body: operation ${at}: Value must be base64`)
    op.Value = value === '' ? null : value
  }
  const flags = field(kv, 'Flags')
  if (flags !== undefined && flags !== null) {
    const parsed = toUint64(flags)
    if (parsed === undefined) throw badRequest(`Failed to parse body: operation ${at}: Flags must be an unsigned 64-bit integer`)
    if (parsed !== 0) op.Flags = String(parsed)
  }
  const index = field(kv, 'Index')
  if (index !== undefined && index !== null) {
    const parsed = toUint64(index)
    if (parsed === undefined || typeof parsed === 'bigint') throw badRequest(`Failed to parse body: operation ${at}: Index must be an unsigned integer`)
    op.Index = parsed
  }
  const session = field(kv, 'Session')
  if (typeof session === 'string' && session) op.Session = session
  return op
}

async function txn(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const max = ctx.limits.txnMaxReqLen
  const body = await req.body(max, (size) => `Request body(${size} bytes) too large, max size: ${max} bytes. See the limits.txn_max_req_len option.`)
  let parsed: unknown
  try {
    parsed = parseJson(body.toString('utf8'))
  } catch (err) {
    throw badRequest(`Failed to parse body: ${(err as Error).message}`)
  }
  if (!Array.isArray(parsed)) throw badRequest('Failed to parse body: a transaction is a JSON array of operations')
  if (parsed.length > LIMITS.txnMaxOps) throw tooLarge(`Transaction contains too many operations (${parsed.length} > ${LIMITS.txnMaxOps})`)
  const ops = parsed.map(parseOp)

  let outcome: TxnOutcome
  // Read-only transactions need no log entry (Consul's Txn.Read): a read with the query options.
  if (isReadOnlyTxn(ops)) {
    const { minQueryIndex: _index, maxQueryTimeMs: _wait, ...opts } = queryOptions(req, ctx)
    const reply = await ctx.server.txn.read(withOptions({ ops }, opts))
    setMeta(req, reply.meta)
    outcome = reply.value
  } else {
    outcome = (await ctx.server.txn.apply({ ops, datacenter, token: req.token })).value
  }
  const payload = {
    Results: outcome.Results ? outcome.Results.map((r) => ({ KV: kvPairJson(r.KV) })) : null,
    Errors: outcome.Errors,
  }
  return new Reply(outcome.Errors ? 409 : 200, toJson(payload, ctx.prettyByDefault || req.has('pretty')))
}
