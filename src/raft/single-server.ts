import type { ApplyResult, Consensus, LogEntry, RaftServer, RaftStorage } from './types.js'
import { EntryType } from './types.js'
import type { Fsm } from '../state/fsm.js'
import { decodeCommand } from '../state/commands.js'
import { LIMITS } from '../lib/limits.js'

export interface SingleServerOptions {
  storage: RaftStorage
  fsm: Fsm
  /** Raft server id (the node id). */
  id: string
  /** Address this server advertises for RPC, e.g. `127.0.0.1:8300`. */
  address: string
  snapshotThreshold?: number
  /** How often to check the threshold (Consul's raft_snapshot_interval), so a busy server does not snapshot every second. */
  snapshotIntervalMs?: number
  trailingLogs?: number
  log?: (level: 'info' | 'warn' | 'error', message: string) => void
}

interface PendingApply {
  entry: LogEntry
  resolve: (result: ApplyResult) => void
  reject: (err: Error) => void
}

/**
 * Raft with one voter: an entry is committed as soon as it is durable on this server, so the
 * loop is append → fsync → apply. Appends from one event-loop turn share one write (group
 * commit). The multi-server core replaces this behind the same Consensus interface.
 */
export class SingleServerRaft implements Consensus {
  readonly #storage: RaftStorage
  readonly #fsm: Fsm
  readonly #address: string
  readonly #id: string
  readonly #snapshotThreshold: number
  readonly #snapshotIntervalMs: number
  #lastSnapshotAt = Date.now()
  readonly #trailingLogs: number
  readonly #log: NonNullable<SingleServerOptions['log']>
  #term = 0
  #lastIndex = 0
  #snapshotIndex = 0
  #snapshotting = false
  #snapshotDone: Promise<void> = Promise.resolve()
  #queue: PendingApply[] = []
  #flushScheduled = false
  #closed = false
  #writes: Promise<void> = Promise.resolve()

  private constructor(opts: SingleServerOptions) {
    this.#storage = opts.storage
    this.#fsm = opts.fsm
    this.#address = opts.address
    this.#id = opts.id
    this.#snapshotThreshold = opts.snapshotThreshold ?? LIMITS.raftSnapshotThreshold
    this.#snapshotIntervalMs = opts.snapshotIntervalMs ?? LIMITS.raftSnapshotIntervalMs
    this.#trailingLogs = opts.trailingLogs ?? LIMITS.raftTrailingLogs
    this.#log = opts.log ?? (() => {})
  }

  /** Recovers state from storage (snapshot, then every logged entry), then takes leadership. */
  static async open(opts: SingleServerOptions): Promise<SingleServerRaft> {
    const raft = new SingleServerRaft(opts)
    await raft.#recover()
    return raft
  }

  async #recover(): Promise<void> {
    const { hardState, snapshot, entries } = this.#storage.recover()
    if (snapshot) {
      this.#fsm.restore(snapshot.data)
      this.#snapshotIndex = snapshot.index
      this.#lastIndex = snapshot.index
    }
    for (const entry of entries) this.#applyEntry(entry)
    if (entries.length > 0) this.#lastIndex = entries.at(-1)!.index
    // Winning the one-voter election: a new term, then a no-op that commits it.
    this.#term = Math.max(hardState.term, snapshot?.term ?? 0, entries.at(-1)?.term ?? 0) + 1
    await this.#storage.setHardState({ term: this.#term, vote: this.#address })
    const noop: LogEntry = { index: ++this.#lastIndex, term: this.#term, type: EntryType.Noop, data: '' }
    await this.#storage.append([noop])
    this.#fsm.skip(noop.index)
    this.#log('info', `raft: single server elected itself leader at term ${this.#term}, index ${noop.index}`)
  }

  apply(data: Uint8Array): Promise<ApplyResult> {
    if (this.#closed) return Promise.reject(new Error('raft is shutdown'))
    return new Promise((resolve, reject) => {
      const entry: LogEntry = { index: ++this.#lastIndex, term: this.#term, type: EntryType.Command, data: Buffer.from(data).toString('utf8') }
      this.#queue.push({ entry, resolve, reject })
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#queue.splice(0, this.#queue.length)
    if (batch.length === 0) return
    const durable = this.#storage.append(batch.map((p) => p.entry))
    // Applies happen in log order: each batch waits for the one before it.
    this.#writes = Promise.all([this.#writes, durable]).then(
      () => {
        for (const p of batch) {
          try {
            p.resolve({ index: p.entry.index, response: this.#applyEntry(p.entry) })
          } catch (err) {
            p.reject(err as Error)
          }
        }
        this.#maybeSnapshot()
      },
      (err: Error) => {
        // A write that is not durable must not be applied or acknowledged; storage is unusable now.
        this.#log('error', `raft: log append failed: ${err.message}`)
        for (const p of batch) p.reject(err)
      },
    )
  }

  #applyEntry(entry: LogEntry): unknown {
    if (entry.type !== EntryType.Command) {
      this.#fsm.skip(entry.index)
      return undefined
    }
    return this.#fsm.apply(entry.index, decodeCommand(Buffer.from(entry.data, 'utf8')))
  }

  #maybeSnapshot(): void {
    const applied = this.#fsm.state.lastIndex
    if (this.#closed || this.#snapshotting || applied - this.#snapshotIndex < this.#snapshotThreshold) return
    if (Date.now() - this.#lastSnapshotAt < this.#snapshotIntervalMs) return
    this.#lastSnapshotAt = Date.now()
    this.#snapshotting = true
    const term = this.#term
    // The state is captured now, at `applied`; serializing it is spread over event-loop turns.
    this.#snapshotDone = this.#fsm
      .snapshotInSteps()
      .then((data) => {
        const record = { index: applied, term, data }
        return this.#storage.saveSnapshot(record, Math.max(0, applied - this.#trailingLogs)).then(() => record)
      })
      .then(
        (record) => {
          this.#snapshotIndex = record.index
          this.#log('info', `raft: snapshot at index ${record.index}`)
        },
        (err: Error) => this.#log('error', `raft: snapshot failed: ${err.message}`),
      )
      .finally(() => (this.#snapshotting = false))
  }

  isLeader(): boolean {
    return !this.#closed
  }

  leaderAddress(): string {
    return this.#closed ? '' : this.#address
  }

  servers(): RaftServer[] {
    return [{ id: this.#id, address: this.#address, voter: true }]
  }

  readBarrier(): Promise<void> {
    return this.#closed ? Promise.reject(new Error('raft is shutdown')) : Promise.resolve()
  }

  onLeadershipChange(): () => void {
    return () => {}
  }

  lastContactMs(): number {
    return 0
  }

  appliedIndex(): number {
    return this.#fsm.state.lastIndex
  }

  stats(): Record<string, string> {
    return {
      state: this.#closed ? 'Shutdown' : 'Leader',
      term: String(this.#term),
      last_log_index: String(this.#lastIndex),
      last_log_term: String(this.#term),
      commit_index: String(this.#fsm.state.lastIndex),
      applied_index: String(this.#fsm.state.lastIndex),
      last_snapshot_index: String(this.#snapshotIndex),
      num_peers: '0',
      protocol_version: '3',
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#flush()
    await this.#writes.catch(() => undefined)
    // A snapshot being serialized is finished and saved before the storage closes.
    await this.#snapshotDone
    await this.#storage.close()
  }
}
