/**
 * The commands the raft log carries. They are stored as JSON, so a field once written must
 * keep its meaning forever: add fields and types, never repurpose them.
 * Bytes travel as base64 strings and uint64 flags as decimal strings.
 */

export type KvVerb =
  | 'set'
  | 'cas'
  | 'lock'
  | 'unlock'
  | 'get'
  | 'get-or-empty'
  | 'get-tree'
  | 'check-index'
  | 'check-session'
  | 'check-not-exists'
  | 'delete'
  | 'delete-tree'
  | 'delete-cas'

export const KV_VERBS: readonly KvVerb[] = [
  'set',
  'cas',
  'lock',
  'unlock',
  'get',
  'get-or-empty',
  'get-tree',
  'check-index',
  'check-session',
  'check-not-exists',
  'delete',
  'delete-tree',
  'delete-cas',
]

/** Verbs that only read: a transaction made of these alone never goes through the log. */
export const KV_READ_VERBS: ReadonlySet<KvVerb> = new Set([
  'get',
  'get-or-empty',
  'get-tree',
  'check-index',
  'check-session',
  'check-not-exists',
])

export interface KvOp {
  Verb: KvVerb
  Key: string
  /** base64, or null for an empty value. */
  Value?: string | null
  /** uint64 as a decimal string. */
  Flags?: string
  Index?: number
  Session?: string
}

export interface KvsCommand {
  Type: 'kvs'
  Op: KvOp
}

export interface TxnCommand {
  Type: 'txn'
  Ops: Array<{ KV: KvOp }>
}

export type Command = KvsCommand | TxnCommand | CatalogCommand | RestoreCommand | ClusterIdCommand | CoordinateBatchCommand | AclCommand

/** A change to the ACL tables (state/acl.ts): tokens, policies, roles, bootstrap. */
export type AclCommand = { Type: 'acl' } & import('./acl.js').AclCommandOp

/** Consul's CoordinateBatchUpdateType: the coordinates agents reported, gathered by the leader. */
export interface CoordinateBatchCommand {
  Type: 'coordinates'
  Updates: import('./coordinates.js').CoordinateEntry[]
}

/** Names the cluster (its first leader proposes it); the first one applied stays. */
export interface ClusterIdCommand {
  Type: 'cluster-id'
  ID: string
}

/**
 * Replaces the whole state with a snapshot's (PUT /v1/snapshot), on every server at the same log
 * index. `State` is the FSM's snapshot text.
 */
export interface RestoreCommand {
  Type: 'restore'
  State: string
}

/** Catalog registration, as Consul's RegisterRequest: a node, optionally one service, and checks. */
export interface RegisterCommand {
  Type: 'register'
  Node: import('./catalog.js').NodeInput
  /** Leave the node record as it is (an agent syncing only its services or checks). */
  SkipNodeUpdate?: boolean
  Service?: import('./catalog.js').ServiceInput
  Checks?: Array<import('./catalog.js').CheckInput>
}

/** Removes a check, a service (with its checks) or, with neither, the whole node. */
export interface DeregisterCommand {
  Type: 'deregister'
  Node: string
  ServiceID?: string
  CheckID?: string
}

export interface SessionCreateCommand {
  Type: 'session'
  Op: 'create'
  Session: Omit<import('./sessions.js').SessionRecord, 'CreateIndex' | 'ModifyIndex'>
}

export interface SessionDestroyCommand {
  Type: 'session'
  Op: 'destroy'
  ID: string
}

/** Creates, replaces or deletes a prepared query. */
export interface QueryCommand {
  Type: 'query'
  Op: 'set' | 'delete'
  Query: import('./queries.js').PreparedQueryInput
}

export type CatalogCommand = RegisterCommand | DeregisterCommand | SessionCreateCommand | SessionDestroyCommand | QueryCommand

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** The bytes a command is logged as (its JSON text, UTF-8): what every server decodes and applies. */
export function encodeCommand(command: Command): Uint8Array {
  return utf8.encode(JSON.stringify(command))
}

/** Throws on bytes that are not a command's JSON (the state machine refuses to guess). */
export function decodeCommand(data: Uint8Array): Command {
  const value = JSON.parse(fromUtf8.decode(data)) as unknown
  if (typeof value !== 'object' || value === null || typeof (value as { Type?: unknown }).Type !== 'string') {
    throw new Error('fsm: log entry is not a command')
  }
  return value as Command
}
