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
  response: unknown
}
