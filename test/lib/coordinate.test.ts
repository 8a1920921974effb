import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CoordinateError,
  DEFAULT_VIVALDI,
  VivaldiClient,
  compatibleCoordinates,
  distanceSeconds,
  isValidCoordinate,
  originCoordinate,
  type Coordinate,
} from '../../src/lib/coordinate.js'
import { mulberry32 } from '../../src/lib/prng.js'

const close = (actual: number, expected: number, eps = 1e-12, msg?: string) =>
  assert.ok(Math.abs(actual - expected) <= eps, msg ?? `${actual} not within ${eps} of ${expected}`)

function coord(vec: number[], height = DEFAULT_VIVALDI.heightMin, adjustment = 0, error = 0.5): Coordinate {
  const v = vec.concat(new Array<number>(DEFAULT_VIVALDI.dimensionality - vec.length).fill(0))
  return { Vec: v, Error: error, Adjustment: adjustment, Height: height }
}

test('origin coordinate and its distance', () => {
  const o = originCoordinate()
  assert.deepEqual(o, { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 10e-6 })
  close(distanceSeconds(o, originCoordinate()), 2 * DEFAULT_VIVALDI.heightMin)
  // Fresh each time: mutating one must not leak into the next.
  o.Vec[0] = 1
  assert.equal(originCoordinate().Vec[0], 0)
  assert.ok(Object.isFrozen(DEFAULT_VIVALDI))
  assert.equal(originCoordinate({ ...DEFAULT_VIVALDI, dimensionality: 3 }).Vec.length, 3)
  assert.deepEqual(new VivaldiClient().coordinate(), originCoordinate())
})

test('distanceSeconds is symmetric', () => {
  const rnd = mulberry32(7)
  for (let k = 0; k < 200; k++) {
    const r = () => (rnd() - 0.5) * 0.2
    const a = coord(Array.from({ length: 8 }, r), rnd() * 0.01, r() * 0.01)
    const b = coord(Array.from({ length: 8 }, r), rnd() * 0.01, r() * 0.01)
    assert.equal(distanceSeconds(a, b), distanceSeconds(b, a))
  }
})

test('adjustments apply only while the adjusted sum stays positive', () => {
  const a = coord([0.003, 0.004], 0.001)
  const b = coord([], 0.001)
  close(distanceSeconds(a, b), 0.007) // 5 ms vector + two 1 ms heights
  close(distanceSeconds({ ...a, Adjustment: 0.001 }, { ...b, Adjustment: 0.001 }), 0.009)
  close(distanceSeconds({ ...a, Adjustment: -0.002 }, { ...b, Adjustment: -0.001 }), 0.004)
  // Sum would be -1 ms: adjustments are ignored entirely, not clamped.
  close(distanceSeconds({ ...a, Adjustment: -0.005 }, { ...b, Adjustment: -0.003 }), 0.007)
  // Exactly zero is not positive either.
  close(distanceSeconds({ ...a, Adjustment: -0.004 }, { ...b, Adjustment: -0.003 }), 0.007)
  assert.throws(() => distanceSeconds(a, { ...b, Vec: [0, 0] }), CoordinateError)
  assert.ok(compatibleCoordinates(a, b))
  assert.ok(!compatibleCoordinates(a, { ...b, Vec: [0, 0] }))
})

test('updates move two nodes apart toward the observed rtt', () => {
  const a = new VivaldiClient(DEFAULT_VIVALDI, mulberry32(1))
  const b = new VivaldiClient(DEFAULT_VIVALDI, mulberry32(2))
  const rtt = 0.05
  const before = a.distanceTo(b.coordinate())
  a.update('b', b.coordinate(), rtt)
  const afterOne = a.distanceTo(b.coordinate())
  assert.ok(afterOne > before, `${afterOne} should exceed ${before}`)
  for (let i = 0; i < 200; i++) {
    a.update('b', b.coordinate(), rtt)
    b.update('a', a.coordinate(), rtt)
  }
  const est = a.distanceTo(b.coordinate())
  assert.ok(Math.abs(est - rtt) / rtt < 0.05, `estimate ${est} s vs rtt ${rtt} s`)
  // Confidence grows as predictions come true.
  assert.ok(a.coordinate().Error < 0.2, `error ${a.coordinate().Error}`)
  // Height takes its share of the push, as an extra positive axis.
  assert.ok(a.coordinate().Height > 2 * DEFAULT_VIVALDI.heightMin, `height ${a.coordinate().Height}`)
  // A wildly wrong prediction cannot push the error past the cap.
  const far = new VivaldiClient(DEFAULT_VIVALDI, mulberry32(9))
  assert.equal(far.update('x', coord([5]), 0.001).Error, DEFAULT_VIVALDI.vivaldiErrorMax)
  // Returned and exposed coordinates are copies.
  const c = a.coordinate()
  c.Vec[0] = 123
  assert.notEqual(a.coordinate().Vec[0], 123)
  assert.equal(a.stats().resets, 0)
})

