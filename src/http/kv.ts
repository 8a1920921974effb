import { encodeCommand } from '../state/commands.js'
import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { blockingQuery, checkDatacenter } from './blocking.js'
import { badRequest, HttpError } from '../lib/errors.js'
import { parseUint64 } from '../lib/uint64.js'
import { toJson } from '../lib/json.js'
import type { DirEntry } from '../state/kv.js'
import type { KvResultEntry } from '../state/store.js'
import type { KvOp } from '../state/commands.js'

const PREFIX = '/v1/kv/'

/**
 * A KVPair as Consul writes it, in its field order: Value in base64 or null (left out for txn
 * results of verbs that do not read), Session only while locked.
 */
export function kvPairJson(e: KvResultEntry): Record<string, unknown> {
  return {
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: e.Flags,
    ...('Value' in e ? { Value: e.Value && e.Value.length > 0 ? e.Value.toString('base64') : null } : {}),
    ...(e.Session ? { Session: e.Session } : {}),
    CreateIndex: e.CreateIndex,
    ModifyIndex: e.ModifyIndex,
  }
}

/** Entries never change once stored (a write replaces them), so their JSON is encoded once. */
const encoded = new WeakMap<DirEntry, string>()

function kvPairText(e: DirEntry): string {
  let text = encoded.get(e)
  if (text === undefined) encoded.set(e, (text = toJson(kvPairJson(e))))
  return text
}

/** The JSON array of KVPairs; compact output comes from the per-entry cache. */
function kvPairsReply(entries: readonly DirEntry[], pretty: boolean): unknown {
  if (pretty) return entries.map(kvPairJson)
  return new Reply(200, `[${entries.map(kvPairText).join(',')}]`)
}

export function registerKvRoutes(router: Router, ctx: ApiContext): void {
  router.prefix(PREFIX, {
    GET: (req) => (req.has('keys') ? getKeys(req, ctx) : getKv(req, ctx)),
    PUT: (req) => putKv(req, ctx),
    DELETE: (req) => deleteKv(req, ctx),
  })
}

function keyOf(req: ApiRequest): string {
  return req.path.slice(PREFIX.length)
}

async function getKv(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const key = keyOf(req)
  const recurse = req.has('recurse')
  if (!recurse && key === '') throw badRequest('Missing key name')
  const entries = await blockingQuery(req, ctx, (ws) => {
    if (recurse) {
      const { index, entries } = ctx.state.kvList(ws, key)
      return { index, value: entries }
    }
    const { index, entry } = ctx.state.kvGet(ws, key)
    return { index, value: entry ? [entry] : [] }
  })
  if (entries.length === 0) return Reply.empty(404)
  if (req.has('raw') && !recurse) return Reply.raw(entries[0]!.Value ?? Buffer.alloc(0))
  return kvPairsReply(entries, ctx.prettyByDefault || req.has('pretty'))
}

async function getKeys(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const prefix = keyOf(req)
  const separator = req.param('separator') ?? req.param('seperator') ?? ''
  const keys = await blockingQuery(req, ctx, (ws) => {
    const { index, keys } = ctx.state.kvKeys(ws, prefix, separator)
    return { index, value: keys }
  })
  // Consul answers [] for an empty root listing but 404 under a named prefix.
  if (keys.length === 0 && prefix !== '') return Reply.empty(404)
  return keys
}

/** Rejects combinations Consul rejects, with its message. */
function conflicting(req: ApiRequest, names: readonly string[]): void {
  if (names.filter((n) => req.has(n)).length > 1) throw badRequest(`Conflicting flags: ${req.query.toString()}\n`)
}

function uintParam(req: ApiRequest, name: string): string | undefined {
  const text = req.param(name)
  if (text === undefined) return undefined
  const value = parseUint64(text)
  if (value === undefined) throw badRequest(`Invalid ${name} value ${JSON.stringify(text)}: must be an unsigned 64-bit integer`)
  return String(value)
}

function indexParam(req: ApiRequest, name: string): number {
  const text = uintParam(req, name)
  const value = Number(text ?? 0)
  if (!Number.isSafeInteger(value)) throw badRequest(`Invalid ${name} index ${JSON.stringify(text)}`)
  return value
}

async function putKv(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const key = keyOf(req)
  if (key === '') throw badRequest('Missing key name')
  conflicting(req, ['cas', 'acquire', 'release'])
  const flags = uintParam(req, 'flags')
  const op: KvOp = { Verb: 'set', Key: key }
  if (flags !== undefined && flags !== '0') op.Flags = flags
  if (req.has('cas')) {
    op.Verb = 'cas'
    op.Index = indexParam(req, 'cas')
  }
  if (req.has('acquire')) {
    op.Verb = 'lock'
    op.Session = req.param('acquire')
  }
  if (req.has('release')) {
    op.Verb = 'unlock'
    op.Session = req.param('release')
  }
  const max = ctx.limits.kvMaxValueSize
  const body = await req.body(
    max,
    (size) => `Request body(${size} bytes) too large, max size: ${max} bytes. See the limits.kv_max_value_size option.`,
  )
  op.Value = body.length > 0 ? body.toString('base64') : null
  // Lock-delay is checked before the log, on leader time, as Consul's kvsPreApply does.
  if (op.Verb === 'lock' && ctx.state.kvLockDelayed(key)) return false
  const { response } = await ctx.raft.apply(encodeCommand({ Type: 'kvs', Op: op }))
  if (response instanceof Error) throw new HttpError(500, response.message)
  return op.Verb === 'set' ? true : response
}

async function deleteKv(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  checkDatacenter(req, ctx)
  const key = keyOf(req)
  conflicting(req, ['recurse', 'cas'])
  const op: KvOp = { Verb: 'delete', Key: key }
  if (req.has('recurse')) op.Verb = 'delete-tree'
  else if (key === '') throw badRequest('Missing key name')
  if (req.has('cas')) {
    op.Verb = 'delete-cas'
    op.Index = indexParam(req, 'cas')
  }
  const { response } = await ctx.raft.apply(encodeCommand({ Type: 'kvs', Op: op }))
  return op.Verb === 'delete-cas' ? response : true
}
