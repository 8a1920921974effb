/**
 * The snapshot archive of `GET /v1/snapshot` and `consul snapshot save`, laid out as Consul's: a
 * gzipped tar of `meta.json` (ID, Size, Index, Term, Version), `state.bin` (the server state) and
 * `SHA256SUMS` (sha256sum's format) covering both, checked on every read. The state inside is this
 * project's own serialization, so an archive restores on our servers only.
 */
import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import tar from 'tar-stream'

export interface SnapshotMeta {
  /** `<term>-<index>-<unix ms>`, as hashicorp/raft names snapshots. */
  ID: string
  /** Bytes of state.bin. */
  Size: number
  Index: number
  Term: number
  /** The archive format's version (not the data's). */
  Version: number
}

/** The archive cannot be read: not gzip, not tar, a file missing, a checksum that does not match, too large. */
export class SnapshotArchiveError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SnapshotArchiveError'
  }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

export async function writeSnapshotArchive(at: { index: number; term: number; now: number }, state: Uint8Array): Promise<Buffer> {
  const meta: SnapshotMeta = { ID: `${at.term}-${at.index}-${at.now}`, Size: state.byteLength, Index: at.index, Term: at.term, Version: 1 }
  const metaBytes = Buffer.from(JSON.stringify(meta))
  const sums = Buffer.from(`${sha256(metaBytes)}  meta.json\n${sha256(state)}  state.bin\n`)
  const pack = tar.pack()
  const mtime = new Date(at.now)
  pack.entry({ name: 'meta.json', size: metaBytes.byteLength, mode: 0o600, mtime }, metaBytes)
  pack.entry({ name: 'state.bin', size: state.byteLength, mode: 0o600, mtime }, Buffer.from(state))
  pack.entry({ name: 'SHA256SUMS', size: sums.byteLength, mode: 0o600, mtime }, sums)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack) chunks.push(chunk as Buffer)
  return gzipSync(Buffer.concat(chunks))
}

/** Reads and verifies an archive; `maxStateBytes` bounds what is unpacked (a gzip bomb stops there). */
export async function readSnapshotArchive(archive: Uint8Array, maxStateBytes: number): Promise<{ meta: SnapshotMeta; state: Buffer }> {
  let raw: Buffer
  try {
    raw = gunzipSync(archive, { maxOutputLength: maxStateBytes + 1024 * 1024 })
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
    throw new SnapshotArchiveError(tooLarge ? `snapshot is larger than ${maxStateBytes} bytes` : `not a gzip archive: ${(err as Error).message}`)
  }
  const files = new Map<string, Buffer>()
  const extract = tar.extract()
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = []
      for await (const chunk of entry) parts.push(chunk as Buffer)
      files.set(entry.header.name, Buffer.concat(parts))
    }
  })()
  extract.end(raw)
  try {
    await done
  } catch (err) {
    throw new SnapshotArchiveError(`not a tar archive: ${(err as Error).message}`)
  }
  const metaBytes = files.get('meta.json')
  const state = files.get('state.bin')
  const sums = files.get('SHA256SUMS')
  if (!metaBytes || !state || !sums) throw new SnapshotArchiveError('the archive lacks meta.json, state.bin or SHA256SUMS')
  const want = new Map(
    sums
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line)
        return m ? ([m[2]!, m[1]!] as const) : (['', ''] as const)
      }),
  )
  for (const [name, body] of [['meta.json', metaBytes], ['state.bin', state]] as const) {
    if (want.get(name) !== sha256(body)) throw new SnapshotArchiveError(`checksum of ${name} does not match SHA256SUMS`)
  }
  let meta: SnapshotMeta
  try {
    meta = JSON.parse(metaBytes.toString('utf8')) as SnapshotMeta
  } catch {
    throw new SnapshotArchiveError('meta.json is not JSON')
  }
  if (typeof meta.Index !== 'number' || typeof meta.Term !== 'number' || meta.Size !== state.byteLength) throw new SnapshotArchiveError('meta.json does not describe state.bin')
  return { meta, state }
}
