import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RaftLog } from '../../../src/raft/core/log.js'
import type { Entry } from '../../../src/raft/core/types.js'

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index & 0xff]) })

/** A log of `n` entries (terms 1, 1, 2, 2, ...) all stable and applied, over a store that holds them all. */
function cached(n: number, cacheEntries: number, store: Entry[] = []): { log: RaftLog; reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = []
  const log = new RaftLog({
    cacheEntries,
    reader: (lo, hi, maxBytes) => {
      reads.push([lo, hi])
      const out: Entry[] = []
      let bytes = 0
      for (const e of store) {
        if (e.index < lo || e.index >= hi) continue
        bytes += e.data.byteLength + 24
        if (out.length > 0 && bytes > maxBytes) break
        out.push(e)
      }
      return out
    },
  })
  settle(log, n, (i) => Math.ceil(i / 2), store)
  return { log, reads }
}

/** Appends entries 1..n (terms from `termOf`), each made stable, committed and applied; `store` gets them too. */
function settle(log: RaftLog, n: number, termOf: (i: number) => number, store: Entry[] = []): void {
  for (let i = 1; i <= n; i++) {
    const e = ent(i, termOf(i))
    store.push(e)
    log.append([e])
    log.stableTo(i, e.term)
    log.commitTo(i)
    log.appliedTo(i)
  }
}

test('with a reader, stable applied entries beyond the cache leave memory; terms and slices stay whole', () => {
  const { log, reads } = cached(100, 8)
  assert.ok(log.entriesInMemory < 16, `${log.entriesInMemory} entries in memory`)
  for (let i = 1; i <= 100; i++) assert.equal(log.term(i), Math.ceil(i / 2), `term ${i}`)
  assert.equal(reads.length, 0, 'terms come from memory')
  const all = log.slice(1, 101)!
  assert.deepEqual(all.map((e) => e.index), Array.from({ length: 100 }, (_, i) => i + 1))
  assert.ok(reads.length > 0, 'old entries were read back')
  assert.equal(log.entry(3)!.index, 3)
  // A byte bound stops inside the stored part as it does in memory.
  assert.equal(log.slice(1, 101, 30)!.length, 1)
  assert.deepEqual(log.findConflictByTerm(50, 10), { index: 20, term: 10 })
})

test('unapplied or unstable entries stay in memory whatever the cache size', () => {
  const log = new RaftLog({ cacheEntries: 1, reader: () => { throw new Error('must not read') } })
  for (let i = 1; i <= 50; i++) log.append([ent(i, 1)])
  log.stableTo(50, 1)
  log.commitTo(50)
  assert.equal(log.entriesInMemory, 50, 'nothing applied: nothing leaves')
  assert.equal(log.committedAfter(0, Infinity).length, 50)
})

test('storage that cannot give entries back reads as compacted (the leader then sends a snapshot)', () => {
  const { log } = cached(40, 4, [])
  // The store above is filled as entries are appended; a fresh reader over an empty store:
  const broken = new RaftLog({ cacheEntries: 2, reader: () => [] })
  settle(broken, 20, () => 1)
  assert.equal(broken.slice(1, 21), undefined)
  assert.ok(broken.slice(20, 21)!.length === 1, 'the cached tail is still served')
  // Entries from a reader that disagree with the terms held are refused, not served.
  const lying = new RaftLog({ cacheEntries: 2, reader: (lo) => [ent(lo, 99)] })
  settle(lying, 20, () => 1)
  assert.equal(lying.slice(1, 3), undefined)
  assert.equal(log.slice(1, 2)!.length, 1)
})

test('compaction and a snapshot restore keep the term runs right', () => {
  const { log } = cached(60, 4, [])
  assert.equal(log.compact(30), true)
  assert.equal(log.term(30), 15)
  assert.equal(log.term(31), 16)
  assert.equal(log.term(29), undefined)
  log.restore(45, 23)
  assert.equal(log.term(46), 23)
  assert.equal(log.term(60), 30)
  log.restore(200, 70)
  assert.equal(log.lastIndex(), 200)
  assert.equal(log.term(200), 70)
  log.append([ent(201, 70)])
  assert.equal(log.term(201), 70)
})
