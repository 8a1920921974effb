/** A fixed-size set of small integers (operation indexes), cheap to copy, compare and hash. */
export class Bitset {
  private constructor(readonly words: Uint32Array) {}

  static empty(size: number): Bitset {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`bitset size ${size}`)
    return new Bitset(new Uint32Array(Math.ceil(size / 32)))
  }

  set(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31)
  }

  clear(i: number): void {
    this.words[i >>> 5] &= ~(1 << (i & 31))
  }

  has(i: number): boolean {
    return (this.words[i >>> 5] & (1 << (i & 31))) !== 0
  }

  clone(): Bitset {
    return new Bitset(this.words.slice())
  }

  equals(other: Bitset): boolean {
    const a = this.words
    const b = other.words
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }

  /** FNV-1a over the words: only a bucket key, collisions are resolved with `equals`. */
  hash(): number {
    let h = 0x811c9dc5
    for (const w of this.words) {
      h = Math.imul(h ^ (w & 0xffff), 0x01000193)
      h = Math.imul(h ^ (w >>> 16), 0x01000193)
    }
    return h >>> 0
  }
}
