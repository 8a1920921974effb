import { Worker } from 'node:worker_threads'
import type { PersistBatch, RaftStorage, RecoveredState } from './types.js'
import type { Entry, HardState, Snapshot } from './core/types.js'
import { SqliteLog, packEntries, toRow, type SnapshotRow } from './sqlite-log.js'
import { StorageError, isDiskFull } from '../lib/errors.js'
import { removeOtherSnapshotFiles, writeSnapshotFile } from './snapshot-files.js'

export type StorageRequest =
  /** `entries` as packEntries lays them out. */
  | { id: number; op: 'persist'; entries: ArrayBuffer; hardState?: HardState; snapshot?: SnapshotRow }
  | { id: number; op: 'snapshot'; snapshot: SnapshotRow; compactThrough: number }
  | { id: number; op: 'length' }
  | { id: number; op: 'close' }
export interface StorageReply {
  id: number
  error?: string
  /** The error was a full disk (the transaction rolled back): the write may be retried. */
  full?: boolean
  value?: number
}
/** Unasked news from the storage thread: the log is compacted down to the last snapshot's trailing entries. */
export interface StorageNotice {
  compacted: true
}

/** Largest batch committed on the calling thread when the storage thread is idle. */
const DIRECT_MAX_ENTRIES = 1

type Pending = { resolve: (value: number | undefined) => void; reject: (err: Error) => void }
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * Durable raft storage in `dir`: recovery reads the database on the calling thread, then a
 * worker thread owns it and commits writes in groups (see storage-worker.ts).
 */
export class SqliteStorage implements RaftStorage {
  #worker: Worker | undefined
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #failed: Error | undefined
  /** A main-thread connection for lone writes (see persist). */
  #direct: SqliteLog | undefined
  /** The storage thread is deleting compacted entries, a transaction at a time: no direct writes meanwhile. */
  #compacting = false

  constructor(readonly dir: string) {}

  recover(): RecoveredState {
    const log = new SqliteLog(this.dir)
    try {
      return log.recover()
    } finally {
      log.close()
    }
  }

  /**
   * A lone entry with nothing else in flight is committed right here: one fsync either way,
   * minus two thread hops, which is most of a single client's write latency. Anything that
   * overlaps goes to the storage thread, so concurrent writers keep sharing fsyncs while the
   * event loop serves requests. A snapshot's data is written to its own file first.
   */
  async persist(batch: PersistBatch): Promise<void> {
    if (batch.snapshot) {
      const entries = packEntries(batch.entries)
      const snapshot = await this.#snapshotRow(batch.snapshot)
      await this.#send({ op: 'persist', entries, hardState: batch.hardState, snapshot })
      await removeOtherSnapshotFiles(this.dir, snapshot.data)
      return
    }
    if (batch.entries.length <= DIRECT_MAX_ENTRIES && this.#pending.size === 0 && !this.#compacting && !this.#failed) {
      try {
        this.#direct ??= new SqliteLog(this.dir)
        const direct = this.#direct
        direct.batch(() => {
          direct.append(batch.entries.map(toRow))
          if (batch.hardState) direct.setHardState(batch.hardState)
        })
        return
      } catch (err) {
        throw new StorageError(`raft log append failed: ${(err as Error).message}`, { cause: err, transient: isDiskFull(err) })
      }
    }
    await this.#send({ op: 'persist', entries: packEntries(batch.entries), hardState: batch.hardState })
  }

  /**
   * Resolves once the snapshot is durable: its data in a file of its own (snapshot-files.ts),
   * named by raft.db's snapshot row. The entries it covers are deleted after, in the background.
   */
  async saveSnapshot(snapshot: Snapshot, compactThrough: number): Promise<void> {
    const row = await this.#snapshotRow(snapshot)
    this.#compacting = true
    await this.#send({ op: 'snapshot', snapshot: row, compactThrough })
    await removeOtherSnapshotFiles(this.dir, row.data)
  }

  async #snapshotRow(snapshot: Snapshot): Promise<SnapshotRow> {
    const { index, term, conf, size, crc32 } = snapshot.meta
    try {
      return { index, term, conf, size, crc32, data: await writeSnapshotFile(this.dir, { index, term, data: snapshot.data }) }
    } catch (err) {
      throw new StorageError(`writing snapshot ${index} failed: ${(err as Error).message}`, { cause: err, transient: isDiskFull(err) })
    }
  }

  /** On this thread: SQLite's WAL lets it read what the storage thread has committed. */
  readEntries(lo: number, hi: number, maxBytes: number): Entry[] {
    this.#direct ??= new SqliteLog(this.dir)
    return this.#direct.entries(lo, hi, maxBytes)
  }

  async logLength(): Promise<number> {
    return (await this.#send({ op: 'length' })) ?? 0
  }

  async close(): Promise<void> {
    this.#direct?.close()
    this.#direct = undefined
    if (!this.#worker) return
    const worker = this.#worker
    await this.#send({ op: 'close' }).catch(() => undefined)
    await worker.terminate()
    this.#worker = undefined
  }

  #start(): Worker {
    const worker = new Worker(new URL('./storage-worker.js', import.meta.url), { workerData: { dir: this.dir } })
    worker.on('message', (message: StorageReply[] | StorageNotice) => {
      if (!Array.isArray(message)) {
        this.#compacting = false
        return
      }
      for (const reply of message) {
        const p = this.#pending.get(reply.id)
        this.#pending.delete(reply.id)
        if (reply.error) p?.reject(new StorageError(reply.error, { transient: reply.full === true }))
        else p?.resolve(reply.value)
      }
      // Idle storage must not keep the process alive; pending writes must.
      if (this.#pending.size === 0) worker.unref()
    })
    worker.on('error', (err) => this.#fail(err))
    worker.on('exit', (code) => {
      if (this.#pending.size > 0) this.#fail(new StorageError(`raft storage worker exited with code ${code}`))
    })
    worker.unref()
    return worker
  }

  #fail(err: Error): void {
    this.#failed = new StorageError(`raft storage failed: ${err.message}`, { cause: err })
    for (const p of this.#pending.values()) p.reject(this.#failed)
    this.#pending.clear()
  }

  #send(req: DistributiveOmit<StorageRequest, 'id'>): Promise<number | undefined> {
    if (this.#failed) return Promise.reject(this.#failed)
    this.#worker ??= this.#start()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker!.ref()
      this.#worker!.postMessage({ ...req, id }, req.op === 'persist' ? [req.entries] : [])
    })
  }
}
