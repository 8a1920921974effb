/**
 * The state machine the simulator runs on every server, behind the driver's contract (apply logged
 * bytes, snapshot, restore), so the real FSM can replace this small KV store later. Results are
 * plain values, computed from the logged bytes only, so every server computes the same thing.
 */
export interface StateMachine {
  apply(index: number, data: Uint8Array): unknown
  snapshot(): Uint8Array
  restore(data: Uint8Array): void
}

/** What the simulator's clients need on top of the contract: a local read, and a codec for writes. */
export interface KvStateMachine extends StateMachine {
  get(key: string): string | null
}

/** A client write as logged. `id` names the operation, so a server can tell its own entry apart. */
export type KvCommand =
  | { id: string; op: 'put'; key: string; value: string }
  | { id: string; op: 'cas'; key: string; expected: string | null; value: string }

/** A write's result: whether it took effect. */
export interface KvResult { ok: boolean }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeCommand(c: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(c))
}

/** Undefined for bytes that are no command (the state machine ignores them, as an unknown type). */
export function decodeCommand(data: Uint8Array): KvCommand | undefined {
  try {
    const c = JSON.parse(decoder.decode(data)) as KvCommand
    return typeof c === 'object' && c !== null && typeof c.id === 'string' && typeof c.key === 'string' ? c : undefined
  } catch {
    return undefined
  }
}

/**
 * Decodes each logged command once per simulation: the servers share the bytes of an entry, so the
 * cache keyed by them spares each server the parse (JSON parsing was a tenth of a campaign's time).
 */
export function memoDecoder(): (data: Uint8Array) => KvCommand | undefined {
  const cache = new WeakMap<Uint8Array, KvCommand | undefined>()
  return (data) => {
    if (cache.has(data)) return cache.get(data)
    const c = decodeCommand(data)
    cache.set(data, c)
    return c
  }
}

export class SimKv implements KvStateMachine {
  #data = new Map<string, string>()
  #applied = 0

  constructor(readonly decode: (data: Uint8Array) => KvCommand | undefined = decodeCommand) {}

  apply(index: number, data: Uint8Array): KvResult | undefined {
    if (index <= this.#applied) throw new Error(`kv: apply ${index} after ${this.#applied}`)
    this.#applied = index
    const c = this.decode(data)
    if (c === undefined) return undefined
    const cur = this.#data.get(c.key) ?? null
    if (c.op === 'cas' && cur !== c.expected) return { ok: false }
    this.#data.set(c.key, c.value)
    return { ok: true }
  }

  get(key: string): string | null {
    return this.#data.get(key) ?? null
  }

  /** Sorted, so equal states give equal bytes (the convergence check compares them). */
  snapshot(): Uint8Array {
    const pairs = [...this.#data].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    return encoder.encode(JSON.stringify({ applied: this.#applied, pairs }))
  }

  restore(data: Uint8Array): void {
    const s = JSON.parse(decoder.decode(data)) as { applied: number; pairs: [string, string][] }
    this.#data = new Map(s.pairs)
    this.#applied = s.applied
  }
}
