/**
 * Vivaldi network coordinates with the refinements Serf uses (and Consul exposes at /v1/coordinate/*):
 * a height term for access-link latency, an adjustment term, a per-peer latency filter and gravity
 * toward the origin. Pure: all state lives in a VivaldiClient, randomness is injected. Units: seconds.
 */

/** Consul's JSON shape (lib/coordinate in serf): Vec has `dimensionality` entries. */
export interface Coordinate {
  Vec: number[]
  Error: number
  Adjustment: number
  Height: number
}

export interface VivaldiConfig {
  dimensionality: number
  vivaldiErrorMax: number
  vivaldiCE: number
  vivaldiCC: number
  adjustmentWindowSize: number
  heightMin: number
  latencyFilterSize: number
  gravityRho: number
}

/** Serf's defaults, which Consul uses unchanged. */
export const DEFAULT_VIVALDI: Readonly<VivaldiConfig> = Object.freeze({
  dimensionality: 8,
  vivaldiErrorMax: 1.5,
  vivaldiCE: 0.25,
  vivaldiCC: 0.25,
  adjustmentWindowSize: 20,
  heightMin: 10e-6,
  latencyFilterSize: 3,
  gravityRho: 150,
})

/** Below this, a magnitude, rtt or error sum is treated as zero (avoids dividing by ~0). */
const ZERO_THRESHOLD = 1e-6
/** Serf refuses RTTs above this: such a sample is a stall or a bug, not a network distance. */
const MAX_RTT_SECONDS = 10

/** A typed error for refused updates (bad rtt, invalid or incompatible coordinate). */
export class CoordinateError extends Error {
  override name = 'CoordinateError'
}

/** A fresh coordinate at the origin: zero vector, Error = vivaldiErrorMax, Adjustment 0, Height = heightMin. */
export function originCoordinate(config: Readonly<VivaldiConfig> = DEFAULT_VIVALDI): Coordinate {
  return {
    Vec: new Array<number>(config.dimensionality).fill(0),
    Error: config.vivaldiErrorMax,
    Adjustment: 0,
    Height: config.heightMin,
  }
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x)
}

/** A value from the wire or an API body that is a usable coordinate: an object with a Vec of `dimensionality` finite numbers and finite Error/Adjustment/Height. Never throws. */
export function isValidCoordinate(value: unknown, dimensionality: number = DEFAULT_VIVALDI.dimensionality): value is Coordinate {
  try {
    if (typeof value !== 'object' || value === null) return false
    const c = value as Record<string, unknown>
    const vec = c['Vec']
    if (!Array.isArray(vec) || vec.length !== dimensionality) return false
    // Indexed loop so holes in a sparse array read as undefined and fail.
    for (let i = 0; i < vec.length; i++) if (!isFiniteNumber(vec[i])) return false
    return isFiniteNumber(c['Error']) && isFiniteNumber(c['Adjustment']) && isFiniteNumber(c['Height'])
  } catch {
    // A hostile getter or proxy is simply not a coordinate.
    return false
  }
}

/** Same dimensionality. */
export function compatibleCoordinates(a: Coordinate, b: Coordinate): boolean {
  return a.Vec.length === b.Vec.length
}

function cloneCoordinate(c: Coordinate): Coordinate {
  return { Vec: c.Vec.slice(), Error: c.Error, Adjustment: c.Adjustment, Height: c.Height }
}

function magnitude(v: readonly number[]): number {
  let sum = 0
  for (const x of v) sum += x * x
  return Math.sqrt(sum)
}

/** Vector distance plus both heights; the adjustments are left out (the adjustment window needs this). */
function rawDistance(a: Coordinate, b: Coordinate): number {
  if (!compatibleCoordinates(a, b)) throw new CoordinateError(`coordinate dimensionality mismatch: ${a.Vec.length} vs ${b.Vec.length}`)
  let sum = 0
  for (let i = 0; i < a.Vec.length; i++) {
    const d = a.Vec[i]! - b.Vec[i]!
    sum += d * d
  }
  // Pairwise sums keep the result exactly symmetric in a and b.
  return Math.sqrt(sum) + (a.Height + b.Height)
}

