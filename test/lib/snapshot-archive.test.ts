import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gunzipSync, gzipSync } from 'node:zlib'
import { readSnapshotArchive, SnapshotArchiveError, writeSnapshotArchive } from '../../src/lib/snapshot-archive.js'

const state = Buffer.from('{"v":1,"index":42}')
const archive = (): Promise<Buffer> => writeSnapshotArchive({ index: 42, term: 3, now: 1_700_000_000_000 }, state)

test('an archive holds meta.json, state.bin and SHA256SUMS, and reads back as written', async () => {
  const a = await archive()
  const tar = gunzipSync(a).toString('latin1')
  for (const name of ['meta.json', 'state.bin', 'SHA256SUMS']) assert.ok(tar.includes(name), name)
  const { meta, state: back } = await readSnapshotArchive(a, 1024)
  assert.deepEqual(meta, { ID: '3-42-1700000000000', Size: state.byteLength, Index: 42, Term: 3, Version: 1 })
  assert.deepEqual(back, state)
})

test('a changed byte, a missing file, garbage and an oversized state are refused with the reason', async () => {
  const tar = gunzipSync(await archive())
  const at = tar.indexOf('"index":42')
  const flipped = Buffer.from(tar)
  flipped[at + 9] = '3'.charCodeAt(0)
  await assert.rejects(readSnapshotArchive(gzipSync(flipped), 1024), (e: Error) => e instanceof SnapshotArchiveError && /checksum of state.bin does not match/.test(e.message))
  await assert.rejects(readSnapshotArchive(Buffer.from('garbage'), 1024), /not a gzip archive/)
  await assert.rejects(readSnapshotArchive(gzipSync(Buffer.from('not a tar at all')), 1024), SnapshotArchiveError)
  await assert.rejects(readSnapshotArchive(gzipSync(tar.subarray(0, 512 + 512)), 1024), /lacks meta.json, state.bin or SHA256SUMS|not a tar archive/)
  const big = await writeSnapshotArchive({ index: 1, term: 1, now: 0 }, Buffer.alloc(4 * 1024 * 1024))
  await assert.rejects(readSnapshotArchive(big, 1024), /larger than 1024 bytes/)
})
