import type { Uint64 } from '../lib/uint64.js'
import { parseUint64 } from '../lib/uint64.js'
import { KvTable, type DirEntry } from './kv.js'
import { WatchRegistry, WatchSet } from './watch.js'
import { KV_READ_VERBS, type KvOp, type RegisterCommand, type DeregisterCommand, type SessionCreateCommand } from './commands.js'
import { CatalogTables } from './catalog.js'
import { SessionTables, type SessionRecord } from './sessions.js'
import { QueryTables } from './queries.js'
import type { CoordinateBatchCommand, QueryCommand } from './commands.js'
import { CoordinateTable } from './coordinates.js'
import { AclTables } from './acl.js'
import type { AclCommand } from './commands.js'

/**
 * One result of a transaction: a KV entry, its value in base64 (null when empty) for the verbs
 * that read and left out for the others. Plain data, as every FSM result: the leader answers
 * with what it applied from the log, and a follower computes the same.
 */
export type TxnResult = { KV: KvResultEntry }
export type KvResultEntry = Omit<DirEntry, 'Value'> & { Value?: string | null }
export interface TxnError {
  OpIndex: number
  What: string
}
export interface TxnOutcome {
  Results: TxnResult[] | null
  Errors: TxnError[] | null
}

/**
 * A write the FSM refused, as plain data (no Error instance crosses the log boundary):
 * `invalid-session` for a lock naming a session that does not exist (an error, not a plain
 * `false`), `rejected` for a catalog, session or query write it would not apply. The endpoint
 * layer turns it into its error; the message is Consul's.
 */
export interface StateFailure {
  error: { kind: StateFailureKind; message: string }
}
export type StateFailureKind = 'invalid-session' | 'rejected'

export function isStateFailure(value: unknown): value is StateFailure {
  const error = (value as { error?: { kind?: unknown } } | null | undefined)?.error
  return typeof error === 'object' && error !== null && typeof error.kind === 'string'
}

const failure = (kind: StateFailureKind, message: string): StateFailure => ({ error: { kind, message } })

/** A KV operation that failed a check (control flow inside the store only); its message is Consul's. */
class KvOpError extends Error {}
/** A lock operation naming a session that does not exist. */
class InvalidSessionError extends KvOpError {}

/**
 * The replicated state. Only the FSM mutates it, in log order, with the log index; reads may
 * come from anywhere and register watches for blocking queries.
 */
export class StateStore {
  kv = new KvTable()
  catalog = new CatalogTables()
  sessions = new SessionTables()
  queries = new QueryTables()
  coordinates = new CoordinateTable()
  acl = new AclTables()
  readonly kvWatches = new WatchRegistry()
  /** Watch keys: `nodes`, `services`, `checks`, `service:<name>`, `node:<name>`, `sessions`, `coordinates`. */
  readonly catalogWatches = new WatchRegistry()
  /** Index of the last applied log entry. */
  lastIndex = 0
  /** This cluster's identity: set once by its first leader, kept in snapshots ("" until then). */
  clusterId = ''
  /**
   * Keys whose lock was lost with a session, and until when (wall-clock ms) no one may take
   * them. Like Consul, this is leader-local time and not part of the replicated state.
   */
  readonly lockDelays = new Map<string, number>()

  constructor(readonly now: () => number = Date.now) {}

  // ---- KV reads ----------------------------------------------------------------------------

  kvGet(ws: WatchSet | undefined, key: string): { index: number; entry: DirEntry | undefined } {
    ws?.key(this.kvWatches, key)
    // One tree lookup, not two: a present key's index is its ModifyIndex (keyIndex).
    const entry = this.kv.get(key)
    return { index: entry ? entry.ModifyIndex : this.kv.keyIndex(key), entry }
  }

  kvList(ws: WatchSet | undefined, prefix: string): { index: number; entries: DirEntry[] } {
    ws?.prefix(this.kvWatches, prefix)
    return this.kv.listWithIndex(prefix)
  }

  kvKeys(ws: WatchSet | undefined, prefix: string, separator: string): { index: number; keys: string[] } {
    ws?.prefix(this.kvWatches, prefix)
    return { index: this.kv.prefixIndex(prefix), keys: this.kv.keys(prefix, separator) }
  }