/** Estimated RTT in seconds between two coordinates, as Serf's DistanceTo: Euclidean distance of the vectors plus both heights, plus both adjustments when that sum stays positive (otherwise without adjustments). Throws CoordinateError on a dimensionality mismatch. */
export function distanceSeconds(a: Coordinate, b: Coordinate): number {
  const raw = rawDistance(a, b)
  const adjusted = raw + (a.Adjustment + b.Adjustment)
  // Adjustments are a correction, not a distance: never let them produce a non-positive RTT.
  return adjusted > 0 ? adjusted : raw
}

/**
 * Unit vector pointing from `to` toward `from`, and the distance between them. When the two points
 * coincide there is no direction to push along, so pick a random one (reported distance 0).
 */
function unitVectorAt(from: readonly number[], to: readonly number[], random: () => number): [number[], number] {
  const v = from.map((x, i) => x - to[i]!)
  const mag = magnitude(v)
  if (mag > ZERO_THRESHOLD) return [v.map((x) => x / mag), mag]
  const r = v.map(() => random() - 0.5)
  const rmag = magnitude(r)
  if (rmag > ZERO_THRESHOLD) return [r.map((x) => x / rmag), 0]
  // A degenerate random source (e.g. constant 0.5): fall back to the first axis.
  const axis = new Array<number>(v.length).fill(0)
  axis[0] = 1
  return [axis, 0]
}

export class VivaldiClient {
  readonly #config: Readonly<VivaldiConfig>
  readonly #random: () => number
  readonly #origin: Coordinate
  #coord: Coordinate
  /** Ring buffer of (rtt - raw distance) samples behind the Adjustment term. */
  #adjustmentSamples: number[]
  #adjustmentIndex = 0
  /** Last few raw RTTs per peer, so a single delayed probe does not yank the coordinate. */
  readonly #latencySamples = new Map<string, number[]>()
  #resets = 0

  constructor(config: Readonly<VivaldiConfig> = DEFAULT_VIVALDI, random: () => number = Math.random) {
    if (!Number.isInteger(config.dimensionality) || config.dimensionality < 1) throw new RangeError('dimensionality must be a positive integer')
    if (!Number.isInteger(config.latencyFilterSize) || config.latencyFilterSize < 1) throw new RangeError('latencyFilterSize must be a positive integer')
    if (!Number.isInteger(config.adjustmentWindowSize) || config.adjustmentWindowSize < 0) throw new RangeError('adjustmentWindowSize must be a non-negative integer')
    this.#config = Object.freeze({ ...config })
    this.#random = random
    this.#origin = originCoordinate(this.#config)
    this.#coord = originCoordinate(this.#config)
    this.#adjustmentSamples = new Array<number>(this.#config.adjustmentWindowSize).fill(0)
  }

