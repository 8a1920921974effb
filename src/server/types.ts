/**
 * The envelope of every server endpoint call (Consul's structs.QueryOptions, QueryMeta and
 * WriteRequest): plain, serialisable data, so a call can later be forwarded to the leader as is.
 * What cannot travel (the caller's abort signal, a deadline already running on this server's
 * clock) is passed beside the request as a `CallContext`.
 */
import type { BlockingCounters } from './blocking.js'

/** `default`: the leader's state; `consistent`: after a read barrier (ReadIndex); `stale`: any server's own state. */
export type Consistency = 'default' | 'consistent' | 'stale'

/** What a read asks for besides its arguments. */
export interface QueryOptions {
  /** The datacenter to answer from; empty or absent means this server's. */
  datacenter?: string
  consistency?: Consistency
  /** Blocking: answer once the result's index is above this (0 or absent: at once). */
  minQueryIndex?: number
  /** Blocking: the longest wait, before jitter (the caller applies its defaults and caps). */
  maxQueryTimeMs?: number
  /** The caller's ACL secret (empty: the agent's default token, else anonymous). */
  token?: string
  /** With `stale`: a server that last heard from the leader longer ago than this answers as `default` would (Consul forwards such a read to the leader). */
  maxStaleMs?: number | undefined
}

/** What a write carries besides its arguments. */
export interface WriteOptions {
  datacenter?: string
  token?: string
}

/** How a blocking read ended: already past the index, woken by a change, out of time, or its caller left. */
export type BlockingOutcome = 'immediate' | 'changed' | 'timeout' | 'aborted'

/** What a read reports about itself (the X-Consul-* headers of the HTTP API). */
export interface QueryMeta {
  /** The index of the data returned; never 0. */
  index: number
  knownLeader: boolean
  lastContactMs: number
  /** The consistency the answer actually has (`default` reads report `leader`). */
  consistency: 'leader' | 'stale' | 'consistent'
  /** Set for blocking reads (minQueryIndex above 0) only. */
  outcome?: BlockingOutcome
  /** X-Consul-Results-Filtered-By-ACLs: the token could not read all of the result. */
  filteredByAcls?: boolean
}

/** A read's answer: its value and its meta. */
export interface QueryReply<T> {
  value: T
  meta: QueryMeta
}

/** A write's answer: the raft index it was applied at, and the endpoint's result. */
export interface WriteReply<T> {
  index: number
  value: T
}

/**
 * The caller's side of a call, never serialised: `signal` ends a blocking wait when the client
 * goes away (read only if the call waits, so a lazily made signal costs nothing otherwise);
 * `blockingDeadline` is a deadline on this server's clock that the caller already started;
 * `counters` are where the call's blocking waits and evaluations are counted (the HTTP API's,
 * for /v1/agent/self; the agent's own watches are not counted).
 */
export interface CallContext {
  readonly signal?: AbortSignal
  readonly blockingDeadline?: number | undefined
  readonly counters?: BlockingCounters
}
