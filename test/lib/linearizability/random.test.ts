import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkOperations, kvModel, type KvOperation } from '../../../src/lib/linearizability/index.js'
import { bruteForceLinearizable, generateKv, get, maxConcurrency, put, rng } from './histories.js'

const SEEDS = 200

/** Replace one read's answer by a value no write ever wrote. */
function mutateOneRead(history: KvOperation[], seed: number): KvOperation[] | null {
  const reads = history.flatMap((op, i) => (op.input.op === 'get' ? [i] : []))
  if (reads.length === 0) return null
  const victim = reads[rng(seed ^ 0x5bd1e995).int(reads.length)]
  const copy = history.slice()
  copy[victim] = { ...copy[victim], output: { kind: 'value', value: 'never-written' } }
  return copy
}

test(`seeded linearizable histories check ok, and one read mutated makes them illegal (${SEEDS} seeds)`, () => {
  let overlapping = 0
  for (let seed = 1; seed <= SEEDS; seed++) {
    const history = generateKv(seed, { ops: 120, keys: 3, clients: 6, spread: 12, lostFraction: 0.1 })
    if (maxConcurrency(history) > 3) overlapping++
    const checked = checkOperations(kvModel, history)
    assert.equal(checked.result, 'ok', `seed ${seed}: ${checked.explanation?.text ?? ''}`)
    const mutated = mutateOneRead(history, seed)
    if (mutated === null) continue
    const bad = checkOperations(kvModel, mutated)
    assert.equal(bad.result, 'illegal', `seed ${seed}`)
    assert.ok(bad.explanation?.unplaceable.some((op) => op.output.kind === 'value' && op.output.value === 'never-written'), `seed ${seed}`)
  }
  // The property means something only if the intervals do overlap.
  assert.ok(overlapping > SEEDS * 0.9, `only ${overlapping} of ${SEEDS} histories overlap`)
})

/** A tiny history with random intervals and random (often wrong) answers over a few values. */
function randomSmall(seed: number): KvOperation[] {
  const r = rng(seed)
  const values = ['a', 'b', null] as const
  const count = 2 + r.int(6)
  const history: KvOperation[] = []
  for (let i = 0; i < count; i++) {
    const callTime = r.int(20)
    const returnTime = r.next() < 0.1 ? Infinity : callTime + r.int(10)
    const key = r.next() < 0.8 ? 'x' : 'y'
    const pick = values[r.int(3)]
    const kind = r.int(4)
    const output = r.next() < 0.1 && returnTime === Infinity ? ({ kind: 'unknown' } as const) : null
    if (kind === 0) history.push({ ...get(i, callTime, returnTime, key, pick), ...(output ? { output } : {}) })
    else if (kind === 1) history.push({ ...put(i, callTime, returnTime, key, pick ?? 'a'), ...(output ? { output } : {}) })
    else if (kind === 2) {
      history.push({
        clientId: i,
        callTime,
        returnTime,
        input: { op: 'cas', key, expected: values[r.int(3)], value: pick },
        output: output ?? { kind: 'ok', ok: r.next() < 0.5 },
      })
    } else history.push({ clientId: i, callTime, returnTime, input: { op: 'delete', key }, output: output ?? { kind: 'ok', ok: true } })
  }
  return history
}

test('the checker agrees with a brute-force search over all orders on small random histories', () => {
  const verdicts = { ok: 0, illegal: 0 }
  for (let seed = 1; seed <= 3000; seed++) {
    const history = randomSmall(seed)
    const expected = bruteForceLinearizable(kvModel, history) ? 'ok' : 'illegal'
    assert.equal(checkOperations(kvModel, history).result, expected, `seed ${seed}: ${JSON.stringify(history)}`)
    verdicts[expected]++
  }
  // Both answers occur often enough for the comparison to mean something.
  assert.ok(verdicts.ok > 300 && verdicts.illegal > 300, JSON.stringify(verdicts))
})

test('partitioning by key: a thousand keys of heavily overlapping operations, and one bad key found', () => {
  const history: KvOperation[] = []
  for (let k = 0; k < 1000; k++) {
    const part = generateKv(10_000 + k, { ops: 20, keys: 1, clients: 4, spread: 10, lostFraction: 0.05 })
    // Every key's operations live in the same time window, so all keys overlap one another.
    for (const op of part) history.push({ ...op, input: { ...op.input, key: `key${k}` } })
  }
  assert.ok(maxConcurrency(history) > 500)
  const checked = checkOperations(kvModel, history)
  assert.equal(checked.result, 'ok')
  assert.equal(checked.partitions, 1000)
  const broken = history.slice()
  const victim = broken.findIndex((op) => op.input.key === 'key537' && op.input.op === 'get')
  assert.ok(victim >= 0)
  broken[victim] = { ...broken[victim], output: { kind: 'value', value: 'never-written' } }
  const bad = checkOperations(kvModel, broken)
  assert.equal(bad.result, 'illegal')
  assert.equal(bad.explanation?.partition, 'key "key537"')
})

test('performance sanity: 10,000 operations over 100 keys', () => {
  const history = generateKv(424242, { ops: 10_000, keys: 100, clients: 50, spread: 1000, lostFraction: 0.02 })
  assert.ok(maxConcurrency(history) > 20)
  const checked = checkOperations(kvModel, history)
  assert.equal(checked.result, 'ok')
  assert.equal(checked.partitions, 100)
})
