import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sim } from './sim.js'
import { campaign, simOptions } from './campaign.js'

// RAFT_SIM_SEED=<n> replays one seed (its failure message starts with SIM_SEED=<n>).
const only = process.env.RAFT_SIM_SEED
const seeds = only !== undefined ? [Number(only)] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]

test('a campaign of 1,000 seeds (3 and 5 servers, loss, duplication, reordering, isolation, crashes, membership): no failure', () => {
  // A campaign seed replays alone with RAFT_SIM_SEED: its options come from simOptions(seed).
  if (only !== undefined) return void new Sim(simOptions(Number(only))).run()
  const r = campaign({ seeds: 1000 })
  assert.deepEqual(r.failures.map((f) => f.seed), [], r.failures[0]?.message)
})

test('seeded simulation: safety after every step, recovery after healing', () => {
  for (const seed of seeds) new Sim({ seed }).run()
})

test('seeded simulation with membership changes: spares join as learners, get promoted, members are removed', () => {
  for (const seed of seeds) new Sim({ seed, nodes: 3, spares: 2, steps: 600 }).run()
})

test('seeded simulation under heavy faults: 30% loss, frequent crashes (also mid-Ready, torn appends), 3 to 5 servers', () => {
  for (const seed of seeds) new Sim({ seed, nodes: 3 + (seed % 3), spares: seed % 2, steps: 600, dropRate: 0.3, crashRate: 0.03 }).run()
})

test('a seed replays exactly', () => {
  const a = new Sim({ seed: 99, steps: 200 })
  const b = new Sim({ seed: 99, steps: 200 })
  a.run()
  b.run()
  assert.ok(a.trace.length > 10)
  assert.deepEqual(a.trace, b.trace)
})
