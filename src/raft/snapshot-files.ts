/**
 * Snapshot contents live in files beside raft.db (as Consul keeps raft snapshots in files), and
 * raft.db's snapshot row names the file. Writing a large snapshot inside the log's transaction
 * held every append behind tens of megabytes of I/O; a file is written off the event loop (libuv's
 * thread pool) and made durable (fsync, rename, fsync of the folder) before the row names it, so a
 * crash at any point leaves either the old snapshot or the new one, never a row without its file.
 */
import { readFileSync } from 'node:fs'
import { open, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { StorageError } from '../lib/errors.js'

/** How a snapshot row's `data` names a file instead of holding the snapshot itself (older rows: the state machine's JSON, starting with `{`). */
const FILE_MARK = 'file:'
const FILE_NAME = /^snapshot-\d+-\d+\.json$/

/** Writes the snapshot's data to its own durable file; returns what the snapshot row stores instead. */
export async function writeSnapshotFile(dir: string, snapshot: { index: number; term: number; data: Uint8Array }): Promise<string> {
  const name = `snapshot-${snapshot.index}-${snapshot.term}.json`
  const temp = join(dir, `${name}.tmp`)
  const file = await open(temp, 'w')
  try {
    await file.writeFile(snapshot.data)
    await file.sync()
  } catch (err) {
    // A full disk: give the space back now rather than at the next snapshot.
    await rm(temp, { force: true }).catch(() => undefined)
    throw err
  } finally {
    await file.close()
  }
  await rename(temp, join(dir, name))
  const folder = await open(dir, 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
  return `${FILE_MARK}${name}`
}

/** The snapshot data a row holds: itself, or the contents of the file it names. */
export function readSnapshotData(dir: string, rowData: string): Buffer {
  if (!rowData.startsWith(FILE_MARK)) return Buffer.from(rowData, 'utf8')
  const name = rowData.slice(FILE_MARK.length)
  if (!FILE_NAME.test(name)) throw new StorageError(`raft.db names an invalid snapshot file ${JSON.stringify(name)}`)
  try {
    return readFileSync(join(dir, name))
  } catch (err) {
    throw new StorageError(`cannot read raft snapshot ${join(dir, name)}: ${(err as Error).message}`, { cause: err })
  }
}

/** Removes snapshot files (and leftovers of interrupted writes) other than the one `rowData` names. Best effort. */
export async function removeOtherSnapshotFiles(dir: string, rowData: string): Promise<void> {
  const keep = rowData.startsWith(FILE_MARK) ? rowData.slice(FILE_MARK.length) : undefined
  const names = await readdir(dir).catch(() => [] as string[])
  await Promise.all(
    names
      .filter((n) => n !== keep && (FILE_NAME.test(n) || (n.endsWith('.json.tmp') && FILE_NAME.test(n.slice(0, -4)))))
      .map((n) => rm(join(dir, n), { force: true }).catch(() => undefined)),
  )
}
