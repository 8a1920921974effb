/**
 * Counting the anomalies of reads that are not meant to be linearizable (Consul's default and
 * `?stale` modes), so that they are measured rather than hidden.
 *
 * Each such read is checked alone against the writes (never against the other relaxed reads):
 * - linearizable at its real interval: a fine read;
 * - not, but linearizable once its call is moved before every write of its part: `stale` (it
 *   returned a value the store held at some earlier time, as a lagging follower may);
 * - not even then: `impossible` (a value no state before its return held: a bug in any mode).
 * The writes alone must be linearizable, or no read can be judged (`base` says so).
 */
import { checkOperations } from './check.js'
import type { CheckOptions, CheckVerdict, Model, Operation } from './types.js'

export interface StaleReadReport<Input, Output> {
  /** The verdict on the writes alone; when not `ok`, no read was judged. */
  readonly base: CheckVerdict
  readonly checked: number
  readonly stale: readonly Operation<Input, Output>[]
  readonly impossible: readonly Operation<Input, Output>[]
  /** Reads the checker gave up on (`timeoutMs`/`stepsMax`, which apply to each check). */
  readonly undecided: readonly Operation<Input, Output>[]
}

export function countStaleReads<State, Input, Output>(
  model: Model<State, Input, Output>,
  writes: readonly Operation<Input, Output>[],
  reads: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): StaleReadReport<Input, Output> {
  const report = { checked: 0, stale: [] as Operation<Input, Output>[], impossible: [] as Operation<Input, Output>[], undecided: [] as Operation<Input, Output>[] }
  const base = checkOperations(model, writes, options).result
  if (base !== 'ok') return { base, ...report }
  const isRead = new Set(reads)
  const parts = model.partition ? model.partition([...writes, ...reads]) : [[...writes, ...reads]]
  for (const part of parts) {
    const partWrites = part.filter((op) => !isRead.has(op))
    const earliest = partWrites.reduce((min, op) => Math.min(min, op.callTime), Infinity)
    for (const read of part.filter((op) => isRead.has(op))) {
      report.checked++
      const asIs = checkOperations(model, [...partWrites, read], options).result
      if (asIs === 'ok') continue
      if (asIs === 'unknown') {
        report.undecided.push(read)
        continue
      }
      const callTime = Math.min(earliest, read.callTime) - 1
      const anyEarlier = checkOperations(model, [...partWrites, { ...read, callTime }], options).result
      if (anyEarlier === 'ok') report.stale.push(read)
      else if (anyEarlier === 'illegal') report.impossible.push(read)
      else report.undecided.push(read)
    }
  }
  return { base, ...report }
}
