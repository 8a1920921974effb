/**
 * Linearizability checking by the Wing & Gong search with Lowe's memoisation (WGL), on each part
 * of a partitioned history (P-compositionality). Porcupine's algorithm, written for this project.
 *
 * The history becomes a doubly linked list of call and return entries sorted by time. The search
 * walks the list from the head: a call entry whose operation the model accepts from the current
 * state is "lifted" (its call and return entries are unlinked) and the walk restarts at the head;
 * reaching a return entry means the operation it closes was not linearized before its deadline,
 * so the last lifted operation is put back ("unlifted") and the walk resumes after it. A cache of
 * (set of linearized operations, state) pairs already explored cuts the repeated sub-searches.
 */
import { Bitset } from './bitset.js'
import {
  HistoryError,
  type CheckOptions,
  type CheckResult,
  type IllegalExplanation,
  type Model,
  type Operation,
} from './types.js'

/** How often (in search steps) the wall clock is read for `timeoutMs`. */
const CLOCK_CHECK_EVERY_STEPS = 256

interface Entry {
  /** Index of the operation in its part; -1 for the list head. */
  readonly id: number
  readonly isCall: boolean
  readonly time: number
  /** From a call entry to its return entry. */
  match: Entry | null
  prev: Entry | null
  next: Entry | null
}

interface Budget {
  steps: number
  readonly stepsMax: number
  readonly deadlineMs: number
  readonly now: () => number
  exhausted: boolean
}

interface Deepest<State> {
  order: number[]
  state: State
  candidates: number[]
}

type PartOutcome<State> =
  | { readonly result: 'ok' }
  | { readonly result: 'unknown' }
  | { readonly result: 'illegal'; readonly deepest: Deepest<State> }

/** Check a history against a model. Throws HistoryError on a malformed history. */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<State, Input, Output> {
  validateHistory(history)
  const parts = model.partition ? model.partition(history) : [history.slice()]
  const total = parts.reduce((sum, part) => sum + part.length, 0)
  if (total !== history.length) {
    throw new HistoryError(`the model's partition holds ${total} operations, the history ${history.length}`)
  }
  const now = options.now ?? Date.now
  const budget: Budget = {
    steps: 0,
    stepsMax: options.stepsMax ?? Infinity,
    deadlineMs: options.timeoutMs === undefined ? Infinity : now() + options.timeoutMs,
    now,
    exhausted: false,
  }
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]
    const outcome = checkPart(model, part, budget)
    if (outcome.result === 'unknown') return { result: 'unknown', steps: budget.steps, partitions: parts.length }
    if (outcome.result === 'illegal') {
      const name = model.describePartition ? model.describePartition(part) : `part ${p}`
      return {
        result: 'illegal',
        explanation: explain(model, part, name, outcome.deepest),
        steps: budget.steps,
        partitions: parts.length,
      }
    }
  }
  return { result: 'ok', steps: budget.steps, partitions: parts.length }
}

function validateHistory<Input, Output>(history: readonly Operation<Input, Output>[]): void {
  for (let i = 0; i < history.length; i++) {
    const op = history[i]
    if (typeof op.callTime !== 'number' || !Number.isFinite(op.callTime)) {
      throw new HistoryError(`operation ${i}: call time ${String(op.callTime)} is not a finite number`)
    }
    if (typeof op.returnTime !== 'number' || Number.isNaN(op.returnTime)) {
      throw new HistoryError(`operation ${i}: return time ${String(op.returnTime)} is not a number`)
    }
    if (op.returnTime < op.callTime) {
      throw new HistoryError(`operation ${i}: returns at ${op.returnTime}, before its call at ${op.callTime}`)
    }
  }
}

/**
 * Entries sorted by time; at equal times calls come first, so operations that merely touch are
 * taken as concurrent (the lenient reading: a coarse clock must not make a history illegal).
 */
function buildList<Input, Output>(ops: readonly Operation<Input, Output>[]): Entry {
  const entries: Entry[] = []
  for (let id = 0; id < ops.length; id++) {
    const call: Entry = { id, isCall: true, time: ops[id].callTime, match: null, prev: null, next: null }
    const ret: Entry = { id, isCall: false, time: ops[id].returnTime, match: null, prev: null, next: null }
    call.match = ret
    entries.push(call, ret)
  }
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1))
  const head: Entry = { id: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null }
  let last = head
  for (const entry of entries) {
    last.next = entry
    entry.prev = last
    last = entry
  }
  return head
}

/** Unlink a call entry and its return entry; both keep their own links for `unlift`. */
function lift(call: Entry): void {
  const ret = call.match as Entry
  ;(call.prev as Entry).next = call.next
  ;(call.next as Entry).prev = call.prev
  ;(ret.prev as Entry).next = ret.next
  if (ret.next) ret.next.prev = ret.prev
}