test('latency filter takes the median, so one outlier barely moves the estimate', () => {
  const peer = coord([0.02], DEFAULT_VIVALDI.heightMin, 0, 0.05)
  const train = (size: number) => {
    const c = new VivaldiClient({ ...DEFAULT_VIVALDI, latencyFilterSize: size }, mulberry32(3))
    for (let i = 0; i < 300; i++) c.update('p', peer, 0.03)
    return c
  }
  const filtered = train(3)
  const unfiltered = train(1)
  const f0 = filtered.distanceTo(peer)
  const u0 = unfiltered.distanceTo(peer)
  close(f0, 0.03, 0.003)
  close(u0, 0.03, 0.003)
  filtered.update('p', peer, 1.0)
  unfiltered.update('p', peer, 1.0)
  const fMove = Math.abs(filtered.distanceTo(peer) - f0)
  const uMove = Math.abs(unfiltered.distanceTo(peer) - u0)
  assert.ok(fMove < 0.001, `filtered moved ${fMove} s`)
  assert.ok(uMove > 0.01, `unfiltered moved ${uMove} s`)
  // Filters are per node: the outlier for 'p' is still in p's window, not in a new peer's.
  // After forget, the window is empty, so the next sample is its own median and counts in full.
  filtered.forget('p')
  const f1 = filtered.distanceTo(peer)
  filtered.update('p', peer, 1.0)
  assert.ok(Math.abs(filtered.distanceTo(peer) - f1) > 0.01, 'forget should drop the old samples')
})

test('refused updates throw CoordinateError and change nothing', () => {
  const c = new VivaldiClient(DEFAULT_VIVALDI, mulberry32(4))
  const peer = coord([0.01])
  for (let i = 0; i < 10; i++) c.update('p', peer, 0.02)
  const before = c.coordinate()
  const bad: Array<[Coordinate, number]> = [
    [peer, 0],
    [peer, -0.01],
    [peer, 11],
    [peer, NaN],
    [peer, Infinity],
    [{ ...peer, Vec: [0, 0] }, 0.02],
    [{ ...peer, Vec: [NaN, 0, 0, 0, 0, 0, 0, 0] }, 0.02],
    [{ ...peer, Height: Infinity }, 0.02],
    [null as unknown as Coordinate, 0.02],
  ]
  for (const [other, rtt] of bad) {
    assert.throws(() => c.update('p', other, rtt), CoordinateError, `rtt ${rtt}, ${JSON.stringify(other)}`)
    assert.deepEqual(c.coordinate(), before)
  }
  c.update('p', peer, 10) // the upper bound itself is accepted
  assert.equal(c.stats().resets, 0)
})

test('isValidCoordinate rejects garbage without throwing', () => {
  const o = originCoordinate()
  assert.ok(isValidCoordinate(o))
  assert.ok(isValidCoordinate({ Vec: [1, 2], Error: 0, Adjustment: -1, Height: 0 }, 2))
  const sparse = new Array<number>(8)
  sparse[0] = 1
  const hostile = { get Vec(): number[] { throw new Error('boom') }, Error: 1, Adjustment: 0, Height: 0 }
  const garbage: unknown[] = [
    null, undefined, 'coordinate', 42, true, [], {}, JSON.stringify(o),
    { ...o, Vec: 'x' },
    { ...o, Vec: o.Vec.slice(1) },
    { ...o, Vec: o.Vec.map(String) },
    { ...o, Vec: [...o.Vec.slice(1), Infinity] },
    { ...o, Vec: sparse },
    { Vec: o.Vec, Adjustment: 0, Height: 0 },
    { Vec: o.Vec, Error: 1, Height: 0 },
    { Vec: o.Vec, Error: 1, Adjustment: 0 },
    { ...o, Error: Infinity },
    { ...o, Adjustment: -Infinity },
    { ...o, Height: NaN },
    { ...o, Height: '0' },
    hostile,
  ]
  garbage.forEach((g, i) => assert.equal(isValidCoordinate(g), false, `garbage #${i}`))
  assert.equal(isValidCoordinate(o, 3), false)
})

