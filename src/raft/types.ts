/**
 * The seams of the raft layer, named as hashicorp/raft names them so that Consul's vocabulary
 * carries over: a log of entries, a stable hard state, snapshots, and the FSM that applies them.
 */

/** Kinds of log entry. WARNING: stored on disk; only append to this list. */
export const EntryType = {
  Command: 0,
  Noop: 1,
  Configuration: 2,
} as const
export type EntryType = (typeof EntryType)[keyof typeof EntryType]

export interface LogEntry {
  index: number
  term: number
  type: EntryType
  /** The command, JSON-encoded (see state/commands.ts). Empty for no-ops. */
  data: string
}

/** What must survive a crash besides the log: the term and the vote cast in it. */
export interface HardState {
  term: number
  vote: string
}

export interface SnapshotRecord {
  index: number
  term: number
  data: string
}

export interface RecoveredState {
  hardState: HardState
  snapshot: SnapshotRecord | undefined
  /** Entries after the snapshot, in index order. */
  entries: LogEntry[]
}

/**
 * Durable storage for one raft member. `recover` runs once at start. Every promise resolves
 * only when the write is on stable storage (fsync'd): raft acknowledges nothing before that.
 * Writes are applied in call order.
 */
export interface RaftStorage {
  recover(): RecoveredState
  /** Appends entries, replacing any stored entries at or after the first one's index. */
  append(entries: readonly LogEntry[]): Promise<void>
  setHardState(state: HardState): Promise<void>
  /** Stores a snapshot (durable when this resolves) and drops log entries at or below `compactThrough`, possibly later. */
  saveSnapshot(snapshot: SnapshotRecord, compactThrough: number): Promise<void>
  /** Number of log entries on disk (for tests and stats). */
  logLength(): Promise<number>
  close(): Promise<void>
}

/** The result of a command once it is committed and applied. */
export interface ApplyResult {
  index: number
  /** What the state machine returned: a plain, serialisable value (every server computes the same). */
  response: unknown
}

/** A member of the raft configuration, as Consul's raft.Server (ID, Address, Suffrage). */
export interface RaftServer {
  id: string
  /** `ip:port` of its server RPC address. */
  address: string
  voter: boolean
}

/**
 * What the server endpoint layer needs from consensus, whatever the cluster size. Raft knows
 * nothing of the commands it carries: they are bytes, encoded and decoded by the state machine's
 * side (state/commands.ts).
 */
export interface Consensus {
  /**
   * Appends a command, waits until it is committed and applied here, returns the state machine's
   * answer. Rejects with NotLeaderError (carrying the leader hint) on a follower, with
   * LeadershipLostError when leadership was lost before the entry was known committed.
   */
  apply(data: Uint8Array): Promise<ApplyResult>
  /**
   * A linearizable read point (ReadIndex): resolves once the local state reflects every write
   * acknowledged before the call. Rejects with NotLeaderError when no leader confirms it.
   */
  readBarrier(): Promise<void>
  isLeader(): boolean
  /** `ip:port` of the leader's server RPC address, or "" when there is none. */
  leaderAddress(): string
  /** The current configuration's servers. */
  servers(): RaftServer[]
  /** Milliseconds since this server last heard from the leader (0 on the leader). */
  lastContactMs(): number
  appliedIndex(): number
  stats(): Record<string, string>
  /** Calls `listener` whenever this server gains or loses leadership; returns the unsubscribe. */
  onLeadershipChange(listener: (isLeader: boolean) => void): () => void
  close(): Promise<void>
}
