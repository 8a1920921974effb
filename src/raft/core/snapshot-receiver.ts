import { crc32 } from './crc32.js'
import type { Snapshot, SnapshotChunk } from './types.js'

export type ChunkOutcome =
  | { kind: 'more'; offset: number }
  | { kind: 'complete'; snapshot: Snapshot }
  | { kind: 'refused'; reason: string }

/**
 * Reassembles one InstallSnapshot transfer from in-order chunks and checks the result against its
 * metadata (size, CRC-32) before anything is installed. A chunk at the wrong offset is answered
 * with the offset wanted; a mismatch refuses the whole transfer, which the leader restarts.
 */
export class SnapshotReceiver {
  #key = ''
  #chunks: Uint8Array[] = []
  #received = 0
  #crc = 0

  accept(m: SnapshotChunk): ChunkOutcome {
    const key = `${m.from}/${m.term}/${m.meta.index}/${m.meta.term}/${m.meta.size}/${m.meta.crc32}`
    if (key !== this.#key) {
      if (m.offset !== 0) return { kind: 'refused', reason: `chunk at offset ${m.offset} of a transfer not started` }
      this.#reset(key)
    }
    if (m.offset !== this.#received) return { kind: 'more', offset: this.#received }
    if (this.#received + m.data.byteLength > m.meta.size) return this.#refuse('more bytes than the metadata size')
    this.#chunks.push(m.data.slice())
    this.#received += m.data.byteLength
    this.#crc = crc32(m.data, this.#crc)
    if (!m.done) return { kind: 'more', offset: this.#received }
    if (this.#received !== m.meta.size) return this.#refuse(`size ${this.#received} does not match the metadata's ${m.meta.size}`)
    if (this.#crc !== m.meta.crc32) return this.#refuse('checksum does not match the metadata')
    const data = new Uint8Array(this.#received)
    let at = 0
    for (const c of this.#chunks) {
      data.set(c, at)
      at += c.byteLength
    }
    this.#reset('')
    return { kind: 'complete', snapshot: { meta: m.meta, data } }
  }

  #refuse(reason: string): ChunkOutcome {
    this.#reset('')
    return { kind: 'refused', reason }
  }

  #reset(key: string): void {
    this.#key = key
    this.#chunks = []
    this.#received = 0
    this.#crc = 0
  }
}
