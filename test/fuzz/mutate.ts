/**
 * Seeded mutation of inputs (bytes or text), the way coverage-less fuzzers do it: flip bits, set
 * bytes to boundary values, insert, delete, duplicate, splice two inputs, truncate. The same seed
 * gives the same inputs, so a finding replays with its seed and index.
 */
import { mulberry32 } from '../../src/lib/prng.js'

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x0a, 0xc0, 0xc1, 0xd9, 0xdc, 0xde, 0xcf]

export class Mutator {
  readonly random: () => number

  constructor(seed: number) {
    this.random = mulberry32(seed)
  }

  int(n: number): number {
    return Math.floor(this.random() * n)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  /** One to eight mutations of `input`, sometimes spliced with `other`. */
  mutate(input: Uint8Array, other: Uint8Array): Uint8Array {
    let b: Uint8Array = Uint8Array.from(input)
    const rounds = 1 + this.int(8)
    for (let i = 0; i < rounds; i++) b = this.#once(b, other)
    return b
  }

  /** Bytes of pure noise, of a random length up to `max`. */
  noise(max: number): Uint8Array {
    const b = new Uint8Array(this.int(max + 1))
    for (let i = 0; i < b.length; i++) b[i] = this.int(256)
    return b
  }

  #once(b: Uint8Array, other: Uint8Array): Uint8Array {
    const at = (): number => this.int(b.length + 1)
    switch (this.int(8)) {
      case 0: {
        if (b.length === 0) return b
        const i = this.int(b.length)
        b[i]! ^= 1 << this.int(8)
        return b
      }
      case 1: {
        if (b.length === 0) return b
        b[this.int(b.length)] = this.pick(INTERESTING)
        return b
      }
      case 2: {
        const i = at()
        const extra = this.noise(1 + this.int(16))
        return concat(b.subarray(0, i), extra, b.subarray(i))
      }
      case 3: {
        const i = at()
        const n = this.int(Math.min(32, b.length - i) + 1)
        return concat(b.subarray(0, i), b.subarray(i + n))
      }
      case 4: {
        const i = at()
        const n = this.int(Math.min(64, b.length - i) + 1)
        return concat(b.subarray(0, i + n), b.subarray(i, i + n), b.subarray(i + n))
      }
      case 5: {
        const i = at()
        const j = this.int(other.length + 1)
        return concat(b.subarray(0, i), other.subarray(j))
      }
      case 6:
        return b.subarray(0, at())
      default: {
        // A length-like field: a 32-bit big-endian number at a random place.
        if (b.length < 4) return b
        const i = this.int(b.length - 3)
        const v = this.pick([0, 1, 0x7fffffff, 0xffffffff, 0x10000, b.length, b.length + 1])
        new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(i, v >>> 0)
        return b
      }
    }
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
