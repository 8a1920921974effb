/**
 * Writing a rendered template (upstream's renderer): unchanged content writes nothing; otherwise a
 * temp file in the destination folder is written, fsynced, given its mode, optionally backed up,
 * then renamed over the destination, so readers never see half a file.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** Mode of a new destination when neither `perms` nor an existing file says otherwise. */
export const DEFAULT_FILE_MODE = 0o644
/** Mode of folders made by create_dest_dirs. */
export const DEFAULT_DIR_MODE = 0o755

export interface RenderInput {
  path: string
  contents: string
  perms: number | undefined
  backup: boolean
  createDestDirs: boolean
  dry: boolean
  dryWrite: (s: string) => void
  user?: string
  group?: string
}

export interface RenderResult {
  /** The file was (or in dry mode would have been) written. */
  didRender: boolean
  /** The template produced output (also true when the file already held it). */
  wouldRender: boolean
}

export function render(i: RenderInput): RenderResult {
  let existing: Buffer | undefined
  try {
    existing = readFileSync(i.path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`failed reading file: ${(err as Error).message}`)
  }
  const contents = Buffer.from(i.contents, 'utf8')
  // As upstream, dry mode too compares with the file on disk: an up-to-date file prints nothing.
  if (existing !== undefined && existing.equals(contents)) return { didRender: false, wouldRender: true }
  if (i.dry) {
    i.dryWrite(`> ${i.path}\n${i.contents}`)
    return { didRender: true, wouldRender: true }
  }
  try {
    atomicWrite(i.path, contents, i.perms, i.backup, i.createDestDirs)
    if (i.user || i.group) chown(i.path, i.user, i.group)
  } catch (err) {
    throw new Error(`failed writing file: ${(err as Error).message}`)
  }
  return { didRender: true, wouldRender: true }
}

function chown(path: string, user: string | undefined, group: string | undefined): void {
  const uid = user ? Number(user) : -1
  const gid = group ? Number(group) : -1
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('failed setting file ownership: only numeric user and group ids are supported')
  chownSync(path, uid, gid)
}

export function atomicWrite(path: string, contents: Buffer, perms: number | undefined, backup: boolean, createDestDirs: boolean): void {
  const parent = dirname(path)
  if (!existsSync(parent)) {
    if (!createDestDirs) throw new Error('parent directory is missing')
    mkdirSync(parent, { recursive: true, mode: DEFAULT_DIR_MODE })
  }
  let mode = perms
  if (mode === undefined) {
    try {
      mode = statSync(path).mode & 0o7777
    } catch {
      mode = DEFAULT_FILE_MODE
    }
  }
  const tmp = join(parent, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    let off = 0
    while (off < contents.length) off += writeSync(fd, contents, off)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    unlinkSync(tmp)
    throw err
  }
  closeSync(fd)
  try {
    chmodSync(tmp, mode)
    if (backup && existsSync(path)) {
      // path.bak is a hard link to the old file; an older .bak moves to .old.bak first.
      const bak = `${path}.bak`
      if (existsSync(bak)) renameSync(bak, `${path}.old.bak`)
      linkSync(path, bak)
    }
    renameSync(tmp, path)
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw err
  }
  // fsync the folder so the rename itself survives a crash.
  try {
    const dfd = openSync(parent, 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch {
    // Some file systems refuse to fsync a folder; the data itself is already durable.
  }
}
