import { StateStore } from './store.js'
import { decodeCommand, type Command } from './commands.js'
import type { StateMachine } from '../raft/types.js'
import { KvTable } from './kv.js'
import { CatalogTables, type CatalogDump } from './catalog.js'
import { SessionTables, type SessionRecord } from './sessions.js'
import { QueryTables, type PreparedQuery } from './queries.js'
import { CoordinateTable, type CoordinateEntry } from './coordinates.js'
import { AclTables, type AclDump } from './acl.js'
import { parseUint64 } from '../lib/uint64.js'
import { LIMITS } from '../lib/limits.js'

/**
 * The deterministic state machine behind the raft log (hashicorp/raft's FSM contract):
 * `apply` is called once per committed entry, in index order, on one thread, with the logged
 * bytes; `snapshot` captures the state at the last applied index; `restore` replaces the state
 * whole and abandons every blocking query, which then re-reads.
 */
export class Fsm implements StateMachine {
  constructor(readonly state: StateStore) {}

  apply(index: number, data: Uint8Array): unknown {
    return this.applyCommand(index, decodeCommand(data))
  }

  snapshot(): Promise<Uint8Array> {
    return this.snapshotInSteps().then((text) => Buffer.from(text, 'utf8'))
  }

  restore(data: Uint8Array): void {
    this.restoreText(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
  }

  /** Applies a decoded command (what `apply` does after decoding; tests and simulations call it directly). */
  applyCommand(index: number, command: Command): unknown {
    switch (command.Type) {
      case 'kvs':
        return this.state.kvApply(index, command.Op)
      case 'txn':
        return this.state.txnApply(
          index,
          command.Ops.map((op) => op.KV),
        )
      case 'register':
        return this.state.register(index, command)
      case 'deregister':
        return this.state.deregister(index, command)
      case 'session':
        return command.Op === 'create' ? this.state.sessionCreate(index, command) : this.state.sessionDestroy(index, command.ID)
      case 'query':
        return this.state.querySet(index, command)
      case 'coordinates':
        return this.state.coordinateBatch(index, command)
      case 'acl':
        return this.state.aclApply(index, command)
      case 'restore':
        this.restoreText(command.State, index)
        return true
      case 'cluster-id':
        if (this.state.clusterId === '') this.state.clusterId = command.ID
        this.state.lastIndex = index
        return this.state.clusterId
      default:
        // A newer server wrote a command this one does not know: refuse to guess.
        throw new Error(`fsm: unknown command type ${JSON.stringify((command as { Type: unknown }).Type)}`)
    }
  }

  /** Index bump without a state change (raft no-op and configuration entries). */
  skip(index: number): void {
    this.state.lastIndex = index
  }

  /** The state at the last applied index, serialized in one go (see `snapshotInSteps`). */
  snapshotText(): string {
    const steps = this.#snapshotSteps(Infinity)
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
    }
  }

  /**
   * `snapshotText()` without holding the event loop for the whole of a large KV store: the state is
   * captured at once (the KV tables as copy-on-write clones, whose entries are never changed in
   * place; everything else serialized right away), then the KV entries are serialized `chunk` at
   * a time, one event-loop turn each. The text is exactly `snapshotText()`'s at the time of the call.
   */
  async snapshotInSteps(chunk: number = LIMITS.snapshotChunkEntries): Promise<string> {
    const steps = this.#snapshotSteps(chunk)
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  /** Yields after every `chunk` KV entries or tombstones; returns the snapshot's JSON text. */
  *#snapshotSteps(chunk: number): Generator<void, string> {
    const kv = this.state.kv.clone()
    const index = this.state.lastIndex
    const { catalog, sessions, queries } = this.state
    const catalogText = JSON.stringify(catalog.dump())
    const sessionsText = JSON.stringify({ records: sessions.list(), index: sessions.index })
    const queriesText = JSON.stringify({ records: queries.list(), index: queries.index })
    const coordinatesText = JSON.stringify(this.state.coordinates.dump())
    const aclText = JSON.stringify(this.state.acl.dump())

    // Each part is a JSON array's inside, so the parts join with commas into one array.
    const kvParts: string[] = []
    let entries: SnapshotKv[] = []
    for (const e of kv.entries.values()) {
      entries.push([e.Key, String(e.Flags), e.Value ? e.Value.toString('base64') : null, e.CreateIndex, e.ModifyIndex, e.LockIndex, e.Session ?? ''])
      if (entries.length >= chunk) {
        kvParts.push(JSON.stringify(entries).slice(1, -1))
        entries = []
        yield
      }
    }
    if (entries.length) kvParts.push(JSON.stringify(entries).slice(1, -1))
    const tombstoneParts: string[] = []
    let tombstones: Array<[string, number]> = []
    for (const [key, idx] of kv.tombstones.entries()) {
      tombstones.push([key, idx])
      if (tombstones.length >= chunk) {
        tombstoneParts.push(JSON.stringify(tombstones).slice(1, -1))
        tombstones = []
        yield
      }
    }
    if (tombstones.length) tombstoneParts.push(JSON.stringify(tombstones).slice(1, -1))
    // The shape of SnapshotData, key for key.
    return `{"v":1,"index":${index},"cluster":${JSON.stringify(this.state.clusterId)},"kv":[${kvParts.join(',')}],"tombstones":[${tombstoneParts.join(',')}],"tombstoneFloor":${kv.tombstoneFloor},"catalog":${catalogText},"sessions":${sessionsText},"queries":${queriesText},"coordinates":${coordinatesText},"acl":${aclText}}`
  }

