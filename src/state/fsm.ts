import { StateStore } from './store.js'
import type { Command } from './commands.js'
import { KvTable } from './kv.js'
import { CatalogTables, type CheckRecord, type NodeRecord, type ServiceRecord } from './catalog.js'
import { SessionTables, type SessionRecord } from './sessions.js'
import { QueryTables, type PreparedQuery } from './queries.js'
import { parseUint64 } from '../lib/uint64.js'

/**
 * The deterministic state machine behind the raft log (hashicorp/raft's FSM contract):
 * `apply` is called once per committed entry, in index order, on one thread; `snapshot`
 * captures the state at the last applied index; `restore` replaces the state whole and
 * abandons every blocking query, which then re-reads.
 */
export class Fsm {
  constructor(readonly state: StateStore) {}

  apply(index: number, command: Command): unknown {
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
      default:
        // A newer server wrote a command this one does not know: refuse to guess.
        throw new Error(`fsm: unknown command type ${JSON.stringify((command as { Type: unknown }).Type)}`)
    }
  }

  /** Index bump without a state change (raft no-op and configuration entries). */
  skip(index: number): void {
    this.state.lastIndex = index
  }

  snapshot(): string {
    const { kv } = this.state
    const entries: SnapshotKv[] = []
    kv.entries.forEach((e) =>
      void entries.push([e.Key, String(e.Flags), e.Value ? e.Value.toString('base64') : null, e.CreateIndex, e.ModifyIndex, e.LockIndex, e.Session ?? '']),
    )
    const tombstones: Array<[string, number]> = []
    kv.tombstones.forEach((idx, key) => void tombstones.push([key, idx]))
    const { catalog, sessions } = this.state
    const data: SnapshotData = {
      v: 1,
      index: this.state.lastIndex,
      kv: entries,
      tombstones,
      tombstoneFloor: kv.tombstoneFloor,
      catalog: {
        nodes: catalog.nodes.valuesArray(),
        services: catalog.services.valuesArray(),
        checks: catalog.checks.valuesArray(),
        index: catalog.index,
        serviceIndex: [...catalog.serviceIndex],
        nodeIndex: [...catalog.nodeIndex],
      },
      sessions: { records: sessions.list(), index: sessions.index },
      queries: { records: this.state.queries.list(), index: this.state.queries.index },
    }
    return JSON.stringify(data)
  }

  restore(serialized: string): void {
    const data = JSON.parse(serialized) as SnapshotData
    if (data.v !== 1) throw new Error(`fsm: unsupported snapshot version ${String(data.v)}`)
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
    const catalog = new CatalogTables()
    if (data.catalog) {
      for (const n of data.catalog.nodes) catalog.nodes.set(n.Node, n)
      for (const sv of data.catalog.services) catalog.services.set(`${sv.Node}\u0000${sv.ID}`, sv)
      for (const c of data.catalog.checks) catalog.checks.set(`${c.Node}\u0000${c.CheckID}`, c)
      catalog.index = data.catalog.index
      catalog.serviceIndex = new Map(data.catalog.serviceIndex)
      catalog.nodeIndex = new Map(data.catalog.nodeIndex)
    }
    const sessions = new SessionTables()
    for (const r of data.sessions?.records ?? []) sessions.sessions.set(r.ID, r)
    sessions.index = data.sessions?.index ?? 0
    const queries = new QueryTables()
    for (const q of data.queries?.records ?? []) queries.queries.set(q.ID, q)
    queries.index = data.queries?.index ?? 0
    this.state.queries = queries
    this.state.kv = kv
    this.state.catalog = catalog
    this.state.sessions = sessions
    this.state.reindex()
    this.state.lastIndex = data.index
    this.state.kvWatches.abandon()
    this.state.catalogWatches.abandon()
  }
}

type SnapshotKv = [key: string, flags: string, value: string | null, create: number, modify: number, lock: number, session: string]
interface SnapshotData {
  v: 1
  index: number
  kv: SnapshotKv[]
  tombstones: Array<[string, number]>
  tombstoneFloor: number
  catalog?: {
    nodes: NodeRecord[]
    services: ServiceRecord[]
    checks: CheckRecord[]
    index: CatalogTables['index']
    serviceIndex: Array<[string, number]>
    nodeIndex: Array<[string, number]>
  }
  sessions?: { records: SessionRecord[]; index: number }
  queries?: { records: PreparedQuery[]; index: number }
}
