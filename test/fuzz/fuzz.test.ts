/**
 * Every fuzz target, 20,000 inputs from a fixed seed (the long mode is `npm run fuzz`): no
 * undocumented exception, no answer that breaks its round trip. A failure names the replay.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fuzz } from './runner.js'
import { TARGETS } from './targets.js'

const SEED = 20261207
const RUNS = 20_000

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${RUNS.toLocaleString()} inputs from seed ${SEED}`, async () => {
    const r = await fuzz(target, { seed: SEED, runs: RUNS })
    assert.equal(r.finding, undefined, r.finding && `${r.finding.message}\nreplay: npm run fuzz -- ${target.name} --seed ${SEED} --from ${r.finding.from} --runs ${r.finding.index - r.finding.from + 1}\ninput: ${r.finding.inputBase64}`)
    assert.equal(r.inputs, RUNS)
  })
}

test('a finding replays from its seed and index', async () => {
  const bad = { name: 'bad', what: '', corpus: () => [new Uint8Array([1, 2, 3])], run: (input: Uint8Array) => {
    if (input.length > 5) throw new Error('long input')
  } }
  const r = await fuzz(bad, { seed: 7, runs: 1000 })
  assert.ok(r.finding, 'some mutation is longer than 5 bytes')
  const again = await fuzz(bad, { seed: 7, runs: 1, from: r.finding.index })
  assert.equal(again.finding?.inputBase64, r.finding.inputBase64)
  assert.match(r.finding.message, /the target itself threw: long input/)
})
