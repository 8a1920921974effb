import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  checkEvents,
  checkOperations,
  HistoryError,
  kvModel,
  operationsFromEvents,
  type HistoryEvent,
  type KvInput,
  type KvOperation,
  type KvOutput,
} from '../../../src/lib/linearizability/index.js'
import { cas, del, get, lost, put } from './histories.js'

const verdict = (history: KvOperation[]): string => checkOperations(kvModel, history).result

test('a concurrent register history that has a linearization', () => {
  // One writer, three readers: the read that overlaps the write's start sees nothing yet, the
  // one overlapping its end already sees it, and the one after it must see it.
  const history = [
    put(0, 0, 10, 'x', '1'),
    get(1, 2, 5, 'x', null),
    get(2, 3, 12, 'x', '1'),
    get(3, 11, 15, 'x', '1'),
  ]
  assert.equal(verdict(history), 'ok')
})

test('a read after a write returned cannot see the value before it', () => {
  assert.equal(verdict([put(0, 0, 5, 'x', '1'), get(1, 6, 8, 'x', null)]), 'illegal')
  // The same read overlapping the write may see either value.
  assert.equal(verdict([put(0, 0, 5, 'x', '1'), get(1, 4, 8, 'x', null)]), 'ok')
  assert.equal(verdict([put(0, 0, 5, 'x', '1'), get(1, 4, 8, 'x', '1')]), 'ok')
})

test('once a read saw the new value, a later read cannot see the old one (new-old inversion)', () => {
  const slowWrite = put(0, 0, 100, 'x', '1')
  assert.equal(verdict([slowWrite, get(1, 10, 20, 'x', '1'), get(2, 30, 40, 'x', null)]), 'illegal')
  // Reads that overlap each other may be ordered either way.
  assert.equal(verdict([slowWrite, get(1, 10, 35, 'x', '1'), get(2, 30, 40, 'x', null)]), 'ok')
  // Two readers seeing the two writes in opposite orders.
  const twoWrites = [put(0, 0, 50, 'x', 'a'), put(1, 0, 50, 'x', 'b')]
  assert.equal(verdict([...twoWrites, get(2, 10, 20, 'x', 'a'), get(2, 21, 30, 'x', 'b'), get(3, 31, 40, 'x', 'a')]), 'illegal')
  assert.equal(verdict([...twoWrites, get(2, 10, 20, 'x', 'a'), get(2, 21, 30, 'x', 'b'), get(3, 31, 40, 'x', 'b')]), 'ok')
})

test('compare-and-set: one winner among racers, and a refusal must be justified', () => {
  const setup = put(0, 0, 5, 'x', 'a')
  assert.equal(verdict([setup, cas(1, 10, 20, 'x', 'a', 'b', true), cas(2, 12, 22, 'x', 'a', 'c', false), get(3, 30, 31, 'x', 'b')]), 'ok')
  // Both racers cannot win from the same value.
  assert.equal(verdict([setup, cas(1, 10, 20, 'x', 'a', 'b', true), cas(2, 12, 22, 'x', 'a', 'c', true)]), 'illegal')
  // A refusal while the value matched and nothing else ran.
  assert.equal(verdict([setup, cas(1, 10, 20, 'x', 'a', 'b', false)]), 'illegal')
  // The loser's read of the winner's value.
  assert.equal(verdict([setup, cas(1, 10, 20, 'x', 'a', 'b', true), get(3, 30, 31, 'x', 'c')]), 'illegal')
  // expected null: create only (Consul's cas=0), and a cas to null deletes.
  assert.equal(verdict([cas(0, 0, 5, 'x', null, 'a', true), cas(1, 6, 9, 'x', null, 'b', false), get(2, 10, 11, 'x', 'a')]), 'ok')
  assert.equal(verdict([cas(0, 0, 5, 'x', null, 'a', true), cas(1, 6, 9, 'x', 'a', null, true), get(2, 10, 11, 'x', null)]), 'ok')
  assert.equal(verdict([put(0, 0, 5, 'x', 'a'), cas(1, 6, 9, 'x', null, 'b', true)]), 'illegal')
})

