/**
 * The seams of the raft layer, named as hashicorp/raft names them so that Consul's vocabulary
 * carries over: a log of entries and a stable hard state (RaftStorage), snapshots, the state
 * machine that applies entries (StateMachine, hashicorp's FSM), the Transport, and what the
 * server endpoint layer sees of it all (Consensus). Entries, hard state and snapshots are the
 * pure core's types (core/types.ts).
 */
import type { Entry, HardState, Message, Snapshot } from './core/types.js'

export interface RecoveredState {
  hardState: HardState
  /** The latest snapshot; its `meta.conf` has no voters when it was written before the core kept one. */
  snapshot: Snapshot | undefined
  /** Entries after the snapshot, in index order. */
  entries: Entry[]
}

/** The durable part of one Ready, written in this order. */
export interface PersistBatch {
  /** A snapshot from the leader: it replaces the state and the whole stored log. */
  snapshot?: Snapshot
  /** Replace every stored entry at or after the first one's index. */
  entries: readonly Entry[]
  hardState?: HardState
}

/**
 * Durable storage for one raft server. `recover` runs once at start. Every promise resolves only
 * when the write is on stable storage (fsync'd): raft acknowledges nothing before that. Writes
 * are applied in call order.
 */
export interface RaftStorage {
  recover(): RecoveredState
  /** Durable when it returns, if it returns nothing (memory and simulated storage); otherwise when the promise resolves. */
  persist(batch: PersistBatch): Promise<void> | void
  /** Stores a local snapshot of the state machine (durable when this resolves) and drops log entries at or below `compactThrough`, possibly later. */
  saveSnapshot(snapshot: Snapshot, compactThrough: number): Promise<void> | void
  /**
   * Stable entries in [lo, hi), synchronously, stopping once `maxBytes` is passed (at least one):
   * the core keeps only recent entries in memory and reads older ones back for slow followers.
   * Storage without it keeps every entry in the core's memory until a snapshot compacts them.
   */
  readEntries?(lo: number, hi: number, maxBytes: number): Entry[]
  /** Number of log entries on disk (for tests and stats). */
  logLength(): Promise<number>
  close(): Promise<void>
}

/**
 * hashicorp/raft's FSM contract: `apply` is called once per committed command, in index order,
 * with the logged bytes (never an in-memory object), and returns a plain serialisable value, so
 * every server computes the same thing. `skip` moves the index past entries that carry no
 * command (no-ops, configuration changes). `snapshot` captures the state at the last applied
 * index at the moment of the call (it may finish later); `restore` replaces the state whole.
 */
export interface StateMachine {
  apply(index: number, data: Uint8Array): unknown
  skip(index: number): void
  /** Bytes now (a simulation's state machine), or a promise of them. */
  snapshot(): Promise<Uint8Array> | Uint8Array
  restore(data: Uint8Array): void
}

/** Carries the core's messages between servers; delivery is best effort (raft retries). */
export interface Transport {
  send(message: Message): void
  /** Messages for this server arrive here, unvalidated (the core checks them). */
  onMessage(handler: (message: unknown) => void): void
  close(): void
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

/** One server as the leader sees its replication (autopilot's server health). */
export interface ReplicationState {
  id: string
  voter: boolean
  /** The last log index known replicated there, and that entry's term. */
  matchIndex: number
  matchTerm: number
  /** Since the leader last heard from it (0 for the leader itself; -1: never). */
  lastContactMs: number
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
  /** The log index of the entry that set that configuration. */
  configurationIndex(): number
  /** Leader only: takes a server out of the configuration (NotLeaderError elsewhere). */
  removeServer(id: string): Promise<ApplyResult>
  /** Leader only: hands leadership to a caught-up voter; false when that cannot start. */
  transferLeadership(to: string): boolean
  /** Milliseconds since this server last heard from the leader (0 on the leader). */
  lastContactMs(): number
  appliedIndex(): number
  /** The current raft term (snapshot metadata). */
  currentTerm(): number
  /**
   * Leader only (undefined elsewhere): how far each server of the configuration has replicated and
   * when it was last heard from, and the heartbeat interval those contacts follow.
   */
  replication(): { heartbeatMs: number; servers: ReplicationState[] } | undefined
  stats(): Record<string, string>
  /** Calls `listener` whenever this server gains or loses leadership; returns the unsubscribe. */
  onLeadershipChange(listener: (isLeader: boolean) => void): () => void
  close(): Promise<void>
}
