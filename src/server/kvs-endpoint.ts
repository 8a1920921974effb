/**
 * KVS.* and Txn.* (Consul's agent/consul/kvs_endpoint.go and txn_endpoint.go).
 */
import type { KvOp } from '../state/commands.js'
import { KV_READ_VERBS } from '../state/commands.js'
import type { DirEntry } from '../state/kv.js'
import type { TxnOutcome } from '../state/store.js'
import type { EndpointCore } from './core.js'
import { denied, type AclGate } from './acl-gate.js'
import type { Identity } from '../acl/resolver.js'
import { PermissionDeniedError } from '../acl/errors.js'
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

/**
 * What one KV operation needs (Consul's kvsPreApply): a recursive delete, write on everything
 * under its prefix; the checks that reveal a key's state, read; reads are filtered on the way out;
 * every other verb, write. Throws PermissionDeniedError.
 */
export function authorizeKvOp(gate: AclGate, who: Identity, op: KvOp): void {
  switch (op.Verb) {
    case 'delete-tree':
      if (!who.authorizer.keyWritePrefix(op.Key)) throw denied(who, 'key', op.Key, 'write')
      return
    case 'get':
    case 'get-tree':
    case 'get-or-empty':
      return
    case 'check-index':
    case 'check-session':
    case 'check-not-exists':
      gate.require(who, 'key', op.Key, 'read')
      return
    default:
      gate.require(who, 'key', op.Key, 'write')
  }
}

/** A transaction's ACL refusals, one error per operation the token may not run (Consul answers them as the transaction's errors). */
function txnDenials(gate: AclGate, token: string | undefined, ops: readonly KvOp[]): { who: Identity; outcome?: TxnOutcome } {
  const who = gate.identity(token)
  if (who.authorizer.isManagement) return { who }
  const errors: NonNullable<TxnOutcome['Errors']> = []
  ops.forEach((op, i) => {
    try {
      authorizeKvOp(gate, who, op)
    } catch (err) {
      if (!(err instanceof PermissionDeniedError)) throw err
      errors.push({ OpIndex: i, What: err.message })
    }
  })
  return errors.length ? { who, outcome: { Results: null, Errors: errors } } : { who }
}

/** Results of reads the token may not see are left out (Consul's FilterTxnResults). */
function filterTxnResults(gate: AclGate, who: Identity, outcome: TxnOutcome): TxnOutcome {
  if (!outcome.Results || who.authorizer.isManagement) return outcome
  const { items } = gate.filter(who, 'key', outcome.Results, (r) => r.KV.Key)
  return { ...outcome, Results: items }
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
    authorizeKvOp(core.acl, core.acl.identity(req.token), req.op)
    if (req.op.Verb === 'lock' && core.state.kvLockDelayed(req.op.Key)) return { index: core.state.lastIndex, value: false }
    return core.apply<boolean>({ Type: 'kvs', Op: req.op })
  }

  /** The entry at `key`: a list of one, or empty. */
  get(req: KeyRequest, call?: CallContext): Promise<QueryReply<KvEntry[]>> {
    const { state, acl } = this.core
    // The token is checked in the evaluation: on a follower, after the read barrier.
    return this.core.read(req, call, (ws) => {
      if (acl.enabled) acl.authorize(req.token, 'key', req.key, 'read')
      const { index, entry } = state.kvGet(ws, req.key)
      return { index, value: entry ? [entry] : [] }
    })
  }

  /** Every entry under `prefix`, in key order (with ACLs, those the token may read). */
  list(req: KeyListRequest, call?: CallContext): Promise<QueryReply<KvEntry[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      this.#mayList(who, req.prefix)
      const { index, entries } = state.kvList(ws, req.prefix)
      if (!who) return { index, value: entries }
      const { items, filtered } = acl.filter(who, 'key', entries, (e) => e.Key)
      return { index, value: items, filtered }
    })
  }

  /** The keys under `prefix`, rolled up at `separator` (with ACLs, those the token may read). */
  listKeys(req: KeyListRequest, call?: CallContext): Promise<QueryReply<string[]>> {
    const { state, acl } = this.core
    return this.core.readAs(req, call, (ws, who) => {
      this.#mayList(who, req.prefix)
      const { index, keys } = state.kvKeys(ws, req.prefix, req.separator ?? '')
      if (!who) return { index, value: keys }
      const { items, filtered } = acl.filter(who, 'key', keys, (k) => k)
      return { index, value: items, filtered }
    })
  }

  /** A recursive read (with a caller to filter for) takes `list` on the prefix under enable_key_list_policy. */
  #mayList(who: Identity | undefined, prefix: string): void {
    if (who && this.core.acl.settings.enableKeyListPolicy && !who.authorizer.allowed('key', prefix, 'list')) throw denied(who, 'key', prefix, 'list')
  }
}

export class TxnEndpoint {
  constructor(readonly core: EndpointCore) {}

  /** A transaction with at least one write, through the log: all of it applies, or none. */
  async apply(req: TxnRequest): Promise<WriteReply<TxnOutcome>> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<WriteReply<TxnOutcome>>('Txn.Apply', req)
    if (forwarded) return forwarded
    const { who, outcome } = txnDenials(this.core.acl, req.token, req.ops)
    if (outcome) return { index: this.core.state.lastIndex, value: outcome }
    const reply = await this.core.apply<TxnOutcome>({ Type: 'txn', Ops: req.ops.map((KV) => ({ KV })) })
    return { index: reply.index, value: filterTxnResults(this.core.acl, who, reply.value) }
  }

  /** A read-only transaction, answered from the state without a log entry. */
  read(req: TxnReadRequest): Promise<QueryReply<TxnOutcome>> {
    if (!isReadOnlyTxn(req.ops)) return Promise.reject(new Error('Txn.Read: a write verb in a read-only transaction'))
    return this.core.readOnce(req, () => {
      // After the barrier on a follower, as every read checks its token.
      const { who, outcome: refused } = txnDenials(this.core.acl, req.token, req.ops)
      if (refused) return { index: this.core.state.lastIndex, value: refused }
      const { index, outcome } = this.core.state.txnRead(req.ops)
      return { index, value: filterTxnResults(this.core.acl, who, outcome) }
    })
  }
}