  /**
   * Replaces the state with a snapshot's. With `at` (a restore applied from the log), everything
   * restored is stamped with that index: the data may come from a cluster whose indexes run ahead of
   * this log, and an index must never go backwards for a blocking query.
   */
  restoreText(serialized: string, at?: number): void {
    const data = JSON.parse(serialized) as SnapshotData
    if (data.v !== 1) throw new Error(`fsm: unsupported snapshot version ${String(data.v)}`)
    // A restore from the log brings another cluster's data, not its identity.
    const clusterId = at !== undefined ? this.state.clusterId : (data.cluster ?? '')
    if (at !== undefined) restamp(data, at)
    const kv = new KvTable()
    for (const [Key, flags, value, CreateIndex, ModifyIndex, LockIndex, Session] of data.kv) {
      kv.entries.set(Key, {
        Key,
        Flags: parseUint64(flags) ?? 0,
        Value: value === null ? null : Buffer.from(value, 'base64'),
        CreateIndex,
        ModifyIndex,
        LockIndex,
        ...(Session ? { Session } : {}),
      })
    }
    for (const [key, idx] of data.tombstones) kv.tombstones.set(key, idx)
    kv.tombstoneFloor = data.tombstoneFloor
    kv.reindex()
    const catalog = data.catalog ? CatalogTables.fromDump(data.catalog) : new CatalogTables()
    const sessions = new SessionTables()
    for (const r of data.sessions?.records ?? []) sessions.sessions.set(r.ID, r)
    sessions.index = data.sessions?.index ?? 0
    const queries = new QueryTables()
    for (const q of data.queries?.records ?? []) queries.queries.set(q.ID, q)
    queries.index = data.queries?.index ?? 0
    this.state.queries = queries
    this.state.coordinates = CoordinateTable.fromDump(data.coordinates)
    this.state.acl = AclTables.fromDump(data.acl)
    this.state.kv = kv
    this.state.catalog = catalog
    this.state.sessions = sessions
    this.state.reindex()
    this.state.lastIndex = data.index
    this.state.clusterId = clusterId
    this.state.kvWatches.abandon()
    this.state.catalogWatches.abandon()
  }
}

/** What a snapshot's state holds, by record type (consul snapshot inspect): count and JSON bytes. */
export function summarizeSnapshotState(serialized: string): Array<{ type: string; count: number; bytes: number }> {
  const data = JSON.parse(serialized) as SnapshotData
  if (data.v !== 1) throw new Error(`unsupported state version ${String(data.v)}`)
  const row = (type: string, records: readonly unknown[]): { type: string; count: number; bytes: number } => ({
    type,
    count: records.length,
    bytes: records.reduce<number>((n, r) => n + JSON.stringify(r).length, 0),
  })
  return [
    row('KVS', data.kv),
    row('Tombstone', data.tombstones),
    row('Register', data.catalog?.nodes ?? []),
    row('Service', data.catalog?.services ?? []),
    row('Check', data.catalog?.checks ?? []),
    row('Session', data.sessions?.records ?? []),
    row('PreparedQuery', data.queries?.records ?? []),
    row('Coordinate', data.coordinates?.records ?? []),
    row('ACLToken', data.acl?.tokens ?? []),
    row('ACLPolicy', data.acl?.policies ?? []),
    row('ACLRole', data.acl?.roles ?? []),
  ].filter((r) => r.count > 0)
}

/** Every record's indexes set to `at`, and the tombstones (another log's history) dropped. */
function restamp(data: SnapshotData, at: number): void {
  const stamp = <T extends { CreateIndex: number; ModifyIndex: number }>(r: T): T => ({ ...r, CreateIndex: at, ModifyIndex: at })
  data.index = at
  data.kv = data.kv.map(([key, flags, value, , , lock, session]) => [key, flags, value, at, at, lock, session])
  data.tombstones = []
  data.tombstoneFloor = at
  if (data.catalog) {
    const c = data.catalog
    data.catalog = {
      nodes: c.nodes.map(stamp),
      services: c.services.map(stamp),
      checks: c.checks.map(stamp),
      index: { nodes: at, services: at, checks: at },
      serviceIndex: c.serviceIndex.map(([k]) => [k, at]),
      nodeIndex: c.nodeIndex.map(([k]) => [k, at]),
    }
  }
  if (data.sessions) data.sessions = { records: data.sessions.records.map(stamp), index: at }
  if (data.queries) data.queries = { records: data.queries.records.map(stamp), index: at }
  if (data.coordinates) data.coordinates = { records: data.coordinates.records, index: at }
  if (data.acl) {
    const a = data.acl
    data.acl = { tokens: a.tokens.map(stamp), policies: a.policies.map(stamp), roles: a.roles.map(stamp), bootstrapIndex: a.bootstrapIndex === 0 ? 0 : at, index: at }
  }
}

type SnapshotKv = [key: string, flags: string, value: string | null, create: number, modify: number, lock: number, session: string]
interface SnapshotData {
  v: 1
  index: number
  cluster?: string
  kv: SnapshotKv[]
  tombstones: Array<[string, number]>
  tombstoneFloor: number
  catalog?: CatalogDump
  sessions?: { records: SessionRecord[]; index: number }
  queries?: { records: PreparedQuery[]; index: number }
  coordinates?: { records: CoordinateEntry[]; index: number }
  acl?: AclDump
}
