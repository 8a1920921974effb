import type { InitialState } from '../../../src/raft/core/node.js'
import { crc32 } from '../../../src/raft/core/crc32.js'
import type { Entry, HardState, Snapshot } from '../../../src/raft/core/types.js'

/**
 * A simulated disk for one server: an append-only journal of records (one per entry, hard state or
 * snapshot, as etcd's WAL), an fsync point, and a crash that behaves as a page cache does: every
 * synced record survives; of the records written since the last sync, some prefix survives and the
 * next one may be torn (cut at a random byte). Restart replays the journal and drops a torn tail by
 * its frame check, as a real log reader must.
 *
 * Records stay objects while intact (encoding every write would only cost time); the one a crash
 * tears is framed as on disk (u32 length, u32 CRC-32 of the body, the JSON body with data in base64)
 * and cut, and the loader must refuse it.
 */
type Record =
  | { t: 'e'; e: Entry }
  | { t: 'h'; h: HardState }
  | { t: 's'; s: Snapshot }
type RecordBody =
  | { t: 'e'; e: { index: number; term: number; type: Entry['type']; data: string } }
  | { t: 'h'; h: HardState }
  | { t: 's'; meta: Snapshot['meta']; data: string }

export interface CrashReport {
  /** Unsynced records lost (the torn one included). */
  lost: number
  torn: boolean
}

export interface LoadResult {
  state: InitialState
  /** Bytes of a torn record at the end that the loader dropped (0 for none). */
  tornBytes: number
}

export class SimStorage {
  #records: Record[] = []
  /** Records [0, synced) are durable. */
  #synced = 0
  /** A torn frame left by the last crash, until the next load drops it. */
  #tail: Uint8Array | undefined

  /** Records written and not yet synced. */
  get unsynced(): number { return this.#records.length - this.#synced }
  get records(): number { return this.#records.length }

  appendEntries(entries: readonly Entry[]): void {
    for (const e of entries) this.#records.push({ t: 'e', e: { index: e.index, term: e.term, type: e.type, data: e.data } })
  }

  setHardState(h: HardState): void {
    this.#records.push({ t: 'h', h: { term: h.term, vote: h.vote, commit: h.commit } })
  }

  /** An installed or locally taken snapshot. On replay it keeps the entries after it only if they match it. */
  saveSnapshot(s: Snapshot): void {
    this.#records.push({ t: 's', s: { meta: s.meta, data: s.data } })
  }

  sync(): void {
    this.#synced = this.#records.length
  }

  /**
   * Writes a fresh journal holding the same state (a snapshot's compaction, made atomic as a rename
   * is): only called when everything is synced, so nothing unsynced can be lost by it.
   */
  rewrite(keepBefore: number): void {
    if (this.unsynced !== 0) throw new Error('storage: rewrite with unsynced records')
    const { state } = this.load()
    this.#records = []
    if (state.snapshot) this.saveSnapshot(state.snapshot)
    this.appendEntries((state.entries ?? []).filter((e) => e.index > keepBefore))
    if (state.hardState) this.setHardState(state.hardState)
    this.sync()
  }

  /** Loses a random suffix of the unsynced records; the first lost one may be left torn. */
  crash(rand: () => number): CrashReport {
    const unsynced = this.unsynced
    const keep = Math.floor(rand() * (unsynced + 1))
    const lost = this.#records.splice(this.#synced + keep)
    this.#synced = this.#records.length
    const torn = lost.length > 0 && rand() < 0.5
    // A torn frame keeps at least its header's first byte and misses at least one byte.
    const frame = torn ? encodeFrame(lost[0]) : undefined
    this.#tail = frame?.subarray(0, 1 + Math.floor(rand() * (frame.length - 1)))
    return { lost: lost.length, torn }
  }

  /** Replays the journal into what a restarting node starts from, dropping a torn tail record. */
  load(): LoadResult {
    let snapshot: Snapshot | undefined
    let hardState: HardState | undefined
    let entries: Entry[] = []
    const records: Record[] = [...this.#records]
    let tornBytes = 0
    if (this.#tail !== undefined) {
      const body = decodeFrame(this.#tail)
      if (body === undefined) tornBytes = this.#tail.length
      else records.push(body)
    }
    for (const body of records) {
      if (body.t === 'h') hardState = body.h
      else if (body.t === 's') {
        const meta = body.s.meta
        // The same rule as the core's log restore: a suffix that matches the snapshot's boundary stays.
        const term = snapshot?.meta.index === meta.index ? snapshot.meta.term : entries.find((e) => e.index === meta.index)?.term
        entries = term === meta.term ? entries.filter((e) => e.index > meta.index) : []
        snapshot = body.s
      } else {
        const e = body.e
        const first = entries.length > 0 ? entries[0].index : (snapshot?.meta.index ?? 0) + 1
        if (e.index < first || e.index <= (snapshot?.meta.index ?? 0)) {
          throw new Error(`storage: entry ${e.index} written below the first held one (${first}) or the snapshot`)
        }
        if (e.index > first + entries.length) {
          throw new Error(`storage: entry ${e.index} leaves a gap after ${first + entries.length - 1}`)
        }
        entries.length = Math.max(0, e.index - first)
        entries.push(e)
      }
    }
    // The reader truncates the torn tail away, as etcd's WAL repair does.
    this.#tail = undefined
    return { state: { hardState, snapshot, entries }, tornBytes }
  }

}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'))

function encodeFrame(r: Record): Uint8Array {
  const body: RecordBody = r.t === 'h' ? r
    : r.t === 'e' ? { t: 'e', e: { index: r.e.index, term: r.e.term, type: r.e.type, data: b64(r.e.data) } }
    : { t: 's', meta: r.s.meta, data: b64(r.s.data) }
  const json = encoder.encode(JSON.stringify(body))
  const out = new Uint8Array(8 + json.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, json.length)
  view.setUint32(4, crc32(json))
  out.set(json, 8)
  return out
}

function decodeFrame(frame: Uint8Array): Record | undefined {
  if (frame.length < 8) return undefined
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const len = view.getUint32(0)
  if (frame.length !== 8 + len) return undefined
  const json = frame.subarray(8)
  if (crc32(json) !== view.getUint32(4)) return undefined
  const body = JSON.parse(decoder.decode(json)) as RecordBody
  if (body.t === 'h') return body
  if (body.t === 'e') return { t: 'e', e: { ...body.e, data: unb64(body.e.data) } }
  return { t: 's', s: { meta: body.meta, data: unb64(body.data) } }
}
