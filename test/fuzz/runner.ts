/**
 * Runs a target for a number of inputs or a time: each input is a mutation of a corpus entry (or,
 * one time in ten, noise), made from the seed and its index, so `--seed S --from N --runs 1`
 * replays input N exactly. Returns the first finding with what replays it.
 */
import { Mutator } from './mutate.js'
import { Finding, type Target } from './targets.js'

export interface FuzzReport {
  target: string
  seed: number
  inputs: number
  ms: number
  /** The slowest single input (a hang shows here first). */
  slowestMs: number
  finding?: { index: number; message: string; inputBase64: string }
}

/** The input at `index` of a run with `seed`. */
export function inputAt(target: Target, corpus: readonly Uint8Array[], seed: number, index: number): { input: Uint8Array; m: Mutator } {
  const m = new Mutator((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
  const input = m.random() < 0.1 ? m.noise(512) : m.mutate(m.pick(corpus), m.pick(corpus))
  return { input, m }
}

export function fuzz(target: Target, opts: { seed: number; runs?: number; timeMs?: number; from?: number }): FuzzReport {
  const corpus = target.corpus()
  const start = performance.now()
  const end = opts.timeMs === undefined ? Infinity : start + opts.timeMs
  const runs = opts.runs ?? Infinity
  let slowest = 0
  let n = 0
  for (let i = opts.from ?? 0; n < runs && performance.now() < end; i++, n++) {
    const { input, m } = inputAt(target, corpus, opts.seed, i)
    const t = performance.now()
    try {
      target.run(input, m)
    } catch (err) {
      const message = err instanceof Finding ? err.message : `the target itself threw: ${(err as Error).message}`
      return { target: target.name, seed: opts.seed, inputs: n + 1, ms: performance.now() - start, slowestMs: slowest, finding: { index: i, message, inputBase64: Buffer.from(input).toString('base64') } }
    }
    slowest = Math.max(slowest, performance.now() - t)
  }
  return { target: target.name, seed: opts.seed, inputs: n, ms: performance.now() - start, slowestMs: slowest }
}
