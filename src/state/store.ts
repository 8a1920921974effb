import type { Uint64 } from '../lib/uint64.js'
import { parseUint64 } from '../lib/uint64.js'
import { KvTable, type DirEntry } from './kv.js'
import { WatchRegistry, WatchSet } from './watch.js'
import { KV_READ_VERBS, type KvOp } from './commands.js'

/** One result of a transaction: a KV entry (without its value for non-get verbs). */
export type TxnResult = { KV: KvResultEntry }
export type KvResultEntry = Omit<DirEntry, 'Value'> & { Value?: Buffer | null }
export interface TxnError {
  OpIndex: number
  What: string
}
export interface TxnOutcome {
  Results: TxnResult[] | null
  Errors: TxnError[] | null
}

/** A KV operation that failed a check; its message is Consul's. */
class KvOpError extends Error {}
/** A lock operation naming a session that does not exist: an error, not a plain `false`. */
export class InvalidSessionError extends KvOpError {}

/**
 * The replicated state. Only the FSM mutates it, in log order, with the log index; reads may
 * come from anywhere and register watches for blocking queries.
 */
export class StateStore {
  kv = new KvTable()
  readonly kvWatches = new WatchRegistry()
  /** Index of the last applied log entry. */
  lastIndex = 0

  // ---- reads -------------------------------------------------------------------------------

  kvGet(ws: WatchSet | undefined, key: string): { index: number; entry: DirEntry | undefined } {
    ws?.key(this.kvWatches, key)
    return { index: this.kv.keyIndex(key), entry: this.kv.get(key) }
  }

  kvList(ws: WatchSet | undefined, prefix: string): { index: number; entries: DirEntry[] } {
    ws?.prefix(this.kvWatches, prefix)
    return { index: this.kv.prefixIndex(prefix), entries: this.kv.list(prefix) }
  }

  kvKeys(ws: WatchSet | undefined, prefix: string, separator: string): { index: number; keys: string[] } {
    ws?.prefix(this.kvWatches, prefix)
    return { index: this.kv.prefixIndex(prefix), keys: this.kv.keys(prefix, separator) }
  }

  // ---- writes (FSM only) --------------------------------------------------------------------

  /**
   * Applies one KV operation outside a transaction; returns Consul's boolean answer, or an
   * InvalidSessionError that the endpoint reports as a server error, as Consul does.
   */
  kvApply(index: number, op: KvOp): boolean | InvalidSessionError {
    const changed: string[] = []
    let ok: boolean | InvalidSessionError
    try {
      this.#kvOp(index, op, changed)
      ok = true
    } catch (err) {
      if (!(err instanceof KvOpError)) throw err
      ok = err instanceof InvalidSessionError ? err : false
    }
    this.lastIndex = index
    this.kvWatches.notify(changed)
    return ok
  }

  /** Applies a transaction atomically: all operations, or none when one fails. */
  txnApply(index: number, ops: readonly KvOp[]): TxnOutcome {
    const before = this.kv.clone()
    const changed: string[] = []
    const results: TxnResult[] = []
    const errors: TxnError[] = []
    ops.forEach((op, opIndex) => {
      try {
        for (const entry of this.#kvOp(index, op, changed)) results.push({ KV: entry })
      } catch (err) {
        if (!(err instanceof KvOpError)) throw err
        errors.push({ OpIndex: opIndex, What: err.message })
      }
    })
    this.lastIndex = index
    if (errors.length > 0) {
      this.kv = before
      return { Results: null, Errors: errors }
    }
    this.kvWatches.notify(changed)
    return { Results: results, Errors: null }
  }

  /** Runs a read-only transaction against the current state (no log entry). */
  txnRead(ops: readonly KvOp[]): { index: number; outcome: TxnOutcome } {
    if (!ops.every((op) => KV_READ_VERBS.has(op.Verb))) throw new Error('txnRead: write verb in a read-only txn')
    return { index: this.lastIndex, outcome: this.txnApply(this.lastIndex, ops) }
  }

  /** Executes one op; returns the result entries; throws KvOpError when a check fails. */
  #kvOp(index: number, op: KvOp, changed: string[]): KvResultEntry[] {
    const { Key: key } = op
    const kv = this.kv
    switch (op.Verb) {
      case 'set':
        kv.set(index, key, decodeValue(op.Value), decodeFlags(op.Flags))
        changed.push(key)
        return [withoutValue(kv.get(key)!)]
      case 'cas':
        if (!kv.casMatches(key, op.Index ?? 0)) throw new KvOpError(`failed to set key "${key}", index is stale`)
        kv.set(index, key, decodeValue(op.Value), decodeFlags(op.Flags))
        changed.push(key)
        return [withoutValue(kv.get(key)!)]
      case 'lock':
      case 'unlock':
      case 'check-session':
        // Sessions arrive with the catalog; until then no session can be valid.
        throw new InvalidSessionError(`invalid session "${op.Session ?? ''}"`)
      case 'get': {
        const entry = kv.get(key)
        if (!entry) throw new KvOpError(`key "${key}" doesn't exist`)
        return [entry]
      }
      case 'get-or-empty': {
        const entry = kv.get(key)
        return entry ? [entry] : []
      }
      case 'get-tree':
        return kv.list(key)
      case 'check-index': {
        const entry = kv.get(key)
        if (!entry) throw new KvOpError(`key "${key}" doesn't exist`)
        if (entry.ModifyIndex !== (op.Index ?? 0))
          throw new KvOpError(`current modify index ${entry.ModifyIndex} for key "${key}" does not match index ${op.Index ?? 0}`)
        return [withoutValue(entry)]
      }
      case 'check-not-exists':
        if (kv.get(key)) throw new KvOpError(`key "${key}" exists`)
        return []
      case 'delete':
        if (kv.delete(index, key)) changed.push(key)
        return []
      case 'delete-tree':
        changed.push(...kv.deleteTree(index, key))
        return []
      case 'delete-cas': {
        const want = op.Index ?? 0
        const entry = kv.get(key)
        if (!entry || entry.ModifyIndex !== want) throw new KvOpError(`failed to delete key "${key}", index is stale`)
        kv.delete(index, key)
        changed.push(key)
        return []
      }
      default:
        throw new KvOpError(`unknown KV verb "${(op as { Verb: string }).Verb}"`)
    }
  }
}

function withoutValue(entry: DirEntry): KvResultEntry {
  const { Value: _value, ...rest } = entry
  return rest
}

function decodeValue(value: string | null | undefined): Buffer | null {
  return value === null || value === undefined ? null : Buffer.from(value, 'base64')
}

function decodeFlags(flags: string | undefined): Uint64 {
  return flags === undefined ? 0 : (parseUint64(flags) ?? 0)
}