test('delete, and a read of a value that was never written', () => {
  assert.equal(verdict([put(0, 0, 5, 'x', 'a'), del(1, 6, 9, 'x'), get(2, 10, 11, 'x', null)]), 'ok')
  assert.equal(verdict([put(0, 0, 5, 'x', 'a'), del(1, 6, 9, 'x'), get(2, 10, 11, 'x', 'a')]), 'illegal')
  assert.equal(verdict([put(0, 0, 5, 'x', 'a'), get(2, 1, 11, 'x', 'zzz')]), 'illegal')
})

test('a write whose return is unknown may take effect any time after its call, or never', () => {
  const timedOut = lost(0, 0, { op: 'put', key: 'x', value: '1' })
  assert.equal(verdict([timedOut, get(1, 10, 20, 'x', '1')]), 'ok')
  assert.equal(verdict([timedOut, get(1, 10, 20, 'x', null), get(1, 1000, 1001, 'x', null)]), 'ok')
  assert.equal(verdict([timedOut, get(1, 10, 20, 'x', null), get(1, 30, 40, 'x', '1')]), 'ok')
  // It takes effect once: the new value, then the old one again, is not possible.
  assert.equal(verdict([timedOut, get(1, 10, 20, 'x', '1'), get(1, 30, 40, 'x', null)]), 'illegal')
  // Nothing can see it before it was called.
  assert.equal(verdict([get(1, 0, 5, 'x', '1'), lost(0, 10, { op: 'put', key: 'x', value: '1' })]), 'illegal')
  // A timed-out cas applies only if its comparison holds where it lands.
  const timedOutCas = lost(0, 0, { op: 'cas', key: 'x', expected: 'a', value: 'b' })
  assert.equal(verdict([put(2, 0, 1, 'x', 'a'), timedOutCas, get(1, 10, 20, 'x', 'b')]), 'ok')
  assert.equal(verdict([put(2, 0, 1, 'x', 'z'), timedOutCas, get(1, 10, 20, 'x', 'b')]), 'illegal')
})

test('operations that only touch in time are concurrent', () => {
  assert.equal(verdict([put(0, 0, 5, 'x', '1'), get(1, 5, 8, 'x', null)]), 'ok')
  assert.equal(verdict([put(0, 0, 5, 'x', '1'), get(1, 6, 8, 'x', null)]), 'illegal')
})

test('an illegal history comes with its longest linearizable prefix and what could not follow it', () => {
  const history = [put(0, 0, 10, 'x', '1'), put(1, 20, 30, 'x', '2'), get(2, 40, 50, 'x', '1'), put(0, 60, 70, 'y', '3')]
  const checked = checkOperations(kvModel, history)
  assert.equal(checked.result, 'illegal')
  const why = checked.explanation
  assert.ok(why)
  assert.equal(why.partition, 'key "x"')
  assert.deepEqual(why.longestPrefix, [history[0], history[1]])
  assert.equal(why.state, '2')
  assert.deepEqual(why.unplaceable, [history[2]])
  assert.match(why.text, /longest linearizable prefix \(2 of 3 operations\)/)
  assert.match(why.text, /client 2: get x -> "1" \[40, 50\]/)
  assert.match(why.text, /state after it: "2"/)
  assert.equal(checked.partitions, 2)
})

test('an ok result carries no explanation, and an empty history is linearizable', () => {
  const checked = checkOperations(kvModel, [put(0, 0, 1, 'x', 'a')])
  assert.equal(checked.result, 'ok')
  assert.equal(checked.explanation, undefined)
  assert.equal(checkOperations(kvModel, []).result, 'ok')
})

/** Many writes all open at once, then a read of a value never written: a search with no way out. */
function hardIllegal(writes: number): KvOperation[] {
  const history: KvOperation[] = []
  for (let i = 0; i < writes; i++) history.push(put(i, 0, 100, 'x', `v${i}`))
  history.push(get(99, 0, 100, 'x', 'never'))
  return history
}

