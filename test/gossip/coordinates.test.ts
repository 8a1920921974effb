/**
 * Network coordinates over the gossip core, on the seeded simulator: members placed on a plane
 * (one-way delay = half their distance), each with a CoordinateTracker fed by its node's answered
 * probes and putting its coordinate on its acks, as the driver does. After a few minutes of
 * probing, the estimate between any two members is close to the true round trip; garbage in an
 * ack is refused and counted, never taken. A failing seed is printed; rerun with GOSSIP_SEED=<n>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encode } from '@msgpack/msgpack'
import { LAN_CONFIG } from '../../src/gossip/core/config.js'
import { CoordinateTracker, decodeCoordinate } from '../../src/gossip/coordinates.js'
import { distanceSeconds, originCoordinate } from '../../src/lib/coordinate.js'
import { mulberry32 } from '../../src/lib/prng.js'
import { GossipSim } from './sim.js'

const SEEDS = process.env.GOSSIP_SEED ? [Number(process.env.GOSSIP_SEED)] : [1, 2]

for (const seed of SEEDS) {
  test(`seed ${seed}: 16 members on a 100 ms plane: after 5 minutes of probes, estimated round trips within 10% (median) of the true ones`, () => {
    const place = mulberry32(seed * 7919)
    const n = 16
    const names = Array.from({ length: n }, (_, i) => `n${i}`)
    const pos = new Map(names.map((name) => [name, [place() * 100, place() * 100] as const]))
    const rttMs = (a: string, b: string): number => {
      const [ax, ay] = pos.get(a)!
      const [bx, by] = pos.get(b)!
      return Math.hypot(ax - bx, ay - by) + 1
    }
    const trackers = new Map<string, CoordinateTracker>()
    const sim = new GossipSim({
      seed,
      config: LAN_CONFIG,
      latency: (from, to) => rttMs(from, to) / 2,
      onPingComplete: (member, out) => {
        const t = trackers.get(member)!
        if (t.pingComplete(out.node, out.rttMs, out.payload)) sim.node(member).ackPayload = t.payload
      },
    })
    const tracker = mulberry32(seed)
    for (const name of names) {
      const node = sim.add(name)
      const t = new CoordinateTracker(name, tracker)
      trackers.set(name, t)
      node.ackPayload = t.payload
    }
    for (const name of names.slice(1)) sim.join(name, ['n0'])
    const errors = (): number[] => {
      const out: number[] = []
      for (const a of names) {
        for (const b of names) {
          if (a >= b) continue
          const est = distanceSeconds(trackers.get(a)!.coordinate(), trackers.get(b)!.coordinate()) * 1000
          out.push(Math.abs(est - rttMs(a, b)) / rttMs(a, b))
        }
      }
      return out.sort((x, y) => x - y)
    }
    const median = (xs: number[]): number => xs[Math.floor(xs.length / 2)]!
    const before = median(errors())
    sim.runUntil(300_000)
    const after = median(errors())
    const updates = [...trackers.values()].reduce((s, t) => s + t.counters.updates, 0)
    console.log(`seed ${seed}: median relative error ${(before * 100).toFixed(1)}% at the start, ${(after * 100).toFixed(1)}% after 5 min (${updates} updates, ${[...trackers.values()].reduce((s, t) => s + t.counters.rejected, 0)} rejected)`)
    assert.ok(updates > n * 200, `seed ${seed}: only ${updates} coordinate updates`)
    assert.ok(after < 0.1, `seed ${seed}: median error ${after}`)
    assert.ok(after < before / 2, `seed ${seed}: no better than at the start (${before} -> ${after})`)
    // Each member's cache holds what its probes heard, itself included.
    const cached = trackers.get('n0')!.entries().map(([name]) => name)
    assert.ok(cached.includes('n0') && cached.length > n / 2, `seed ${seed}: n0 cached ${cached.join()}`)
  })
}

test('an ack payload that is not a coordinate is refused and counted; nothing moves', () => {
  const t = new CoordinateTracker('self', mulberry32(1))
  const start = t.coordinate()
  const bad = [undefined, new Uint8Array([1, 2, 3]), encode({ Vec: [1, 2], Error: 1, Adjustment: 0, Height: 0 }), encode({ Vec: Array(8).fill(Number.NaN), Error: 1, Adjustment: 0, Height: 0 }), encode('text')]
  for (const payload of bad) assert.equal(t.pingComplete('other', 5, payload), false)
  assert.equal(t.pingComplete('other', 0, encode(originCoordinate())), false, 'a 0 ms round trip is refused')
  assert.equal(t.pingComplete('other', 20_000, encode(originCoordinate())), false, 'a 20 s round trip is refused')
  assert.deepEqual(t.coordinate(), start)
  assert.equal(t.counters.rejected, bad.length + 2)
  assert.equal(t.get('other'), undefined)
  assert.equal(decodeCoordinate(encode(originCoordinate()))?.Vec.length, 8)
  assert.equal(t.pingComplete('other', 5, encode(originCoordinate())), true)
  assert.notDeepEqual(t.coordinate(), start)
  t.forget('other')
  assert.equal(t.get('other'), undefined)
  assert.ok(t.get('self'), 'its own coordinate is always cached')
})