test('coincident vectors still separate, along a seeded random direction', () => {
  const run = (seed: number) => {
    const a = new VivaldiClient(DEFAULT_VIVALDI, mulberry32(seed))
    return a.update('b', originCoordinate(), 0.01).Vec
  }
  const v1 = run(5)
  assert.ok(Math.hypot(...v1) > 1e-4, `moved only ${Math.hypot(...v1)}`)
  assert.deepEqual(run(5), v1) // deterministic for a seed
  assert.notDeepEqual(run(6), v1) // and the direction really comes from the random source
  // A degenerate source (every component 0) falls back to the first axis.
  const flat = new VivaldiClient(DEFAULT_VIVALDI, () => 0.5).update('b', originCoordinate(), 0.01).Vec
  assert.ok(flat[0]! > 0)
  assert.deepEqual(flat.slice(1), [0, 0, 0, 0, 0, 0, 0])
})

test('a non-finite state resets to the origin and counts a reset', () => {
  const c = new VivaldiClient(DEFAULT_VIVALDI, mulberry32(8))
  const huge = coord(new Array<number>(8).fill(1e308))
  assert.ok(isValidCoordinate(huge))
  // A few ordinary samples first, so the poisoned adjustment sample does not land in slot 0.
  for (let i = 0; i < 3; i++) c.update('p', coord([0.01]), 0.02)
  assert.deepEqual(c.update('h', huge, 0.01), originCoordinate())
  assert.equal(c.stats().resets, 1)
  // And it recovers: the next ordinary update is finite and does not reset again.
  for (let i = 0; i < 5; i++) assert.ok(isValidCoordinate(c.update('p', coord([0.01]), 0.02)))
  assert.equal(c.stats().resets, 1)
})

test('converges on a synthetic 2-D world', () => {
  const N = 20
  const rnd = mulberry32(42)
  const pos = Array.from({ length: N }, () => [rnd() * 0.1, rnd() * 0.1] as const)
  const trueRtt = (i: number, j: number) => Math.hypot(pos[i]![0] - pos[j]![0], pos[i]![1] - pos[j]![1]) + 0.0005
  const nodes = Array.from({ length: N }, (_, i) => new VivaldiClient(DEFAULT_VIVALDI, mulberry32(1000 + i)))
  const medianError = () => {
    const errs: number[] = []
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const est = distanceSeconds(nodes[i]!.coordinate(), nodes[j]!.coordinate())
        errs.push(Math.abs(est - trueRtt(i, j)) / trueRtt(i, j))
      }
    }
    errs.sort((x, y) => x - y)
    return errs[Math.floor(errs.length / 2)]!
  }
  const before = medianError()
  for (let k = 0; k < 4000; k++) {
    const i = Math.floor(rnd() * N)
    let j = Math.floor(rnd() * (N - 1))
    if (j >= i) j++
    nodes[i]!.update(`n${j}`, nodes[j]!.coordinate(), trueRtt(i, j))
  }
  const after = medianError()
  console.log(`vivaldi convergence: median relative error ${(before * 100).toFixed(1)}% before, ${(after * 100).toFixed(2)}% after 4000 updates`)
  assert.ok(before > 0.9, `untrained error ${before}`)
  // Over seeds 1..30 this setup measured 2.0-3.0% after 4000 updates (7.5-16% after 1000): ~3x margin.
  assert.ok(after < 0.08, `median relative error ${after}`)
  assert.ok(after < before / 10)
  for (const n of nodes) assert.equal(n.stats().resets, 0)
})
