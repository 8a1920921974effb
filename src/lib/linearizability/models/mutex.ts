/**
 * A lock per key, as Consul's KV locks: `acquire` by a session (true when free or already held by
 * that session), `release` (true only for the holder), and `guarded`: a write fenced by the lock
 * (a txn with `check-session`), true only while the session holds it. A linearizable history means
 * never two holders at once, and a stale holder's fenced write never lands. Partitioned by key.
 * Sessions here are never invalidated (no checks, no TTL), so only `release` frees a lock.
 */
import type { Model, Operation } from '../types.js'
import { partitionByKey } from './partition.js'

export type MutexInput = { readonly op: 'acquire' | 'release' | 'guarded'; readonly key: string; readonly session: string }

/** `unknown` (no answer): give the operation `returnTime: Infinity`. */
export type MutexOutput = { readonly kind: 'ok'; readonly ok: boolean } | { readonly kind: 'unknown' }

export type MutexOperation = Operation<MutexInput, MutexOutput>
/** The holding session, or null when free. */
export type MutexState = string | null

function effect(state: MutexState, input: MutexInput): { succeeds: boolean; next: MutexState } {
  if (input.op === 'acquire') return state === null || state === input.session ? { succeeds: true, next: input.session } : { succeeds: false, next: state }
  if (input.op === 'release') return state === input.session ? { succeeds: true, next: null } : { succeeds: false, next: state }
  return { succeeds: state === input.session, next: state }
}

function step(state: MutexState, input: MutexInput, output: MutexOutput): { ok: boolean; next: MutexState } {
  const { succeeds, next } = effect(state, input)
  // An unanswered operation did what it would have done, had it taken effect at this point.
  if (output.kind === 'unknown') return { ok: true, next }
  return { ok: output.ok === succeeds, next: succeeds ? next : state }
}

export const mutexModel: Model<MutexState, MutexInput, MutexOutput> = Object.freeze({
  init: (): MutexState => null,
  step,
  hash: (state: MutexState) => (state === null ? '' : `@${state}`),
  equal: (a: MutexState, b: MutexState) => a === b,
  partition: partitionByKey,
  describePartition: (part: readonly MutexOperation[]) => (part.length > 0 ? `lock ${JSON.stringify(part[0].input.key)}` : 'no lock'),
  describeOperation: (input: MutexInput, output: MutexOutput) => `${input.op} ${input.key} by ${input.session} -> ${output.kind === 'unknown' ? '?' : String(output.ok)}`,
  describeState: (state: MutexState) => (state === null ? 'free' : `held by ${state}`),
})