  /** A copy of this node's coordinate. */
  coordinate(): Coordinate {
    return cloneCoordinate(this.#coord)
  }

  /** Feed one observed RTT to `node` whose coordinate is `other`; returns the new own coordinate (a copy). Throws CoordinateError for rtt <= 0 or > 10 s, a non-finite rtt, or an invalid/incompatible `other`. If the state ever becomes non-finite, reset to the origin and count a reset (Serf does this) instead of leaking NaN. */
  update(node: string, other: Coordinate, rttSeconds: number): Coordinate {
    const dim = this.#config.dimensionality
    if (!isValidCoordinate(other, dim)) throw new CoordinateError(`invalid or incompatible coordinate for node ${JSON.stringify(node)} (want ${dim} dimensions, all finite)`)
    if (typeof rttSeconds !== 'number' || !Number.isFinite(rttSeconds) || rttSeconds <= 0 || rttSeconds > MAX_RTT_SECONDS) {
      throw new CoordinateError(`round trip time ${rttSeconds} s is not in (0, ${MAX_RTT_SECONDS}] s`)
    }
    // Work on copies so nothing half-updated is ever visible, and the caller's object is never touched.
    const peer = cloneCoordinate(other)
    const rtt = this.#filterLatency(node, rttSeconds)
    let next = this.#vivaldiStep(cloneCoordinate(this.#coord), peer, rtt)
    next = this.#adjust(next, peer, rtt)
    next = this.#gravity(next)
    if (!isValidCoordinate(next, dim)) {
      // Overflow from extreme (finite) peer values: start over rather than propagate NaN/Infinity.
      // The adjustment window is cleared too, or a non-finite sample would keep re-poisoning it.
      this.#resets++
      next = originCoordinate(this.#config)
      this.#adjustmentSamples.fill(0)
      this.#adjustmentIndex = 0
    }
    this.#coord = next
    return cloneCoordinate(next)
  }

  /** Estimated RTT in seconds from this node to `other`. */
  distanceTo(other: Coordinate): number {
    return distanceSeconds(this.#coord, other)
  }

  /** Drop the latency filter kept for `node` (it left). */
  forget(node: string): void {
    this.#latencySamples.delete(node)
  }

  stats(): { resets: number } {
    return { resets: this.#resets }
  }

  /** Median of the last `latencyFilterSize` samples for this peer, the new one included. */
  #filterLatency(node: string, rtt: number): number {
    const samples = this.#latencySamples.get(node) ?? []
    samples.push(rtt)
    if (samples.length > this.#config.latencyFilterSize) samples.shift()
    this.#latencySamples.set(node, samples)
    const sorted = samples.slice().sort((x, y) => x - y)
    return sorted[Math.floor(sorted.length / 2)]!
  }

  /** One Vivaldi spring step, its timestep weighted by how sure we are relative to the peer. */
  #vivaldiStep(self: Coordinate, peer: Coordinate, rttSeconds: number): Coordinate {
    const { vivaldiCE, vivaldiCC, vivaldiErrorMax } = this.#config
    const dist = distanceSeconds(self, peer)
    const rtt = Math.max(rttSeconds, ZERO_THRESHOLD)
    const relativeError = Math.abs(dist - rtt) / rtt
    // A confident peer (low error) gets more say; an uncertain one barely moves us.
    const weight = self.Error / Math.max(self.Error + peer.Error, ZERO_THRESHOLD)
    self.Error = Math.min(vivaldiCE * weight * relativeError + self.Error * (1 - vivaldiCE * weight), vivaldiErrorMax)
    const force = vivaldiCC * weight * (rtt - dist)
    return this.#applyForce(self, force, peer)
  }

  /** The Adjustment term soaks up what the Euclidean model systematically misses for this node. */
  #adjust(self: Coordinate, peer: Coordinate, rtt: number): Coordinate {
    const window = this.#config.adjustmentWindowSize
    if (window === 0) return self
    // Raw distance: the current adjustments must not feed back into their own estimate.
    this.#adjustmentSamples[this.#adjustmentIndex] = rtt - rawDistance(self, peer)
    this.#adjustmentIndex = (this.#adjustmentIndex + 1) % window
    let sum = 0
    for (const s of this.#adjustmentSamples) sum += s
    // Halved because both ends of a pair add their own adjustment.
    self.Adjustment = sum / (2 * window)
    return self
  }

  /** A weak pull toward the origin so the whole coordinate system cannot drift away over time. */
  #gravity(self: Coordinate): Coordinate {
    // As in Serf, the full distance from the origin (heights and adjustment included), not just |Vec|.
    const force = -Math.pow(distanceSeconds(this.#origin, self) / this.#config.gravityRho, 2)
    return this.#applyForce(self, force, this.#origin)
  }

  /** Move `self` by `force` seconds away from `peer` (negative: toward it); height grows or shrinks in proportion. */
  #applyForce(self: Coordinate, force: number, peer: Coordinate): Coordinate {
    const [unit, mag] = unitVectorAt(self.Vec, peer.Vec, this.#random)
    for (let i = 0; i < self.Vec.length; i++) self.Vec[i] += unit[i]! * force
    // Height acts as one more, always positive, axis; with no real direction it is left alone.
    if (mag > ZERO_THRESHOLD) {
      self.Height = Math.max(((self.Height + peer.Height) * force) / mag + self.Height, this.#config.heightMin)
    }
    return self
  }
}
