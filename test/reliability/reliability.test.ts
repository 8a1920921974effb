/**
 * The short version of `npm run reliability` that CI runs: 3 servers and a client agent, every
 * nemesis for a few seconds against every workload, 0 anomalies, 0 acknowledged writes lost, 0
 * crashes. A failure prints the seed, the schedule and the replay line.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mulberry32 } from '../../src/lib/prng.js'
import { FAULTS, schedule } from './nemeses.js'
import { WORKLOADS } from './workloads.js'
import { runSuite, table } from './suite.js'

const SEED = Number(process.env.RELIABILITY_SEED ?? 20261207)

test('a schedule is a function of its seed', () => {
  assert.deepEqual(schedule(mulberry32(5), 30_000), schedule(mulberry32(5), 30_000))
  assert.notDeepEqual(schedule(mulberry32(5), 30_000), schedule(mulberry32(6), 30_000))
  for (const s of schedule(mulberry32(5), 30_000)) assert.ok(s.at + s.hold <= 30_000)
})

test(`every nemesis against every workload, 3 servers and a client agent, seed ${SEED}`, { timeout: 15 * 60_000 }, async (t) => {
  const r = await runSuite({ seed: SEED, sizes: [3], clients: 1, secondsPerFault: 6, net: 41, log: () => {} })
  for (const line of table(r.rows).split('\n')) t.diagnostic(line)
  assert.deepEqual(r.failures, [])
  // One row per nemesis and workload, none lost; a nemesis the machine cannot run says why.
  assert.deepEqual(r.rows.map((x) => `${x.fault}/${x.workload}`), FAULTS.flatMap((f) => WORKLOADS.map((w) => `${f.name}/${w.name}`)))
  for (const x of r.rows.filter((x) => x.skipped)) t.diagnostic(`not run here: ${x.fault}: ${x.skipped}`)
  assert.ok(r.rows.every((x) => x.skipped || x.verdict!.ops > 0), 'every cell did some work')
})