/** Undo `lift`, in the reverse order. */
function unlift(call: Entry): void {
  const ret = call.match as Entry
  ;(ret.prev as Entry).next = ret
  if (ret.next) ret.next.prev = ret
  ;(call.prev as Entry).next = call
  ;(call.next as Entry).prev = call
}

function spend(budget: Budget): boolean {
  budget.steps++
  if (budget.steps > budget.stepsMax) budget.exhausted = true
  else if (budget.steps % CLOCK_CHECK_EVERY_STEPS === 0 && budget.now() >= budget.deadlineMs) budget.exhausted = true
  return !budget.exhausted
}

function checkPart<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  budget: Budget,
): PartOutcome<State> {
  const head = buildList(ops)
  const cache = new Cache(model)
  const linearized = Bitset.empty(ops.length)
  const stack: { entry: Entry; state: State }[] = []
  let state = model.init()
  let deepest: Deepest<State> | null = null
  let entry = head.next
  while (head.next !== null && entry !== null) {
    if (!spend(budget)) return { result: 'unknown' }
    if (entry.isCall) {
      const op = ops[entry.id]
      const stepped = model.step(state, op.input, op.output)
      if (stepped.ok) {
        linearized.set(entry.id)
        if (cache.add(linearized, stepped.next)) {
          stack.push({ entry, state })
          state = stepped.next
          lift(entry)
          entry = head.next
          continue
        }
        linearized.clear(entry.id)
      }
      entry = entry.next
      continue
    }
    // A return entry: its operation had to be linearized by now and could not be.
    if (deepest === null || stack.length > deepest.order.length) deepest = snapshot(head, entry, stack, state)
    const top = stack.pop()
    if (top === undefined) return { result: 'illegal', deepest }
    state = top.state
    linearized.clear(top.entry.id)
    unlift(top.entry)
    entry = top.entry.next
  }
  return { result: 'ok' }
}

/** The search's position at a dead end: the order so far and the calls that could have come next. */
function snapshot<State>(head: Entry, deadEnd: Entry, stack: readonly { entry: Entry }[], state: State): Deepest<State> {
  const candidates: number[] = []
  for (let e = head.next; e !== null && e !== deadEnd; e = e.next) if (e.isCall) candidates.push(e.id)
  return { order: stack.map((s) => s.entry.id), state, candidates }
}

/** The memo of explored (linearized set, state) pairs, bucketed by both hashes. */
class Cache<State> {
  private readonly buckets = new Map<string, { bits: Bitset; state: State }[]>()

  constructor(private readonly model: Model<State, unknown, unknown>) {}

  /** Record the pair; false when it (or an equal pair) was already there. */
  add(bits: Bitset, state: State): boolean {
    const key = `${bits.hash()}:${this.model.hash(state)}`
    const bucket = this.buckets.get(key)
    if (bucket === undefined) {
      this.buckets.set(key, [{ bits: bits.clone(), state }])
      return true
    }
    for (const seen of bucket) if (seen.bits.equals(bits) && this.sameState(seen.state, state)) return false
    bucket.push({ bits: bits.clone(), state })
    return true
  }

  private sameState(a: State, b: State): boolean {
    return this.model.equal ? this.model.equal(a, b) : this.model.hash(a) === this.model.hash(b)
  }
}

function explain<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  partition: string,
  deepest: Deepest<State>,
): IllegalExplanation<State, Input, Output> {
  const longestPrefix = deepest.order.map((i) => ops[i])
  const unplaceable = deepest.candidates.map((i) => ops[i])
  const line = (op: Operation<Input, Output>): string => `  ${describeOperation(model, op)}`
  const state = model.describeState ? model.describeState(deepest.state) : model.hash(deepest.state)
  const text = [
    `${partition}: not linearizable`,
    `longest linearizable prefix (${longestPrefix.length} of ${ops.length} operations):`,
    ...longestPrefix.map(line),
    `state after it: ${state}`,
    'none of these can come next:',
    ...unplaceable.map(line),
  ].join('\n')
  return { partition, longestPrefix, state: deepest.state, unplaceable, text }
}

/** One line for an operation: client, what it did, and its interval. */
export function describeOperation<State, Input, Output>(
  model: Model<State, Input, Output>,
  op: Operation<Input, Output>,
): string {
  const what = model.describeOperation
    ? model.describeOperation(op.input, op.output)
    : `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`
  const until = Number.isFinite(op.returnTime) ? String(op.returnTime) : 'never'
  return `client ${op.clientId}: ${what} [${op.callTime}, ${until}]`
}
