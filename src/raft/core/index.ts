/** The pure raft core: one state machine per server, driven by tick/step/propose and Ready/advance. */
export { RaftNode, type InitialState, type ProposeResult } from './node.js'
export { RaftLog, entryBytes, type EntryReader } from './log.js'
export { Progress, ProgressState, Inflights } from './progress.js'
export { timingFromRaftMultiplier, RAFT_MULTIPLIER_DEFAULT, RAFT_MULTIPLIER_MAX, RAFT_MULTIPLIER_MIN, type RaftConfig, type RaftTiming } from './config.js'
export { applyConfChange, encodeConfChange, decodeConfChange } from './confchange.js'
export { invalidMessage, isMessage } from './validate.js'
export { crc32 } from './crc32.js'
export * from './types.js'
