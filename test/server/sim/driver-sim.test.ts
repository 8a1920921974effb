import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatCampaign } from '../../raft/core/campaign.js'
import { driverCampaign, driverSimOptions } from './driver-campaign.js'
import { DriverSim } from './driver-sim.js'

// DRIVER_SIM_SEED=<n> replays one campaign seed (its failure message starts with DRIVER_SIM_SEED=<n>)
// with every delivered message in the trace; DRIVER_SIM_SERVERS=<3..7> picks the size its campaign used.
const only = process.env.DRIVER_SIM_SEED
const onlyServers = process.env.DRIVER_SIM_SERVERS === undefined ? undefined : Number(process.env.DRIVER_SIM_SERVERS)
/** Seeds per cluster size in CI (see the report in the commit for the time per seed). */
const SEEDS = Number(process.env.DRIVER_SIM_SEEDS ?? 500)

for (const servers of [3, 5]) {
  test(`the whole server stack, ${SEEDS} seeds with ${servers} servers under every fault: no safety violation, consistent reads and writes linearizable, recovery after healing`, async (t) => {
    if (only !== undefined) {
      if (onlyServers !== undefined && onlyServers !== servers) return
      await new DriverSim({ ...driverSimOptions(Number(only), { servers }), traceMessages: true }).run()
      return
    }
    const r = await driverCampaign({ seeds: SEEDS, servers })
    t.diagnostic(`${formatCampaign(r).replace(/\n/g, '; ')}; crashes ${r.crashes}; snapshots installed ${r.snapshotsInstalled}`)
    assert.deepEqual(r.failures.map((f) => `${f.seed} ${f.kind}`), [], r.failures[0]?.message)
    // The faults happened and the clients did work through the endpoints: a run that exercised nothing would pass too.
    assert.ok(r.unknownWrites > 0 && r.writes > 10 * r.seeds && r.consistentReads > 5 * r.seeds && r.defaultReads > r.seeds, formatCampaign(r))
    assert.ok(r.crashes > r.seeds && r.snapshotsInstalled > 0, `crashes ${r.crashes}, snapshots installed ${r.snapshotsInstalled}`)
    assert.ok(r.staleStale > 0, 'stale-mode reads of a lagging server are observed and counted')
  })
}

test('7 servers, and 3 to 7 under heavy faults (30% loss, frequent crashes and partitions)', async () => {
  if (only !== undefined) return
  for (let seed = 1; seed <= 10; seed++) {
    await new DriverSim({ ...driverSimOptions(seed), nodes: 3 + (seed % 5), steps: 500, dropRate: 0.3, crashRate: 0.03, partitionRate: 0.05 }).run()
  }
})

test('a seed replays exactly, with or without the message trace', async () => {
  const a = new DriverSim({ ...driverSimOptions(99), steps: 200 })
  const b = new DriverSim({ ...driverSimOptions(99), steps: 200 })
  const c = new DriverSim({ ...driverSimOptions(99), steps: 200, traceMessages: true })
  await a.run()
  await b.run()
  await c.run()
  assert.ok(a.trace.filter((l) => / client \d+ op \d+ -> /.test(l)).length > 20, 'clients were answered')
  assert.deepEqual(a.trace, b.trace)
  const messageLine = /^t\d+ (\(down\) )?n\d+->n\d+ /
  assert.ok(c.trace.some((l) => messageLine.test(l)))
  assert.deepEqual(c.trace.filter((l) => !messageLine.test(l)), a.trace)
})

test('a run reaches no real timer, wall clock or unseeded randomness: everything is on the virtual clock and the seed', async () => {
  const g = globalThis as unknown as Record<string, unknown>
  const names = ['setTimeout', 'setInterval', 'setImmediate'] as const
  const saved: Record<string, unknown> = Object.fromEntries(names.map((n) => [n, g[n]]))
  const [now, random] = [Date.now, Math.random]
  const used: string[] = []
  const trap = (name: string) => (...args: unknown[]): never => {
    used.push(name)
    throw new Error(`${name} called in a simulation (${args.length} args)`)
  }
  for (const n of names) g[n] = trap(n)
  Date.now = trap('Date.now')
  Math.random = trap('Math.random')
  try {
    await new DriverSim({ ...driverSimOptions(7), steps: 200 }).run()
  } finally {
    for (const n of names) g[n] = saved[n]
    Date.now = now
    Math.random = random
  }
  assert.deepEqual(used, [])
})
