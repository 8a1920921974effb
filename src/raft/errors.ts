/**
 * Errors of the raft domain, typed once; the endpoint layer maps them to what clients see
 * (Consul's "No cluster leader", "leadership lost while committing log", ...).
 */

/** This server is not the leader; `leader` is the hint (`ip:port`, or "" when none is known). */
export class NotLeaderError extends Error {
  constructor(readonly leader: string) {
    super('node is not the leader')
    this.name = 'NotLeaderError'
  }
}

/** Leadership was lost with the entry appended but not known committed: its outcome is unknown. */
export class LeadershipLostError extends Error {
  constructor() {
    super('leadership lost while committing log')
    this.name = 'LeadershipLostError'
  }
}

/** The raft server is shut down (or its storage failed). */
export class RaftShutdownError extends Error {
  constructor(message = 'raft is shutdown') {
    super(message)
    this.name = 'RaftShutdownError'
  }
}
