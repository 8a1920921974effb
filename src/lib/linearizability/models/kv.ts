/**
 * A key/value store as one register per key: get, put, compare-and-set and delete, partitioned
 * by key (each key is checked alone). A missing key reads as `null`.
 *
 * Consul's `?cas=<index>` compares ModifyIndex, which a model cannot predict. A harness that
 * writes a distinct value each time can name the value it read instead (`expected`), since that
 * value identifies the write and so the index; `expected: null` is Consul's `cas=0` (create only).
 */
import type { Model, Operation } from '../types.js'
import { partitionByKey } from './partition.js'

export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  /** `value: null` is a delete with `?cas`. */
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null }
  | { readonly op: 'delete'; readonly key: string }

export type KvOutput =
  /** A get's answer. */
  | { readonly kind: 'value'; readonly value: string | null }
  /** A put, delete or cas answer: `ok: false` means it did not take effect. */
  | { readonly kind: 'ok'; readonly ok: boolean }
  /**
   * No answer (a timeout): give the operation `returnTime: Infinity`. A write then takes effect
   * at some point after its call or never; a read constrains nothing.
   */
  | { readonly kind: 'unknown' }

export type KvOperation = Operation<KvInput, KvOutput>
/** The value of the one key a part holds. */
export type KvState = string | null

const KEEP = (state: KvState) => ({ ok: true, next: state })
const REFUSE = (state: KvState) => ({ ok: false, next: state })

function step(state: KvState, input: KvInput, output: KvOutput): { ok: boolean; next: KvState } {
  if (output.kind === 'unknown') {
    if (input.op === 'get') return KEEP(state)
    if (input.op === 'put') return { ok: true, next: input.value }
    if (input.op === 'delete') return { ok: true, next: null }
    return { ok: true, next: state === input.expected ? input.value : state }
  }
  if (input.op === 'get') return output.kind === 'value' && output.value === state ? KEEP(state) : REFUSE(state)
  if (output.kind !== 'ok') return REFUSE(state)
  if (input.op === 'cas') {
    if (output.ok !== (state === input.expected)) return REFUSE(state)
    return { ok: true, next: output.ok ? input.value : state }
  }
  if (!output.ok) return KEEP(state)
  return { ok: true, next: input.op === 'put' ? input.value : null }
}

function describeOutput(output: KvOutput): string {
  if (output.kind === 'unknown') return '?'
  if (output.kind === 'ok') return String(output.ok)
  return JSON.stringify(output.value)
}

function describeOperation(input: KvInput, output: KvOutput): string {
  const result = describeOutput(output)
  if (input.op === 'get') return `get ${input.key} -> ${result}`
  if (input.op === 'put') return `put ${input.key}=${JSON.stringify(input.value)} -> ${result}`
  if (input.op === 'delete') return `delete ${input.key} -> ${result}`
  return `cas ${input.key} ${JSON.stringify(input.expected)}=>${JSON.stringify(input.value)} -> ${result}`
}

export const kvModel: Model<KvState, KvInput, KvOutput> = Object.freeze({
  init: (): KvState => null,
  step,
  hash: (state: KvState) => JSON.stringify(state),
  equal: (a: KvState, b: KvState) => a === b,
  partition: partitionByKey,
  describePartition: (part: readonly KvOperation[]) => (part.length > 0 ? `key ${JSON.stringify(part[0].input.key)}` : 'no key'),
  describeOperation,
  describeState: (state: KvState) => JSON.stringify(state),
})