  /** Whether a lock-delay still keeps `key` from being acquired. */
  kvLockDelayed(key: string): boolean {
    const until = this.lockDelays.get(key)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.lockDelays.delete(key)
    return false
  }

  /** Registers watches on catalog keys; returns nothing, the caller reads the tables. */
  watchCatalog(ws: WatchSet | undefined, ...keys: string[]): void {
    if (ws) for (const k of keys) ws.key(this.catalogWatches, k)
  }

  // ---- KV writes (FSM only) ----------------------------------------------------------------

  /**
   * Applies one KV operation outside a transaction; returns Consul's boolean answer, or an
   * `invalid-session` failure that the endpoint reports as a server error, as Consul does.
   */
  kvApply(index: number, op: KvOp): boolean | StateFailure {
    const changed: string[] = []
    let ok: boolean | StateFailure
    try {
      ok = this.#kvOp(index, op, changed) !== false
    } catch (err) {
      if (!(err instanceof KvOpError)) throw err
      ok = err instanceof InvalidSessionError ? failure('invalid-session', err.message) : false
    }
    this.lastIndex = index
    this.kvWatches.notify(changed)
    return ok
  }

  /** Applies a transaction atomically: all operations, or none when one fails. */
  txnApply(index: number, ops: readonly KvOp[]): TxnOutcome {
    const before = this.kv.clone()
    const heldBefore = cloneHeld(this.sessions.held)
    const changed: string[] = []
    const results: TxnResult[] = []
    const errors: TxnError[] = []
    ops.forEach((op, opIndex) => {
      try {
        const out = this.#kvOp(index, op, changed)
        if (out === false) throw new KvOpError(lockFailure(op))
        for (const entry of out) results.push({ KV: entry })
      } catch (err) {
        if (!(err instanceof KvOpError)) throw err
        errors.push({ OpIndex: opIndex, What: err.message })
      }
    })
    this.lastIndex = index
    if (errors.length > 0) {
      this.kv = before
      this.sessions.held = heldBefore
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

  /** Executes one op; returns result entries, or false when a lock/unlock did not happen. */
  #kvOp(index: number, op: KvOp, changed: string[]): KvResultEntry[] | false {
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
      case 'lock': {
        const session = op.Session ?? ''
        if (!this.sessions.get(session)) throw new InvalidSessionError(`invalid session "${session}"`)
        const existing = kv.get(key)
        if (existing?.Session && existing.Session !== session) return false
        kv.lock(index, key, decodeValue(op.Value), decodeFlags(op.Flags), session)
        this.sessions.hold(session, key)
        changed.push(key)
        return [withoutValue(kv.get(key)!)]
      }
      case 'unlock': {
        const session = op.Session ?? ''
        const existing = kv.get(key)
        if (!existing || existing.Session !== session) return false
        kv.unlock(index, key, decodeValue(op.Value), decodeFlags(op.Flags))
        this.sessions.release(session, key)
        changed.push(key)
        return [withoutValue(kv.get(key)!)]
      }
      case 'check-session': {
        const entry = kv.get(key)
        if (!entry) throw new KvOpError(`key "${key}" doesn't exist`)
        if (entry.Session !== op.Session) throw new KvOpError(`key "${key}" is not currently locked by session "${op.Session ?? ''}"`)
        return [withoutValue(entry)]
      }
      case 'get': {
        const entry = kv.get(key)
        if (!entry) throw new KvOpError(`key "${key}" doesn't exist`)
        return [withValue(entry)]
      }
      case 'get-or-empty': {
        const entry = kv.get(key)
        return entry ? [withValue(entry)] : []
      }
      case 'get-tree':
        return kv.list(key).map(withValue)
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
        this.#forgetLock(key)
        if (kv.delete(index, key)) changed.push(key)
        return []
      case 'delete-tree':
        for (const e of kv.list(key)) this.#forgetLock(e.Key)
        changed.push(...kv.deleteTree(index, key))
        return []
      case 'delete-cas': {
        const want = op.Index ?? 0
        const entry = kv.get(key)
        if (!entry || entry.ModifyIndex !== want) throw new KvOpError(`failed to delete key "${key}", index is stale`)
        this.#forgetLock(key)
        kv.delete(index, key)
        changed.push(key)
        return []
      }
      default:
        throw new KvOpError(`unknown KV verb "${(op as { Verb: string }).Verb}"`)
    }
  }

