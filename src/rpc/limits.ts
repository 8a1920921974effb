/** Every bound of the server RPC layer, named once. Defaults; an RpcServer may be given others (tests). */
export const RPC_LIMITS = {
  /** Largest frame accepted or sent: room for a snapshot chunk far above the core's 1 MiB default. */
  maxFrameBytes: 64 * 1024 * 1024,
  /**
   * Bytes queued for one peer (waiting for the connection, or unsent in the socket). Past it frames are
   * dropped: raft retries, and a caller hears 'overloaded'. A frame larger than this still goes alone.
   */
  maxPeerBufferBytes: 16 * 1024 * 1024,
  /** Frames queued for one peer while its connection is being made. */
  maxPeerQueueFrames: 4096,
  /** Calls awaiting an answer from one peer. */
  maxPendingCallsPerPeer: 4096,
  /** Requests one inbound connection may have in progress; more are answered 'overloaded'. */
  maxInflightPerConnection: 1024,
  /** Inbound connections held at once (servers and, later, client agents forwarding); more are closed on accept. */
  maxInboundConnections: 8192,
  /** A connection must finish its handshake (TCP connect included) within this. */
  handshakeTimeoutMs: 5_000,
  /** Reconnect backoff after a failed dial or a lost connection: doubles from min to max, with jitter. */
  backoffMinMs: 50,
  backoffMaxMs: 5_000,
  /**
   * An outbound connection with no call in flight and no frame either way for this long is closed
   * (and made again on next use), as Consul's connection pool reaps idle ones: gossip's push-pulls
   * and fallback probes reach every member in turn, and without this each agent would keep a
   * connection to every member of the pool, each way. 0 keeps them.
   */
  idleCloseMs: 120_000,
  /** Deadline of a call that names none. */
  defaultCallTimeoutMs: 10_000,
  /** Strings of the handshake and method names. */
  maxNameLength: 256,
} as const

export type RpcLimits = { -readonly [K in keyof typeof RPC_LIMITS]: number }
