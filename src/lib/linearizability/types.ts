/**
 * The shapes shared by the checker, the models and the helpers. Everything here is data or pure
 * functions: a model never keeps state of its own between calls.
 */

/** One completed (or possibly completed) operation of a history. Times are any monotone clock. */
export interface Operation<Input, Output> {
  readonly clientId: number
  readonly input: Input
  /** For an operation whose outcome is unknown, whatever the model's `step` reads as "unknown". */
  readonly output: Output
  readonly callTime: number
  /**
   * `Infinity` when the return was never seen (a timed-out write): the operation may then take
   * effect anywhere after its call, or never (it linearizes after everything else).
   */
  readonly returnTime: number
}

export interface StepResult<State> {
  readonly ok: boolean
  /** The state after the operation; only meaningful when `ok`. */
  readonly next: State
}

/**
 * A sequential specification. `step` must be pure; `hash` must agree with `equal` (equal states
 * hash alike), since the search memoises on it.
 */
export interface Model<State, Input, Output> {
  init(): State
  step(state: State, input: Input, output: Output): StepResult<State>
  hash(state: State): string
  /** Defaults to comparing hashes. */
  equal?(a: State, b: State): boolean
  /**
   * Split a history into independent sub-histories (P-compositionality: one per key for a KV
   * store). Each part is checked alone from `init()`. Parts must together hold every operation.
   */
  partition?(history: readonly Operation<Input, Output>[]): Operation<Input, Output>[][]
  /** A name for a part, used in results (`key "a"`). */
  describePartition?(part: readonly Operation<Input, Output>[]): string
  describeOperation?(input: Input, output: Output): string
  describeState?(state: State): string
}

/** Call/return events in the order they were observed; `id` pairs a return with its call. */
export type HistoryEvent<Input, Output> =
  | { readonly kind: 'call'; readonly id: number; readonly clientId: number; readonly input: Input }
  | { readonly kind: 'return'; readonly id: number; readonly output: Output }

export interface CheckOptions {
  /** Give up with `unknown` after this long (wall time from `now`). */
  readonly timeoutMs?: number
  /** Give up with `unknown` after this many search steps, summed over partitions (deterministic). */
  readonly stepsMax?: number
  /** Clock for `timeoutMs`; defaults to `Date.now`. */
  readonly now?: () => number
}

export type CheckVerdict = 'ok' | 'illegal' | 'unknown'

/** Why a partition is not linearizable: the deepest point the search reached. */
export interface IllegalExplanation<State, Input, Output> {
  /** Which part failed (the model's `describePartition`, or its index). */
  readonly partition: string
  /** The longest linearizable ordering found, in linearization order. */
  readonly longestPrefix: readonly Operation<Input, Output>[]
  /** The state after that prefix. */
  readonly state: State
  /**
   * The operations that could come next at that point (called before the earliest pending
   * return) and that the model refused from `state`: at least one of them had to go there.
   */
  readonly unplaceable: readonly Operation<Input, Output>[]
  /** A few lines for a human, built with the model's describe functions. */
  readonly text: string
}

export interface CheckResult<State, Input, Output> {
  readonly result: CheckVerdict
  /** Set when `result` is `illegal`. */
  readonly explanation?: IllegalExplanation<State, Input, Output>
  /** Search steps taken (all partitions). */
  readonly steps: number
  readonly partitions: number
}

/** A history the checker cannot read (a return before its call, an unmatched event, a NaN time). */
export class HistoryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HistoryError'
  }
}
