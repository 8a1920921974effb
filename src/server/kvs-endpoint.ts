/**
 * KVS.* and Txn.* (Consul's agent/consul/kvs_endpoint.go and txn_endpoint.go).
 */
import type { KvOp } from '../state/commands.js'
import { KV_READ_VERBS } from '../state/commands.js'
import type { DirEntry } from '../state/kv.js'
import type { TxnOutcome } from '../state/store.js'
import type { EndpointCore } from './core.js'
import type { CallContext, QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

/**
 * A KV entry as reads return it: the stored entry itself (entries are never changed in place, so
 * callers may cache per entry). Its value is bytes: a Buffer here, a Uint8Array once it has been
 * through structured clone or msgpack.
 */
export type KvEntry = Omit<DirEntry, 'Value'> & { readonly Value: Uint8Array | null }

export interface KvsApplyRequest extends WriteOptions {
  op: KvOp
}

export interface KeyRequest extends QueryOptions {
  key: string
}

export interface KeyListRequest extends QueryOptions {
  prefix: string
  /** ListKeys: roll keys up to the first separator after the prefix. */
  separator?: string
}

export interface TxnRequest extends WriteOptions {
  ops: KvOp[]
}

export interface TxnReadRequest extends QueryOptions {
  ops: KvOp[]
}

/** Whether a transaction only reads: then it needs no log entry (Consul's Txn.Read). The one place this is decided. */
export function isReadOnlyTxn(ops: readonly KvOp[]): boolean {
  return ops.every((op) => KV_READ_VERBS.has(op.Verb))
}

export class KvsEndpoint {
  constructor(readonly core: EndpointCore) {}

  /**
   * One KV write. Lock-delay is checked before the log, on the leader's clock (Consul's
   * kvsPreApply): a delayed lock answers false without a log entry. The value is the state
   * machine's boolean (true for set and delete, the outcome for cas, lock, unlock, delete-cas).
   */
  async apply(req: KvsApplyRequest): Promise<WriteReply<boolean>> {
    const { core } = this
    core.checkDatacenter(req.datacenter)
    const forwarded = core.forwardUnlessLeader<WriteReply<boolean>>('KVS.Apply', req)
    if (forwarded) return forwarded
    if (req.op.Verb === 'lock' && core.state.kvLockDelayed(req.op.Key)) return { index: core.state.lastIndex, value: false }
    return core.apply<boolean>({ Type: 'kvs', Op: req.op })
  }

  /** The entry at `key`: a list of one, or empty. */
  get(req: KeyRequest, call?: CallContext): Promise<QueryReply<KvEntry[]>> {
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      const { index, entry } = state.kvGet(ws, req.key)
      return { index, value: entry ? [entry] : [] }
    })
  }

  /** Every entry under `prefix`, in key order. */
  list(req: KeyListRequest, call?: CallContext): Promise<QueryReply<KvEntry[]>> {
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      const { index, entries } = state.kvList(ws, req.prefix)
      return { index, value: entries }
    })
  }

  /** The keys under `prefix`, rolled up at `separator`. */
  listKeys(req: KeyListRequest, call?: CallContext): Promise<QueryReply<string[]>> {
    const { state } = this.core
    return this.core.read(req, call, (ws) => {
      const { index, keys } = state.kvKeys(ws, req.prefix, req.separator ?? '')
      return { index, value: keys }
    })
  }
}

export class TxnEndpoint {
  constructor(readonly core: EndpointCore) {}

  /** A transaction with at least one write, through the log: all of it applies, or none. */
  async apply(req: TxnRequest): Promise<WriteReply<TxnOutcome>> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<WriteReply<TxnOutcome>>('Txn.Apply', req)
    if (forwarded) return forwarded
    return this.core.apply<TxnOutcome>({ Type: 'txn', Ops: req.ops.map((KV) => ({ KV })) })
  }

  /** A read-only transaction, answered from the state without a log entry. */
  read(req: TxnReadRequest): Promise<QueryReply<TxnOutcome>> {
    if (!isReadOnlyTxn(req.ops)) return Promise.reject(new Error('Txn.Read: a write verb in a read-only transaction'))
    return this.core.readOnce(req, () => {
      const { index, outcome } = this.core.state.txnRead(req.ops)
      return { index, value: outcome }
    })
  }
}
