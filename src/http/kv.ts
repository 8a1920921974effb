import type { Router } from './router.js'
import type { ApiContext } from './context.js'
import type { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { checkDatacenter, serverRead, withOptions } from './blocking.js'
import { badRequest, HttpError } from '../lib/errors.js'
import { parseUint64 } from '../lib/uint64.js'
import { toJson } from '../lib/json.js'
import type { KvResultEntry } from '../state/store.js'
import type { KvOp } from '../state/commands.js'
import type { KvEntry } from '../server/kvs-endpoint.js'
import { RejectedError } from '../server/errors.js'

const PREFIX = '/v1/kv/'

/** Bytes as a Buffer without copying (a reply's value is a Uint8Array once it has crossed a process). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * A KVPair as Consul writes it, in its field order: Value in base64 or null (left out for txn
 * results of verbs that do not read), Session only while locked. Txn results carry their value
 * in base64 already; reads carry bytes.
 */
export function kvPairJson(e: KvResultEntry | KvEntry): Record<string, unknown> {
  return {
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: e.Flags,
    ...('Value' in e ? { Value: base64Value(e.Value) } : {}),
    ...(e.Session ? { Session: e.Session } : {}),
    CreateIndex: e.CreateIndex,
    ModifyIndex: e.ModifyIndex,
  }
}

function base64Value(value: Uint8Array | string | null | undefined): string | null {
  if (typeof value === 'string') return value === '' ? null : value
  return value && value.length > 0 ? asBuffer(value).toString('base64') : null
}

/** Entries never change once stored (a write replaces them), so their JSON is encoded once. */
const encoded = new WeakMap<KvEntry, string>()

function kvPairText(e: KvEntry): string {
  let text = encoded.get(e)
  if (text === undefined) encoded.set(e, (text = toJson(kvPairJson(e))))
  return text
}

/** The JSON array of KVPairs; compact output comes from the per-entry cache. */
function kvPairsReply(entries: readonly KvEntry[], pretty: boolean): unknown {
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
  const { kvs } = ctx.server
  const entries = await serverRead(req, ctx, (opts, call) => (recurse ? kvs.list(withOptions({ prefix: key }, opts), call) : kvs.get(withOptions({ key }, opts), call)))
  if (entries.length === 0) return Reply.empty(404)
  if (req.has('raw') && !recurse) {
    const value = entries[0]!.Value
    return Reply.raw(value ? asBuffer(value) : Buffer.alloc(0))
  }
  return kvPairsReply(entries, ctx.prettyByDefault || req.has('pretty'))
}

async function getKeys(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const prefix = keyOf(req)
  const separator = req.param('separator') ?? req.param('seperator') ?? ''
  const keys = await serverRead(req, ctx, (opts, call) => ctx.server.kvs.listKeys(withOptions({ prefix, separator }, opts), call))
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
  const datacenter = checkDatacenter(req, ctx)
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
  const { value } = await ctx.server.kvs.apply({ op, datacenter, token: req.token }).catch(serverError)
  return op.Verb === 'set' ? true : value
}

/** A lock naming an unknown session is a server error, as in Consul. */
function serverError(err: unknown): never {
  if (err instanceof RejectedError) throw new HttpError(500, err.message)
  throw err
}

async function deleteKv(req: ApiRequest, ctx: ApiContext): Promise<unknown> {
  const datacenter = checkDatacenter(req, ctx)
  const key = keyOf(req)
  conflicting(req, ['recurse', 'cas'])
  const op: KvOp = { Verb: 'delete', Key: key }
  if (req.has('recurse')) op.Verb = 'delete-tree'
  else if (key === '') throw badRequest('Missing key name')
  if (req.has('cas')) {
    op.Verb = 'delete-cas'
    op.Index = indexParam(req, 'cas')
  }
  const { value } = await ctx.server.kvs.apply({ op, datacenter, token: req.token }).catch(serverError)
  return op.Verb === 'delete-cas' ? value : true
}
