/**
 * Wire and state types of the pure raft core (etcd-io/raft's raftpb shape). Server ids are strings,
 * as Consul's raft server ids are. Nothing here does I/O; every field is plain data.
 */

/** Kinds of log entry. WARNING: persisted and sent on the wire; only append to this list. */
export const EntryKind = { Normal: 'normal', Config: 'config', Noop: 'noop' } as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]
export const ENTRY_KINDS: readonly string[] = Object.values(EntryKind)

export interface Entry {
  index: number
  term: number
  type: EntryKind
  /** The command for `normal`, an encoded ConfChange for `config`, empty for `noop`. */
  data: Uint8Array
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  term: number
  /** The server voted for in `term`, or '' for none. */
  vote: string
  commit: number
}

/** The membership: voters count in quorums and elections; learners only receive the log. */
export interface ConfState {
  voters: string[]
  learners: string[]
  /**
   * Learners added to become voters (addServer): whichever leader sees one caught up promotes it.
   * Part of the configuration, so the intent survives leader changes and snapshots; absent when empty.
   */
  staging?: string[]
}

/** One server at a time (Raft dissertation §4.1). WARNING: persisted; only append. */
export const ConfChangeKind = { AddLearner: 'addLearner', Promote: 'promote', Remove: 'remove' } as const
export type ConfChangeKind = (typeof ConfChangeKind)[keyof typeof ConfChangeKind]

export type ConfChange =
  /** `promote` (addLearner only): the learner is staged, to be promoted once caught up. */
  | { type: ConfChangeKind; id: string; promote?: boolean }
  /** The first entry of a bootstrapped cluster (index 1, term 1, as hashicorp/raft's BootstrapCluster). */
  | { type: 'bootstrap'; conf: ConfState }

export interface SnapshotMeta {
  index: number
  term: number
  conf: ConfState
  /** Byte length of the snapshot data, checked when a chunked transfer completes. */
  size: number
  /** CRC-32 (IEEE) of the data, checked likewise. */
  crc32: number
}

export interface Snapshot {
  meta: SnapshotMeta
  data: Uint8Array
}

export const Role = { Follower: 'follower', PreCandidate: 'preCandidate', Candidate: 'candidate', Leader: 'leader' } as const
export type Role = (typeof Role)[keyof typeof Role]

/** Volatile state the caller may want to observe; never persisted. */
export interface SoftState {
  leader: string
  role: Role
}

interface Header {
  from: string
  to: string
  term: number
}

/** Request for a (pre-)vote. A pre-vote carries the term the sender would campaign at, and changes no state. */
export interface VoteRequest extends Header {
  type: 'vote' | 'preVote'
  lastLogIndex: number
  lastLogTerm: number
  /** Set when campaigning after a leadership transfer: bypasses the receivers' leader lease. */
  transfer: boolean
}

export interface VoteResponse extends Header {
  type: 'voteResp' | 'preVoteResp'
  reject: boolean
}

export interface AppendRequest extends Header {
  type: 'append'
  prevIndex: number
  prevTerm: number
  entries: Entry[]
  commit: number
}

export interface AppendResponse extends Header {
  type: 'appendResp'
  reject: boolean
  /** Accepted: the last index now known to match. Rejected: the `prevIndex` that did not match. */
  index: number
  /** Rejected only: the follower's guess of the last index that may match, and its term there. */
  hintIndex: number
  hintTerm: number
}

export interface Heartbeat extends Header {
  type: 'heartbeat'
  commit: number
  /** A ReadIndex round's id, echoed by the response; '' for a plain heartbeat. */
  context: string
}

export interface HeartbeatResponse extends Header {
  type: 'heartbeatResp'
  context: string
}

/** One chunk of an InstallSnapshot transfer; chunks go in order, one in flight. */
export interface SnapshotChunk extends Header {
  type: 'snapshot'
  meta: SnapshotMeta
  offset: number
  data: Uint8Array
  done: boolean
}

export interface SnapshotResponse extends Header {
  type: 'snapshotResp'
  /** The snapshot's index, so a stale response can be told apart. */
  snapshotIndex: number
  /** Bytes received so far (the next offset wanted); with `reject`, the transfer must restart at 0. */
  offset: number
  reject: boolean
}

/** Leadership transfer: tells the target to campaign now. */
export interface TimeoutNow extends Header {
  type: 'timeoutNow'
}

/** A follower asks the leader for a read index on behalf of a local reader. */
export interface ReadIndexRequest extends Header {
  type: 'readIndex'
  context: string
}

export interface ReadIndexResponse extends Header {
  type: 'readIndexResp'
  context: string
  /** The commit index to wait for before reading; -1 when the leader refused. */
  index: number
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse

export type MessageType = Message['type']

/** A linearizable read may be served once `index` is applied locally. */
export interface ReadState {
  context: string
  index: number
}

/**
 * A batch of work for the caller. Ordering contract (etcd's Ready):
 * 1. persist `snapshot` (if any), then `entries` (replacing any stored entries at or after the first's
 *    index), then `hardState` (if any); durably when `mustSync`;
 * 2. only then send `messages`;
 * 3. install `snapshot` into the state machine, then apply `committedEntries` in order;
 * 4. call `advance(ready)`. No other Ready is handed out before that.
 * `readStates` may be served once the local applied index reaches each one's index.
 */
export interface Ready {
  softState: SoftState | undefined
  hardState: HardState | undefined
  entries: Entry[]
  snapshot: Snapshot | undefined
  committedEntries: Entry[]
  messages: Message[]
  readStates: ReadState[]
  mustSync: boolean
}