test('the search gives up with unknown at stepsMax or timeoutMs', () => {
  const history = hardIllegal(10)
  assert.equal(checkOperations(kvModel, history).result, 'illegal')
  const capped = checkOperations(kvModel, history, { stepsMax: 50 })
  assert.equal(capped.result, 'unknown')
  assert.equal(capped.explanation, undefined)
  let clockMs = 0
  const slowClock = () => (clockMs += 1000)
  assert.equal(checkOperations(kvModel, history, { timeoutMs: 1, now: slowClock }).result, 'unknown')
  assert.equal(checkOperations(kvModel, history, { timeoutMs: 1e12, now: slowClock }).result, 'illegal')
})

test('a malformed history is refused with a HistoryError', () => {
  assert.throws(() => checkOperations(kvModel, [put(0, 10, 5, 'x', 'a')]), (e) => e instanceof HistoryError && /before its call/.test(e.message))
  assert.throws(() => checkOperations(kvModel, [put(0, Number.NaN, 5, 'x', 'a')]), HistoryError)
  assert.throws(() => checkOperations(kvModel, [put(0, -Infinity, 5, 'x', 'a')]), HistoryError)
  const dropsOne = { ...kvModel, partition: (h: readonly KvOperation[]) => [h.slice(1)] }
  assert.throws(() => checkOperations(dropsOne, [put(0, 0, 1, 'x', 'a'), put(0, 2, 3, 'x', 'b')]), /partition holds 1 operations, the history 2/)
})

type Ev = HistoryEvent<KvInput, KvOutput>
const call = (id: number, clientId: number, input: KvInput): Ev => ({ kind: 'call', id, clientId, input })
const ret = (id: number, output: KvOutput): Ev => ({ kind: 'return', id, output })

test('event histories: order alone gives the intervals', () => {
  const w: KvInput = { op: 'put', key: 'x', value: '1' }
  const r: KvInput = { op: 'get', key: 'x' }
  const overlapping = [call(1, 0, w), call(2, 1, r), ret(2, { kind: 'value', value: null }), ret(1, { kind: 'ok', ok: true })]
  assert.equal(checkEvents(kvModel, overlapping).result, 'ok')
  const after = [call(1, 0, w), ret(1, { kind: 'ok', ok: true }), call(2, 1, r), ret(2, { kind: 'value', value: null })]
  assert.equal(checkEvents(kvModel, after).result, 'illegal')
  const ops = operationsFromEvents(after)
  assert.deepEqual(ops.map((o) => [o.callTime, o.returnTime]), [[0, 1], [2, 3]])
})

test('event histories: a call that never returned needs an output for the unknown', () => {
  const w: KvInput = { op: 'put', key: 'x', value: '1' }
  const events = [call(1, 0, w), call(2, 1, { op: 'get', key: 'x' }), ret(2, { kind: 'value', value: '1' })]
  assert.throws(() => operationsFromEvents(events), (e) => e instanceof HistoryError && /never returned/.test(e.message))
  const pendingOutput = (): KvOutput => ({ kind: 'unknown' })
  const ops = operationsFromEvents(events, { pendingOutput })
  assert.equal(ops[1].returnTime, Infinity)
  assert.equal(checkEvents(kvModel, events, { pendingOutput }).result, 'ok')
  const readFirst = [call(2, 1, { op: 'get', key: 'x' }), ret(2, { kind: 'value', value: '1' }), call(1, 0, w)]
  assert.equal(checkEvents(kvModel, readFirst as Ev[], { pendingOutput }).result, 'illegal')
})

test('event histories: unmatched and reused ids are refused', () => {
  const r: KvInput = { op: 'get', key: 'x' }
  assert.throws(() => operationsFromEvents([ret(1, { kind: 'value', value: null })]), /no open call/)
  assert.throws(() => operationsFromEvents([call(1, 0, r), call(1, 0, r)]), /used twice/)
  assert.throws(() => operationsFromEvents([call(1, 0, r), ret(1, { kind: 'value', value: null }), call(1, 0, r)]), /used twice/)
})
