/** Every bound the agent enforces, named once. Config can raise the ones Consul lets users set. */
export const LIMITS = {
  /** limits.kv_max_value_size default: 512 KiB, as Consul. */
  kvMaxValueSize: 512 * 1024,
  /** limits.txn_max_req_len default: 512 KiB, as Consul. */
  txnMaxReqLen: 512 * 1024,
  /** Operations in one /v1/txn request (Consul 1.14+). */
  txnMaxOps: 128,
  /** Tombstones kept before a reap raises the floor index. */
  kvTombstonesMax: 100_000,
  /** Default and maximum wait of a blocking query, and the jitter divisor. */
  blockingDefaultWaitMs: 5 * 60_000,
  blockingMaxWaitMs: 10 * 60_000,
  blockingJitterFraction: 16,
  /** An oversize body up to this size (or 4× the limit) is read and discarded so the client sees the 413. */
  oversizeDrainMinBytes: 8 * 1024 * 1024,
  /** Request bodies of endpoints other than KV PUT and txn (JSON documents). */
  jsonBodyMax: 1024 * 1024,
  /** Raft log entries between snapshots, and entries kept behind a snapshot (Consul's defaults). */
  raftSnapshotThreshold: 16_384,
  raftTrailingLogs: 10_240,
  /** Minimum time between snapshots (Consul's raft_snapshot_interval default). */
  raftSnapshotIntervalMs: 30_000,
  /** One tick of the raft core; Consul's timings (raft_multiplier x 1 s elections) are whole ticks of it. */
  raftTickMs: 50,
  /** KV entries serialized per event-loop turn while a snapshot is taken (a few milliseconds each). */
  snapshotChunkEntries: 5_000,
  /**
   * Largest snapshot a restore takes (its state, uncompressed): it travels as one raft entry, so it
   * must fit a server RPC frame (64 MiB) with room to spare.
   */
  snapshotRestoreMaxBytes: 48 * 1024 * 1024,
  /** Entries written to disk in one group commit. */
  groupCommitMaxEntries: 4096,
} as const
