import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkOperations, mutexModel, type MutexInput, type MutexOperation } from '../../../src/lib/linearizability/index.js'

const op = (c: number, call: number, ret: number, o: MutexInput['op'], session: string, ok: boolean | undefined, key = 'l'): MutexOperation => ({
  clientId: c,
  callTime: call,
  returnTime: ok === undefined ? Infinity : ret,
  input: { op: o, key, session },
  output: ok === undefined ? { kind: 'unknown' } : { kind: 'ok', ok },
})
const verdict = (h: MutexOperation[]): string => checkOperations(mutexModel, h).result

test('mutex model: holders take turns; re-acquiring by the holder succeeds; only the holder releases', () => {
  assert.equal(verdict([op(0, 0, 1, 'acquire', 'a', true), op(1, 2, 3, 'acquire', 'b', false), op(0, 4, 5, 'acquire', 'a', true), op(1, 6, 7, 'release', 'b', false), op(0, 8, 9, 'release', 'a', true), op(1, 10, 11, 'acquire', 'b', true)]), 'ok')
  // Concurrent acquires: one wins, whichever linearizes first.
  assert.equal(verdict([op(0, 0, 5, 'acquire', 'a', false), op(1, 0, 5, 'acquire', 'b', true)]), 'ok')
})

test('mutex model: two holders at once, or a fenced write by a non-holder, is illegal', () => {
  assert.equal(verdict([op(0, 0, 1, 'acquire', 'a', true), op(1, 2, 3, 'acquire', 'b', true)]), 'illegal')
  assert.equal(verdict([op(0, 0, 1, 'acquire', 'a', true), op(0, 2, 3, 'release', 'a', true), op(0, 4, 5, 'guarded', 'a', true)]), 'illegal')
  assert.equal(verdict([op(0, 0, 1, 'acquire', 'a', false)]), 'illegal', 'a free lock refuses nobody')
  // Locks on different keys are independent.
  assert.equal(verdict([op(0, 0, 1, 'acquire', 'a', true, 'x'), op(1, 2, 3, 'acquire', 'b', true, 'y')]), 'ok')
})

test('mutex model: an unanswered acquire may have taken the lock, or not', () => {
  // b's refusal is explained only by a's acquire having landed; a's fenced write too.
  assert.equal(verdict([op(0, 0, 0, 'acquire', 'a', undefined), op(1, 2, 3, 'acquire', 'b', false), op(0, 4, 5, 'guarded', 'a', true)]), 'ok')
  // Or it never landed, and b holds.
  assert.equal(verdict([op(0, 0, 0, 'acquire', 'a', undefined), op(1, 2, 3, 'acquire', 'b', true), op(1, 4, 5, 'guarded', 'b', true)]), 'ok')
  // But not both: b holds and a's write also passes the fence.
  assert.equal(verdict([op(0, 0, 0, 'acquire', 'a', undefined), op(1, 2, 3, 'acquire', 'b', true), op(0, 4, 5, 'guarded', 'a', true), op(1, 6, 7, 'guarded', 'b', true)]), 'illegal')
})
