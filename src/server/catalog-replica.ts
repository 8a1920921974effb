/**
 * A client agent's replica of the catalog and prepared queries, followed with a blocking
 * Internal.CatalogDump on a server (stale, as Consul's DNS reads are with allow_stale). DNS and
 * alias checks read it synchronously, exactly as they read a server's own state, so a client
 * agent answers DNS from memory without a round trip per question. The cost is one whole
 * catalog per change; deltas can replace it without changing the readers.
 */
import type { Clock, Timer } from '../lib/clock.js'
import { CatalogTables, type CheckRecord } from '../state/catalog.js'
import { QueryTables } from '../state/queries.js'
import { WatchRegistry } from '../state/watch.js'
import type { Log } from './core.js'
import type { LocalCatalogView } from './endpoints.js'
import { catalogReader, preparedQueryView, type CatalogReader, type CatalogSnapshot, type PreparedQueryView } from './internal-endpoint.js'
import type { QueryReply } from './types.js'

export interface CatalogReplicaOptions {
  /** One blocking fetch above `minIndex` (0: at once). */
  fetch: (minIndex: number) => Promise<QueryReply<CatalogSnapshot>>
  clock: Clock
  log: Log
  /** Between failed fetches: doubles from the first to the last. */
  retryMinMs?: number
  retryMaxMs?: number
}

export class CatalogReplica implements LocalCatalogView {
  #catalog = new CatalogTables()
  #queries = new QueryTables()
  readonly #watches = new WatchRegistry()
  readonly #o: CatalogReplicaOptions
  #index = 0
  #running = false
  #timer: Timer | undefined
  #failures = 0
  #loaded = false
  /** Bumped by refresh(): a loop of an older generation stops and its answer is dropped. */
  #generation = 0

  constructor(o: CatalogReplicaOptions) {
    this.#o = o
  }

  /** Whether a first copy has arrived. */
  get loaded(): boolean {
    return this.#loaded
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    void this.#loop()
  }

  stop(): void {
    this.#running = false
    this.#timer?.cancel()
  }

  /**
   * Fetches a whole copy now (the token it is read with changed: what it may see changed), keeping
   * the current one until it arrives. The blocking fetch in flight is left to end and is ignored.
   */
  refresh(): void {
    if (!this.#running) return
    this.#generation++
    this.#index = 0
    this.#failures = 0
    this.#timer?.cancel()
    void this.#loop()
  }

  async #loop(): Promise<void> {
    const generation = this.#generation
    const current = (): boolean => this.#running && generation === this.#generation
    while (current()) {
      try {
        const reply = await this.#o.fetch(this.#index)
        if (!current()) return
        this.#failures = 0
        // An index that went backwards (another server, a restore) starts over, as Consul's watches do.
        if (reply.meta.index !== this.#index || !this.#loaded) this.#load(reply.value)
        this.#index = reply.meta.index < this.#index ? 0 : reply.meta.index
      } catch (err) {
        if (!current()) return
        const min = this.#o.retryMinMs ?? 250
        const wait = Math.min(this.#o.retryMaxMs ?? 5000, min * 2 ** Math.min(this.#failures++, 10))
        if (this.#failures === 1) this.#o.log('warn', `agent: catalog replica: ${(err as Error).message}; retrying`)
        await new Promise<void>((resolve) => (this.#timer = this.#o.clock.setTimeout(resolve, wait)))
      }
    }
  }

  #load(snap: CatalogSnapshot): void {
    this.#catalog = CatalogTables.fromDump(snap.catalog)
    const queries = new QueryTables()
    for (const q of snap.queries.records) queries.queries.set(q.ID, q)
    queries.index = snap.queries.index
    this.#queries = queries
    this.#loaded = true
    this.#watches.abandon()
  }

  catalogReader(): CatalogReader {
    return catalogReader(this.#catalog)
  }

  onCatalogChange(fn: () => void): () => void {
    return this.#watches.watchAll(fn)
  }

  onNodeChange(_node: string, fn: () => void): () => void {
    // Every load replaces the whole catalog: every watcher looks again.
    return this.#watches.watchAll(fn)
  }

  nodeChecksNow(node: string): CheckRecord[] {
    return this.#catalog.nodeChecks(node)
  }

  preparedQueries(): PreparedQueryView {
    return preparedQueryView({ generation: () => this.#queries.generation(), list: () => this.#queries.list() })
  }
}
