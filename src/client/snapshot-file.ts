/** Snapshot files as the CLI reads them: verified archives, and what their state holds. */
import { readFile } from 'node:fs/promises'
import { readSnapshotArchive, type SnapshotMeta } from '../lib/snapshot-archive.js'
import { summarizeSnapshotState } from '../state/fsm.js'

/** Files larger than this are not snapshots this tool wrote (the servers refuse restores past a smaller bound). */
const MAX_STATE_BYTES = 1024 * 1024 * 1024

export async function verifySnapshotFile(file: string): Promise<{ meta: SnapshotMeta; state: Buffer }> {
  return readSnapshotArchive(await readFile(file), MAX_STATE_BYTES)
}

export async function inspectSnapshotFile(file: string): Promise<{ meta: SnapshotMeta; types: Array<{ type: string; count: number; bytes: number }> }> {
  const { meta, state } = await verifySnapshotFile(file)
  return { meta, types: summarizeSnapshotState(state.toString('utf8')) }
}
