/** Linearizability checking (WGL search, partitioned): see README.md in this folder. */
export { checkOperations, describeOperation } from './check.js'
export { checkEvents, operationsFromEvents, type EventOptions } from './events.js'
export { countStaleReads, type StaleReadReport } from './stale.js'
export { kvModel, type KvInput, type KvOperation, type KvOutput, type KvState } from './models/kv.js'
export { mutexModel, type MutexInput, type MutexOperation, type MutexOutput, type MutexState } from './models/mutex.js'
export { setModel, type SetInput, type SetOperation, type SetOutput, type SetState } from './models/set.js'
export {
  HistoryError,
  type CheckOptions,
  type CheckResult,
  type CheckVerdict,
  type HistoryEvent,
  type IllegalExplanation,
  type Model,
  type Operation,
  type StepResult,
} from './types.js'
