/**
 * The acceptance runs of the gossip core at 200 members on the seeded simulator, with memberlist's
 * LAN timers and 5% packet loss: a crash is detected at every member, a run without a crash
 * declares no one failed (also with one member that reads its packets late, Lifeguard's case), and the
 * halves of a partition find each other again once it heals. Each run prints its detection time
 * and the packets each member sent per second. A failing seed replays with GOSSIP_SEED=<n>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LAN_CONFIG } from '../../src/gossip/core/config.js'
import { GossipSim } from './sim.js'

const SEED = process.env.GOSSIP_SEED ? Number(process.env.GOSSIP_SEED) : 7
const N = 200
const names = Array.from({ length: N }, (_, i) => `n${i}`)

/** 200 members joining n0 (each through one join) at 5% loss, run until every one knows every one alive. */
function cluster(seed: number): GossipSim {
  const sim = new GossipSim({ seed, config: LAN_CONFIG, loss: 0.05, reconnectIntervalMs: 30_000 })
  for (const name of names) sim.add(name)
  for (const name of names.slice(1)) {
    sim.run(Math.floor(sim.random() * 20))
    sim.join(name, ['n0'])
  }
  assert.ok(sim.runUntilTrue(() => sim.converged(() => 'alive'), 120_000, 500), `seed ${seed}: ${N} members did not converge within 2 minutes`)
  return sim
}

const failed = (sim: GossipSim, since = 0) => sim.events.filter((e) => e.event === 'failed' && e.at >= since)

/** Packets each member sent per second over the last `ms`, from the counts at its start. */
function packetRate(sim: GossipSim, sentBefore: Map<string, number>, ms: number): { median: number; max: number } {
  const rates = [...sim.members.values()].filter((m) => m.state === 'up').map((m) => ((m.sent - (sentBefore.get(m.name) ?? 0)) * 1000) / ms).sort((a, b) => a - b)
  return { median: rates[rates.length >> 1]!, max: rates.at(-1)! }
}

const sentNow = (sim: GossipSim): Map<string, number> => new Map([...sim.members.values()].map((m) => [m.name, m.sent]))

test(`seed ${SEED}: ${N} members, 5% loss: a crash is failed at every member; no one else is, also with one member reading its packets 1.2 s late`, () => {
  const sim = cluster(SEED)
  assert.deepEqual(failed(sim), [], 'a false death while joining')
  // Lifeguard's case: a member that reads every packet 1.2 s late (beyond a probe interval) while its
  // timers keep time: it misses its acks and suspects others, and others suspect it.
  sim.lag('n50', 1200)
  const quietFrom = sim.now
  const sent = sentNow(sim)
  sim.run(120_000)
  assert.deepEqual(failed(sim, quietFrom), [], `seed ${SEED}: false deaths with no crash`)
  const rate = packetRate(sim, sent, 120_000)
  const slow = sim.node('n50').pool
  assert.ok(slow.self.incarnation > 0, 'the lagging member was suspected (and refuted)')
  assert.ok(slow.awareness.score > 0, 'the lagging member knows it is unhealthy (Lifeguard)')

  const crashedAt = sim.now
  sim.crash('n123')
  assert.ok(sim.runUntilTrue(() => sim.converged((_o, m) => (m === 'n123' ? 'dead' : 'alive')), 120_000, 250), `seed ${SEED}: n123 not failed everywhere 2 minutes after its crash`)
  const detections = failed(sim, crashedAt).filter((e) => e.member === 'n123').map((e) => e.at - crashedAt).sort((a, b) => a - b)
  assert.equal(new Set(failed(sim, crashedAt).map((e) => e.observer)).size, N - 1)
  assert.deepEqual(failed(sim, crashedAt).filter((e) => e.member !== 'n123'), [], `seed ${SEED}: false deaths around the crash`)
  console.log(
    `gossip sim, ${N} members, LAN preset, 5% loss, seed ${SEED}: crash first failed after ${detections[0]} ms, at every member after ${detections.at(-1)} ms; ` +
      `packets sent per member per second ${rate.median.toFixed(1)} (median), ${rate.max.toFixed(1)} (max); no false deaths in 2 minutes with one member reading its packets 1.2 s late (it refuted ${slow.self.incarnation} suspicions; health score ${slow.awareness.score})`,
  )
})

test(`seed ${SEED}: ${N} members in halves for two minutes fail each other, then converge after the partition heals`, () => {
  const sim = cluster(SEED + 1)
  const [a, b] = [names.slice(0, N / 2), names.slice(N / 2)]
  sim.partition(a, b)
  const split = (o: string, m: string): string => (a.includes(o) === a.includes(m) ? 'alive' : 'dead')
  assert.ok(sim.runUntilTrue(() => sim.converged(split), 180_000, 500), `seed ${SEED + 1}: the halves did not fail each other`)
  sim.heal()
  const healedAt = sim.now
  assert.ok(sim.runUntilTrue(() => sim.converged(() => 'alive'), 180_000, 500), `seed ${SEED + 1}: not converged three minutes after the partition healed`)
  console.log(`gossip sim, ${N} members in halves: converged ${sim.now - healedAt} ms after the partition healed`)
})
