import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  checkOperations,
  countStaleReads,
  kvModel,
  setModel,
  type SetOperation,
} from '../../../src/lib/linearizability/index.js'
import { cas, generateKv, get, put } from './histories.js'

const add = (c: number, call: number, ret: number, value: string): SetOperation => ({
  clientId: c,
  callTime: call,
  returnTime: ret,
  input: { op: 'add', value },
  output: { kind: 'ok' },
})
const lostAdd = (c: number, call: number, value: string): SetOperation => ({
  ...add(c, call, Infinity, value),
  output: { kind: 'unknown' },
})
const read = (c: number, call: number, ret: number, values: string[]): SetOperation => ({
  clientId: c,
  callTime: call,
  returnTime: ret,
  input: { op: 'read' },
  output: { kind: 'values', values },
})
const setVerdict = (history: SetOperation[]): string => checkOperations(setModel, history).result

test('set model: concurrent adds and reads in any order', () => {
  const adds = [add(0, 0, 10, 'a'), add(1, 0, 10, 'b')]
  assert.equal(setVerdict([...adds, read(2, 1, 5, ['b']), read(3, 11, 12, ['b', 'a'])]), 'ok')
  assert.equal(setVerdict([...adds, read(2, 1, 5, []), read(2, 6, 9, ['a'])]), 'ok')
})

test('set model: an acknowledged element lost, duplicated, or seen before its add is illegal', () => {
  const adds = [add(0, 0, 10, 'a'), add(1, 0, 10, 'b')]
  assert.equal(setVerdict([...adds, read(2, 11, 12, ['a'])]), 'illegal')
  assert.equal(setVerdict([...adds, read(2, 11, 12, ['a', 'b', 'a'])]), 'illegal')
  assert.equal(setVerdict([read(2, 0, 5, ['a']), add(0, 6, 10, 'a')]), 'illegal')
  // Seen, then gone.
  assert.equal(setVerdict([add(0, 0, 100, 'a'), read(1, 10, 20, ['a']), read(1, 30, 40, [])]), 'illegal')
})

test('set model: an add that timed out may show up later or never', () => {
  assert.equal(setVerdict([lostAdd(0, 0, 'a'), read(1, 10, 20, []), read(1, 30, 40, ['a'])]), 'ok')
  assert.equal(setVerdict([lostAdd(0, 0, 'a'), read(1, 10, 20, [])]), 'ok')
  assert.equal(setVerdict([lostAdd(0, 0, 'a'), read(1, 10, 20, ['a']), read(1, 30, 40, [])]), 'illegal')
})

test('stale reads: fine, stale (an older value) and impossible (a value never held before) are told apart', () => {
  const writes = [put(0, 0, 10, 'x', '1'), put(0, 20, 30, 'x', '2'), put(0, 0, 5, 'y', 'q')]
  const fine = get(1, 40, 50, 'x', '2')
  const stale = get(1, 40, 50, 'x', '1')
  const staleMissing = get(2, 40, 50, 'x', null)
  const invented = get(1, 40, 50, 'x', 'zzz')
  const fromTheFuture = get(2, 11, 15, 'x', '2')
  const otherKey = get(3, 6, 7, 'y', 'q')
  const report = countStaleReads(kvModel, writes, [fine, stale, staleMissing, invented, fromTheFuture, otherKey])
  assert.equal(report.base, 'ok')
  assert.equal(report.checked, 6)
  assert.deepEqual(report.stale, [stale, staleMissing])
  assert.deepEqual(report.impossible, [invented, fromTheFuture])
  assert.deepEqual(report.undecided, [])
})

test('stale reads are judged against the writes only, never against one another', () => {
  // Two stale reads that disagree in time order are each possible alone.
  const writes = [put(0, 0, 10, 'x', '1'), put(0, 20, 30, 'x', '2')]
  const late = get(1, 40, 50, 'x', '1')
  const early = get(1, 31, 35, 'x', '2')
  const report = countStaleReads(kvModel, writes, [early, late])
  assert.deepEqual(report.stale, [late])
  assert.deepEqual(report.impossible, [])
})

test('stale reads: writes that are not linearizable themselves leave every read unjudged', () => {
  const writes = [put(0, 0, 5, 'x', 'a'), cas(1, 10, 20, 'x', 'a', 'b', false)]
  const report = countStaleReads(kvModel, writes, [get(1, 40, 50, 'x', 'a')])
  assert.equal(report.base, 'illegal')
  assert.equal(report.checked, 0)
})

test('stale reads: a seeded linearizable history has none, and delayed reads are counted', () => {
  const history = generateKv(77, { ops: 400, keys: 5, clients: 8, spread: 5, lostFraction: 0 })
  const writes = history.filter((op) => op.input.op !== 'get')
  const reads = history.filter((op) => op.input.op === 'get')
  const clean = countStaleReads(kvModel, writes, reads)
  assert.equal(clean.checked, reads.length)
  assert.equal(clean.stale.length + clean.impossible.length, 0)
  // The same answers, asked much later (a replica lagging far behind): many are now stale, none impossible.
  const late = reads.map((op) => ({ ...op, callTime: op.callTime + 5000, returnTime: op.returnTime + 5000 }))
  const lagging = countStaleReads(kvModel, writes, late)
  assert.ok(lagging.stale.length > 0)
  assert.equal(lagging.impossible.length, 0)
})
