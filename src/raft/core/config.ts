import type { ConfState } from './types.js'

/**
 * Consul scales hashicorp/raft's base timings by `performance.raft_multiplier` (1..10, default 5):
 * its builder multiplies consul.raft.election_timeout (1000ms), heartbeat_timeout (1000ms) and
 * leader_lease_timeout (500ms) by the multiplier, so the default is 5s / 5s / 2.5s.
 * hashicorp/raft then waits a random time in [timeout, 2 x timeout) before campaigning and its leader
 * sends heartbeats every HeartbeatTimeout / 10. With one tick = `tickMs` of the driver's clock, this
 * maps to ticks as follows (ceil, at least 1).
 */
export const RAFT_MULTIPLIER_MIN = 1
export const RAFT_MULTIPLIER_MAX = 10
export const RAFT_MULTIPLIER_DEFAULT = 5
const BASE_ELECTION_MS = 1000
const BASE_HEARTBEAT_MS = 1000
const BASE_LEADER_LEASE_MS = 500
/** hashicorp/raft sends a heartbeat every HeartbeatTimeout / 10. */
const HEARTBEAT_SEND_DIVISOR = 10

export interface RaftTiming {
  /** Base election timeout; the randomised one is in [electionTicks, 2 * electionTicks). */
  electionTicks: number
  /** Interval between the leader's heartbeats. */
  heartbeatTicks: number
  /** Check-quorum: a leader steps down after this long without hearing from a quorum. */
  leaderLeaseTicks: number
}

/** Ticks for a Consul raft_multiplier; throws on a multiplier outside 1..10 (config validation's job). */
export function timingFromRaftMultiplier(multiplier = RAFT_MULTIPLIER_DEFAULT, tickMs = 100): RaftTiming {
  if (!Number.isInteger(multiplier) || multiplier < RAFT_MULTIPLIER_MIN || multiplier > RAFT_MULTIPLIER_MAX) {
    throw new RangeError(`performance.raft_multiplier cannot be ${multiplier}. Must be between 1 and 10`)
  }
  if (!(tickMs > 0)) throw new RangeError('tickMs must be positive')
  const ticks = (ms: number) => Math.max(1, Math.ceil(ms / tickMs))
  return {
    electionTicks: ticks(BASE_ELECTION_MS * multiplier),
    heartbeatTicks: ticks((BASE_HEARTBEAT_MS * multiplier) / HEARTBEAT_SEND_DIVISOR),
    leaderLeaseTicks: ticks(BASE_LEADER_LEASE_MS * multiplier),
  }
}

export interface RaftConfig extends Partial<RaftTiming> {
  id: string
  /** Uniform in [0, 1); the only source of randomness (election timeouts). Seeded in tests. */
  random: () => number
  /**
   * Bootstrap membership: a server with no persisted state writes it as entry 1 (term 1, committed),
   * the same entry on every bootstrapping server. Ignored when there is persisted state. A server
   * joining later starts without peers and learns the membership from the leader's log.
   */
  peers?: ConfState
  preVote?: boolean
  checkQuorum?: boolean
  /** Bytes per append message (at least one entry is always sent). */
  maxMsgBytes?: number
  /** Append messages in flight per follower in replicate state. */
  maxInflight?: number
  /** Bytes of committed entries per Ready. */
  maxApplyBytes?: number
  /** Bytes per InstallSnapshot chunk. */
  snapshotChunkBytes?: number
  /** A learner is promoted once its match is within this many entries of the leader's last index. */
  learnerCatchUpEntries?: number
  /** Proposals are refused while this many entries are appended but not committed (back-pressure). */
  maxUncommittedEntries?: number
  /** ReadIndex requests waiting on the leader; more are refused. */
  maxPendingReads?: number
  /** One line per notable event: role changes at info; ignored input (routine around elections) at debug, warn if malformed. */
  logger?: RaftLogger
}

export interface ResolvedConfig extends RaftTiming {
  id: string
  random: () => number
  preVote: boolean
  checkQuorum: boolean
  maxMsgBytes: number
  maxInflight: number
  maxApplyBytes: number
  snapshotChunkBytes: number
  learnerCatchUpEntries: number
  maxUncommittedEntries: number
  maxPendingReads: number
  logger: RaftLogger
}

export type RaftLogger = (line: string, level?: 'debug' | 'info' | 'warn') => void

export function resolveConfig(c: RaftConfig): ResolvedConfig {
  const t = timingFromRaftMultiplier()
  const r: ResolvedConfig = {
    id: c.id,
    random: c.random,
    electionTicks: c.electionTicks ?? t.electionTicks,
    heartbeatTicks: c.heartbeatTicks ?? t.heartbeatTicks,
    leaderLeaseTicks: c.leaderLeaseTicks ?? t.leaderLeaseTicks,
    preVote: c.preVote ?? true,
    checkQuorum: c.checkQuorum ?? true,
    maxMsgBytes: c.maxMsgBytes ?? 1024 * 1024,
    maxInflight: c.maxInflight ?? 256,
    maxApplyBytes: c.maxApplyBytes ?? 4 * 1024 * 1024,
    snapshotChunkBytes: c.snapshotChunkBytes ?? 1024 * 1024,
    learnerCatchUpEntries: c.learnerCatchUpEntries ?? 16,
    maxUncommittedEntries: c.maxUncommittedEntries ?? 8192,
    maxPendingReads: c.maxPendingReads ?? 4096,
    logger: c.logger ?? (() => {}),
  }
  if (typeof r.id !== 'string' || r.id === '') throw new Error('raft config: id must be a non-empty string')
  if (typeof r.random !== 'function') throw new Error('raft config: random must be a function')
  if (r.heartbeatTicks < 1 || r.electionTicks <= r.heartbeatTicks) throw new Error('raft config: electionTicks must exceed heartbeatTicks >= 1')
  if (r.maxInflight < 1 || r.maxMsgBytes < 1 || r.snapshotChunkBytes < 1 || r.maxUncommittedEntries < 1 || r.maxPendingReads < 1) throw new Error('raft config: limits must be positive')
  return r
}
