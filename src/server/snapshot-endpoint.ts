/**
 * Snapshot.Save and Snapshot.Restore (Consul's snapshot_endpoint.go): the whole server state as an
 * archive, and an archive put back. A save reads the leader's state (a read barrier first on a
 * follower; `stale`: this server's own); a restore runs on the leader and goes through the log, so
 * every server replaces its state at the same index.
 */
import { LIMITS } from '../lib/limits.js'
import { readSnapshotArchive, SnapshotArchiveError, writeSnapshotArchive } from '../lib/snapshot-archive.js'
import { Fsm } from '../state/fsm.js'
import type { EndpointCore } from './core.js'
import { RejectedError } from './errors.js'
import type { SessionTimers } from './session-timers.js'
import type { QueryOptions, QueryReply, WriteOptions, WriteReply } from './types.js'

export interface SnapshotRestoreRequest extends WriteOptions {
  /** The archive as `GET /v1/snapshot` gave it. */
  archive: Uint8Array
}

export class SnapshotEndpoint {
  constructor(
    readonly core: EndpointCore,
    readonly timers: SessionTimers,
  ) {}

  /** Snapshots hold every secret: saving and restoring take management (Consul's acl:write). */
  async save(req: QueryOptions): Promise<QueryReply<Uint8Array>> {
    const { state, raft } = this.core
    this.core.acl.authorize(req.token, 'acl', '', 'write')
    const reply = await this.core.readOnce(req, () => ({ index: state.lastIndex, value: null }))
    // The state is captured in this turn (snapshotInSteps serializes the KV tables from a clone).
    const index = state.lastIndex
    const text = await new Fsm(state).snapshotInSteps()
    const archive = await writeSnapshotArchive({ index, term: raft.currentTerm(), now: this.core.clock.now() }, Buffer.from(text, 'utf8'))
    return { value: archive, meta: { ...reply.meta, index: Math.max(1, index) } }
  }

  async restore(req: SnapshotRestoreRequest): Promise<WriteReply<true>> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<WriteReply<true>>('Snapshot.Restore', req)
    if (forwarded) return forwarded
    this.core.acl.authorize(req.token, 'acl', '', 'write')
    let text: string
    try {
      const { state } = await readSnapshotArchive(req.archive, LIMITS.snapshotRestoreMaxBytes)
      text = state.toString('utf8')
      const v = (JSON.parse(text) as { v?: unknown }).v
      if (v !== 1) throw new SnapshotArchiveError(`unsupported state version ${String(v)}`)
    } catch (err) {
      throw new RejectedError('rejected', `failed to read snapshot: ${(err as Error).message}`)
    }
    const { index } = await this.core.apply<true>({ Type: 'restore', State: text })
    // Restored sessions get their TTL timers from now, as after a leader change.
    this.timers.restored()
    return { index, value: true }
  }
}
