import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sim } from './sim.js'
import { campaign, formatCampaign, simOptions } from './campaign.js'

// RAFT_SIM_SEED=<n> replays one campaign seed (its failure message starts with SIM_SEED=<n>), with
// every delivered message in the trace; RAFT_SIM_SERVERS=<3|5> picks the size its campaign used.
const only = process.env.RAFT_SIM_SEED
const onlyServers = process.env.RAFT_SIM_SERVERS === undefined ? undefined : Number(process.env.RAFT_SIM_SERVERS)
const seeds = only !== undefined ? [Number(only)] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]

for (const servers of [3, 5]) {
  test(`a campaign of 1,000 seeds with ${servers} servers under every fault: no safety violation, consistent reads and writes linearizable, recovery after healing`, (t) => {
    if (only !== undefined) {
      if (onlyServers !== undefined && onlyServers !== servers) return
      return void new Sim({ ...simOptions(Number(only), { servers }), traceMessages: true }).run()
    }
    const r = campaign({ seeds: 1000, servers })
    t.diagnostic(formatCampaign(r).replace(/\n/g, '; '))
    assert.deepEqual(r.failures.map((f) => `${f.seed} ${f.kind}`), [], r.failures[0]?.message)
    assert.equal(r.safetyViolations + r.linearizabilityAnomalies + r.livenessFailures, 0)
    // The faults happened and the clients did work: a campaign that exercised nothing would pass too.
    assert.ok(r.unknownWrites > 0 && r.writes > 10 * r.seeds && r.consistentReads > 5 * r.seeds, formatCampaign(r))
    assert.ok(r.staleStale > 0, 'stale-mode reads of a lagging server are observed and counted')
  })
}

test('seeded simulation with membership changes: spares join as learners, get promoted, members are removed', () => {
  for (const seed of seeds) new Sim({ seed, nodes: 3, spares: 2, steps: 600 }).run()
})

test('seeded simulation under heavy faults: 30% loss, frequent crashes (also mid-Ready, torn records), frequent partitions, 3 to 5 servers', () => {
  for (const seed of seeds) {
    new Sim({ seed, nodes: 3 + (seed % 3), spares: seed % 2, steps: 600, dropRate: 0.3, crashRate: 0.03, partitionRate: 0.05 }).run()
  }
})

test('a seed replays exactly, with or without the message trace', () => {
  const a = new Sim({ seed: 99, steps: 200 })
  const b = new Sim({ seed: 99, steps: 200 })
  const c = new Sim({ seed: 99, steps: 200, traceMessages: true })
  a.run()
  b.run()
  c.run()
  assert.ok(a.trace.length > 10)
  assert.deepEqual(a.trace, b.trace)
  const messageLine = /^t\d+ (\(down\) )?n\d+->n\d+ /
  assert.ok(c.trace.some((l) => messageLine.test(l)))
  assert.deepEqual(c.trace.filter((l) => !messageLine.test(l)), a.trace)
})