  #forgetLock(key: string): void {
    const session = this.kv.get(key)?.Session
    if (session) this.sessions.release(session, key)
  }

  // ---- catalog writes (FSM only) -----------------------------------------------------------

  register(index: number, cmd: RegisterCommand): StateFailure | true {
    const node = cmd.Node.Node
    // Refuse before changing anything: a registration applies whole or not at all.
    for (const check of cmd.Checks ?? []) {
      if (check.ServiceID && check.ServiceID !== cmd.Service?.ID && !this.catalog.service(node, check.ServiceID)) {
        this.lastIndex = index
        return failure('rejected', `Missing service registration for check "${check.CheckID}": service "${check.ServiceID}" is not registered on node "${node}"`)
      }
    }
    const touched = new Set<string>()
    if (!this.catalog.node(node) || !cmd.SkipNodeUpdate) this.catalog.ensureNode(index, cmd.Node, touched)
    if (cmd.Service) this.catalog.ensureService(index, node, cmd.Service, touched)
    const failing: string[] = []
    for (const check of cmd.Checks ?? []) if (this.catalog.ensureCheck(index, node, check, touched)) failing.push(check.CheckID)
    for (const checkId of failing) for (const s of this.sessions.linkedTo(node, checkId)) this.#destroySession(index, s.ID, touched)
    this.#commit(index, touched)
    return true
  }

  deregister(index: number, cmd: DeregisterCommand): true {
    const touched = new Set<string>()
    if (cmd.CheckID) {
      if (this.catalog.deleteCheck(index, cmd.Node, cmd.CheckID, touched))
        for (const s of this.sessions.linkedTo(cmd.Node, cmd.CheckID)) this.#destroySession(index, s.ID, touched)
    } else if (cmd.ServiceID) {
      const checks = this.catalog.nodeChecks(cmd.Node).filter((c) => c.ServiceID === cmd.ServiceID)
      this.catalog.deleteService(index, cmd.Node, cmd.ServiceID, touched)
      for (const c of checks) for (const s of this.sessions.linkedTo(cmd.Node, c.CheckID)) this.#destroySession(index, s.ID, touched)
    } else {
      for (const s of this.sessions.byNode(cmd.Node)) this.#destroySession(index, s.ID, touched)
      this.catalog.deleteNode(index, cmd.Node, touched)
      if (this.coordinates.delete(index, cmd.Node)) touched.add('coordinates')
    }
    this.#commit(index, touched)
    return true
  }

  // ---- coordinates (FSM only) ---------------------------------------------------------------

  coordinateBatch(index: number, cmd: CoordinateBatchCommand): true {
    const touched = new Set<string>()
    if (this.coordinates.batch(index, cmd.Updates, (node) => this.catalog.node(node) !== undefined)) touched.add('coordinates')
    this.#commit(index, touched)
    return true
  }

  // ---- ACLs (FSM only) ---------------------------------------------------------------------

  aclApply(index: number, cmd: AclCommand): unknown {
    this.lastIndex = index
    const result = this.acl.apply(index, cmd)
    if (!result.ok) return failure('rejected', result.message)
    this.catalogWatches.notify(['acl'])
    return result.value
  }

  // ---- prepared queries (FSM only) ---------------------------------------------------------

  querySet(index: number, cmd: QueryCommand): StateFailure | true {
    this.lastIndex = index
    const q = cmd.Query
    if (cmd.Op === 'delete') {
      this.queries.queries.delete(q.ID)
    } else {
      const other = this.queries.byName(q.Name)
      if (other && other.ID !== q.ID) return failure('rejected', `name "${q.Name}" aliases an existing query name`)
      if (q.Session && !this.sessions.get(q.Session)) return failure('rejected', `invalid session "${q.Session}"`)
      const existing = this.queries.get(q.ID)
      this.queries.queries.set(q.ID, { ...q, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index })
    }
    this.queries.index = index
    this.catalogWatches.notify(['queries'])
    return true
  }

  // ---- sessions (FSM only) -----------------------------------------------------------------

  sessionCreate(index: number, cmd: SessionCreateCommand): StateFailure | SessionRecord {
    const s = cmd.Session
    this.lastIndex = index
    if (!this.catalog.node(s.Node)) return failure('rejected', 'Missing node registration')
    for (const id of s.NodeChecks) {
      const check = this.catalog.check(s.Node, id)
      if (!check) return failure('rejected', `Missing check '${id}' registration`)
      if (check.Status === 'critical') return failure('rejected', `Check '${id}' is in critical state`)
    }
    for (const { ID: id } of s.ServiceChecks) {
      const check = this.catalog.check(s.Node, id)
      if (!check) return failure('rejected', `Missing check '${id}' registration`)
      if (check.Status === 'critical') return failure('rejected', `Check '${id}' is in critical state`)
    }
    if (this.sessions.get(s.ID)) return failure('rejected', `Session ID "${s.ID}" already exists`)
    const record: SessionRecord = { ...s, CreateIndex: index, ModifyIndex: index }
    this.sessions.sessions.set(s.ID, record)
    this.sessions.index = index
    this.catalogWatches.notify(['sessions', `sessions:${s.Node}`, `session:${s.ID}`])
    return record
  }

  sessionDestroy(index: number, id: string): true {
    const touched = new Set<string>()
    this.#destroySession(index, id, touched)
    this.#commit(index, touched)
    return true
  }

  /** Invalidates a session: its locks are released or their keys deleted, and lock-delay starts. */
  #destroySession(index: number, id: string, touched: Set<string>): void {
    const session = this.sessions.get(id)
    if (!session) return
    const changed: string[] = []
    const delayUntil = this.now() + session.LockDelay / 1e6
    for (const key of this.sessions.held.get(id) ?? []) {
      const entry = this.kv.get(key)
      if (!entry || entry.Session !== id) continue
      if (session.Behavior === 'delete') this.kv.delete(index, key)
      else this.kv.unlock(index, key, entry.Value, entry.Flags)
      if (session.LockDelay > 0) this.lockDelays.set(key, delayUntil)
      changed.push(key)
    }
    this.sessions.held.delete(id)
    this.sessions.sessions.delete(id)
    for (const q of this.queries.list()) if (q.Session === id) this.queries.queries.delete(q.ID)
    this.sessions.index = index
    touched.add('sessions')
    touched.add(`sessions:${session.Node}`)
    touched.add(`session:${id}`)
    this.kvWatches.notify(changed)
  }

  #commit(index: number, touched: Set<string>): void {
    this.lastIndex = index
    this.catalogWatches.notify(touched)
  }

  /** Rebuilds derived indexes after a snapshot restore. */
  reindex(): void {
    this.catalog.reindex()
    this.sessions.held.clear()
    this.kv.entries.forEach((e) => {
      if (e.Session) this.sessions.hold(e.Session, e.Key)
    })
  }
}

function lockFailure(op: KvOp): string {
  return op.Verb === 'lock' ? `failed to lock key "${op.Key}", lock is already held` : `failed to unlock key "${op.Key}", lock isn't held, or is held by another session`
}

function cloneHeld(held: Map<string, Set<string>>): Map<string, Set<string>> {
  return new Map([...held].map(([k, v]) => [k, new Set(v)]))
}

function withoutValue(entry: DirEntry): KvResultEntry {
  const { Value: _value, ...rest } = entry
  return rest
}

/** The entry with its value as base64 (null when empty): a result that survives any encoding. */
function withValue(entry: DirEntry): KvResultEntry {
  const { Value: value, ...rest } = entry
  return { ...rest, Value: value && value.length > 0 ? value.toString('base64') : null }
}

function decodeValue(value: string | null | undefined): Buffer | null {
  return value === null || value === undefined ? null : Buffer.from(value, 'base64')
}

function decodeFlags(flags: string | undefined): Uint64 {
  return flags === undefined ? 0 : (parseUint64(flags) ?? 0)
}
