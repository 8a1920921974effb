/**
 * A grow-only set: `add` an element, `read` all of them. A linearizable history of it means no
 * acknowledged add is lost (a read after the add returned holds the element), none appears twice,
 * and none appears before its add was called. Not partitioned: a read sees the whole set.
 */
import type { Model, Operation } from '../types.js'

export type SetInput = { readonly op: 'add'; readonly value: string } | { readonly op: 'read' }

export type SetOutput =
  | { readonly kind: 'ok' }
  | { readonly kind: 'values'; readonly values: readonly string[] }
  /** No answer: give the operation `returnTime: Infinity`. */
  | { readonly kind: 'unknown' }

export type SetOperation = Operation<SetInput, SetOutput>
/** Sorted, without repeats. */
export type SetState = readonly string[]

function insert(state: SetState, value: string): SetState {
  let lo = 0
  let hi = state.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (state[mid] < value) lo = mid + 1
    else hi = mid
  }
  if (state[lo] === value) return state
  return [...state.slice(0, lo), value, ...state.slice(lo)]
}

/** A read must list exactly the state's elements, each once (a repeat is a duplicate element). */
function sameElements(state: SetState, values: readonly string[]): boolean {
  if (values.length !== state.length) return false
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return sorted.every((v, i) => v === state[i])
}

function step(state: SetState, input: SetInput, output: SetOutput): { ok: boolean; next: SetState } {
  if (input.op === 'add') {
    if (output.kind === 'values') return { ok: false, next: state }
    return { ok: true, next: insert(state, input.value) }
  }
  if (output.kind === 'unknown') return { ok: true, next: state }
  return { ok: output.kind === 'values' && sameElements(state, output.values), next: state }
}

export const setModel: Model<SetState, SetInput, SetOutput> = Object.freeze({
  init: (): SetState => [],
  step,
  hash: (state: SetState) => JSON.stringify(state),
  describeOperation: (input: SetInput, output: SetOutput) =>
    input.op === 'add'
      ? `add ${JSON.stringify(input.value)} -> ${output.kind === 'unknown' ? '?' : 'ok'}`
      : `read -> ${output.kind === 'values' ? JSON.stringify(output.values) : '?'}`,
  describeState: (state: SetState) => JSON.stringify(state),
})
