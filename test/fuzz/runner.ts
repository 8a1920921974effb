/**
 * Runs a target for a number of inputs or a time: each input is a mutation of a corpus entry (or,
 * one time in ten, noise), made from the seed and its index, so `--seed S --from N --runs 1`
 * replays input N exactly. Returns the first finding with what replays it. A target with `open` and
 * `close` (a live agent) is set up once per run.
 */
import { Mutator } from './mutate.js'
import { Finding, type Target } from './target.js'

export interface FuzzReport {
  target: string
  seed: number
  inputs: number
  ms: number
  /** The slowest single input (a hang shows here first). */
  slowestMs: number
  /** `from` is where a replay starts: the index, or a few before it when the cause may be earlier. */
  finding?: { index: number; from: number; message: string; inputBase64: string }
}

/** The input at `index` of a run with `seed`. */
export function inputAt(target: Target, corpus: readonly Uint8Array[], seed: number, index: number): { input: Uint8Array; m: Mutator } {
  const m = new Mutator((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
  const input = m.random() < 0.1 ? m.noise(512) : m.mutate(m.pick(corpus), m.pick(corpus))
  return { input, m }
}

export async function fuzz(target: Target, opts: { seed: number; runs?: number; timeMs?: number; from?: number }): Promise<FuzzReport> {
  const corpus = target.corpus()
  await target.open?.()
  try {
    return await loop(target, corpus, opts)
  } finally {
    await target.close?.()
  }
}

async function loop(target: Target, corpus: readonly Uint8Array[], opts: { seed: number; runs?: number; timeMs?: number; from?: number }): Promise<FuzzReport> {
  const start = performance.now()
  const end = opts.timeMs === undefined ? Infinity : start + opts.timeMs
  const runs = opts.runs ?? Infinity
  let slowest = 0
  let n = 0
  for (let i = opts.from ?? 0; n < runs && performance.now() < end; i++, n++) {
    const { input, m } = inputAt(target, corpus, opts.seed, i)
    const t = performance.now()
    try {
      // Only a live target (one talking to a process) answers later; the pure ones stay synchronous.
      const pending = target.run(input, m)
      if (pending) await pending
    } catch (err) {
      const message = err instanceof Finding ? err.message : `the target itself threw: ${(err as Error).message}`
      const from = Math.max(opts.from ?? 0, i - (err instanceof Finding ? err.lookBack : 0))
      return { target: target.name, seed: opts.seed, inputs: n + 1, ms: performance.now() - start, slowestMs: slowest, finding: { index: i, from, message, inputBase64: Buffer.from(input).toString('base64') } }
    }
    slowest = Math.max(slowest, performance.now() - t)
  }
  return { target: target.name, seed: opts.seed, inputs: n, ms: performance.now() - start, slowestMs: slowest }
}
