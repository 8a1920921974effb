import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mulberry32 } from '../../../src/lib/prng.js'
import type { Entry } from '../../../src/raft/core/types.js'
import { SimStorage } from './sim-storage.js'

const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(`e${index}`) })
const indexes = (s: SimStorage) => (s.load().state.entries ?? []).map((e) => `${e.index}/${e.term}`)

test('synced records survive every crash; of the unsynced, a prefix survives', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const s = new SimStorage()
    s.appendEntries([entry(1, 1), entry(2, 1)])
    s.setHardState({ term: 1, vote: 'a', commit: 1 })
    s.sync()
    s.appendEntries([entry(3, 1), entry(4, 1)])
    s.setHardState({ term: 1, vote: 'a', commit: 4 })
    const r = s.crash(mulberry32(seed))
    const { state } = s.load()
    const got = indexes(s)
    assert.deepEqual(got.slice(0, 2), ['1/1', '2/1'], `seed ${seed}`)
    assert.ok(['1/1 2/1', '1/1 2/1 3/1', '1/1 2/1 3/1 4/1'].includes(got.join(' ')), `seed ${seed}: ${got}`)
    assert.equal(state.hardState!.commit === 4, r.lost === 0, `seed ${seed}: the hard state is the last record`)
    assert.equal(got.length, 4 - Math.max(0, r.lost - 1))
  }
})

test('a torn last record is dropped on load, and the load says how many bytes it dropped', () => {
  let torn = 0
  for (let seed = 1; seed <= 100; seed++) {
    const s = new SimStorage()
    s.appendEntries([entry(1, 1)])
    s.sync()
    s.appendEntries([entry(2, 2)])
    const r = s.crash(mulberry32(seed))
    const l = s.load()
    if (r.torn) {
      torn++
      assert.ok(l.tornBytes > 0)
      assert.deepEqual(indexes(s), ['1/1'])
    } else assert.equal(l.tornBytes, 0)
    // The loader truncated the torn tail: a second load sees the same log and no torn record.
    assert.equal(s.load().tornBytes, 0)
  }
  assert.ok(torn > 10 && torn < 90, `${torn} of 100 crashes tore a record`)
})

test('an entry record replaces the stored suffix from its index; a gap is refused', () => {
  const s = new SimStorage()
  s.appendEntries([entry(1, 1), entry(2, 1), entry(3, 1)])
  s.appendEntries([entry(2, 2)])
  assert.deepEqual(indexes(s), ['1/1', '2/2'])
  s.appendEntries([entry(5, 2)])
  assert.throws(() => s.load(), /gap/)
})

test('a snapshot keeps the entries after it only when they match its boundary (the core log restore rule)', () => {
  const meta = (index: number, term: number) => ({ index, term, conf: { voters: ['a'], learners: [] }, size: 0, crc32: 0 })
  const s = new SimStorage()
  s.appendEntries([entry(1, 1), entry(2, 1), entry(3, 1)])
  s.saveSnapshot({ meta: meta(2, 1), data: new Uint8Array() })
  assert.deepEqual(indexes(s), ['3/1'])
  // The same snapshot again (a second compaction at the boundary) keeps them too.
  s.saveSnapshot({ meta: meta(2, 1), data: new Uint8Array() })
  assert.deepEqual(indexes(s), ['3/1'])
  s.saveSnapshot({ meta: meta(4, 3), data: new Uint8Array() })
  assert.deepEqual(indexes(s), [])
  assert.equal(s.load().state.snapshot!.meta.index, 4)
  s.sync()
  s.rewrite(0)
  assert.equal(s.records, 1, 'a rewrite keeps the snapshot alone')
})
