/** One part per key (P-compositionality): the partition function of the per-key models. */
import type { Operation } from '../types.js'

export function partitionByKey<Input extends { readonly key: string }, Output>(history: readonly Operation<Input, Output>[]): Operation<Input, Output>[][] {
  const byKey = new Map<string, Operation<Input, Output>[]>()
  for (const op of history) {
    const part = byKey.get(op.input.key)
    if (part === undefined) byKey.set(op.input.key, [op])
    else part.push(op)
  }
  return [...byKey.values()]
}
