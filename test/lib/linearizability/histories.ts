/** Builders and seeded generators of KV histories for the checker's tests. */
import type { KvInput, KvOperation, KvOutput, Model, Operation } from '../../../src/lib/linearizability/index.js'
import { mulberry32 } from '../../../src/lib/prng.js'

/** A small seeded PRNG (mulberry32): every random history here replays from its seed. */
export function rng(seed: number): { next: () => number; int: (n: number) => number } {
  const next = mulberry32(seed)
  return { next, int: (n: number) => Math.floor(next() * n) }
}

const op = (clientId: number, callTime: number, returnTime: number, input: KvInput, output: KvOutput): KvOperation => ({
  clientId,
  callTime,
  returnTime,
  input,
  output,
})

export const put = (c: number, call: number, ret: number, key: string, value: string): KvOperation =>
  op(c, call, ret, { op: 'put', key, value }, { kind: 'ok', ok: true })
export const get = (c: number, call: number, ret: number, key: string, value: string | null): KvOperation =>
  op(c, call, ret, { op: 'get', key }, { kind: 'value', value })
export const cas = (c: number, call: number, ret: number, key: string, expected: string | null, value: string | null, ok: boolean): KvOperation =>
  op(c, call, ret, { op: 'cas', key, expected, value }, { kind: 'ok', ok })
export const del = (c: number, call: number, ret: number, key: string): KvOperation =>
  op(c, call, ret, { op: 'delete', key }, { kind: 'ok', ok: true })
/** A write that timed out: no return, no answer. */
export const lost = (c: number, call: number, input: KvInput): KvOperation => op(c, call, Infinity, input, { kind: 'unknown' })

export interface GenOptions {
  readonly ops: number
  readonly keys: number
  readonly clients: number
  /** Largest distance from an operation's linearization point to its call, and to its return. */
  readonly spread: number
  /** Fraction of writes that time out (half of those take effect, half never do). */
  readonly lostFraction: number
}

/**
 * A linearizable history by construction: a sequential store runs the operations at increasing
 * linearization points, then each gets a random interval around its point. Values are unique.
 */
export function generateKv(seed: number, o: GenOptions): KvOperation[] {
  const r = rng(seed)
  const store = new Map<string, string>()
  const history: KvOperation[] = []
  let point = 0
  for (let i = 0; i < o.ops; i++) {
    point += 1 + r.int(3)
    const key = `k${r.int(o.keys)}`
    const current = store.get(key) ?? null
    const callTime = point - r.int(o.spread + 1)
    const returnTime = point + r.int(o.spread + 1)
    const clientId = r.int(o.clients)
    const kind = r.next()
    if (kind < 0.4) {
      history.push(get(clientId, callTime, returnTime, key, current))
      continue
    }
    const value = `v${i}`
    let input: KvInput
    if (kind < 0.7) input = { op: 'put', key, value }
    else if (kind < 0.9) input = { op: 'cas', key, expected: r.next() < 0.6 ? current : r.next() < 0.5 ? null : `v${r.int(i + 1)}`, value }
    else input = { op: 'delete', key }
    const lostOne = r.next() < o.lostFraction
    const takesEffect = !lostOne || r.next() < 0.5
    const applies = input.op !== 'cas' || input.expected === current
    if (takesEffect && applies) {
      const next = input.op === 'put' ? input.value : input.op === 'cas' ? input.value : null
      if (next === null) store.delete(key)
      else store.set(key, next)
    }
    if (lostOne) history.push(lost(clientId, callTime, input))
    else history.push(op(clientId, callTime, returnTime, input, { kind: 'ok', ok: applies }))
  }
  return history
}

/** The most operations open at one time: a generator that never overlaps would test nothing. */
export function maxConcurrency(history: readonly Operation<unknown, unknown>[]): number {
  const edges = history.flatMap((h) => [
    [h.callTime, 1],
    [h.returnTime, -1],
  ]).sort((a, b) => a[0] - b[0] || b[1] - a[1])
  let open = 0
  let most = 0
  for (const [, d] of edges) {
    open += d
    most = Math.max(most, open)
  }
  return most
}

/**
 * The definition, by brute force: some order of all operations that respects real time (a before b
 * when a returned before b was called) is accepted by the model step by step. For tiny histories.
 */
export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): boolean {
  const parts = model.partition ? model.partition(history) : [history.slice()]
  return parts.every((part) => {
    const used = new Array<boolean>(part.length).fill(false)
    const search = (state: S, placed: number): boolean => {
      if (placed === part.length) return true
      for (let i = 0; i < part.length; i++) {
        if (used[i]) continue
        // i may go next only if no unplaced operation returned before i was called.
        if (part.some((o, j) => !used[j] && j !== i && o.returnTime < part[i].callTime)) continue
        const stepped = model.step(state, part[i].input, part[i].output)
        if (!stepped.ok) continue
        used[i] = true
        if (search(stepped.next, placed + 1)) return true
        used[i] = false
      }
      return false
    }
    return search(model.init(), 0)
  })
}
