/**
 * The event-style history (porcupine's second input form): calls and returns in the order they
 * were seen, paired by id. Times become positions in the list, so only the order matters.
 */
import { checkOperations } from './check.js'
import { HistoryError, type CheckOptions, type CheckResult, type HistoryEvent, type Model, type Operation } from './types.js'

export interface EventOptions<Input, Output> {
  /**
   * The output given to a call that never returned (it then returns at `Infinity`). Without it, a
   * history with a pending call is refused: dropping a pending write would hide its effect.
   */
  readonly pendingOutput?: (input: Input) => Output
}

export function operationsFromEvents<Input, Output>(
  events: readonly HistoryEvent<Input, Output>[],
  options: EventOptions<Input, Output> = {},
): Operation<Input, Output>[] {
  const open = new Map<number, { clientId: number; input: Input; callTime: number }>()
  const closed = new Set<number>()
  const ops: Operation<Input, Output>[] = []
  events.forEach((event, position) => {
    if (event.kind === 'call') {
      if (open.has(event.id) || closed.has(event.id)) throw new HistoryError(`event ${position}: call id ${event.id} is used twice`)
      open.set(event.id, { clientId: event.clientId, input: event.input, callTime: position })
      return
    }
    const call = open.get(event.id)
    if (call === undefined) throw new HistoryError(`event ${position}: return id ${event.id} has no open call`)
    open.delete(event.id)
    closed.add(event.id)
    ops.push({ ...call, output: event.output, returnTime: position })
  })
  if (open.size > 0 && options.pendingOutput === undefined) {
    throw new HistoryError(`${open.size} call(s) never returned and no pendingOutput was given`)
  }
  for (const call of open.values()) {
    ops.push({ ...call, output: (options.pendingOutput as (input: Input) => Output)(call.input), returnTime: Infinity })
  }
  return ops
}

export function checkEvents<State, Input, Output>(
  model: Model<State, Input, Output>,
  events: readonly HistoryEvent<Input, Output>[],
  options: CheckOptions & EventOptions<Input, Output> = {},
): CheckResult<State, Input, Output> {
  return checkOperations(model, operationsFromEvents(events, options), options)
}
