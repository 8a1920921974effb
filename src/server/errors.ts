/**
 * The errors a server endpoint answers with, typed once. Callers map them at their edge (the
 * HTTP layer to Consul's status codes and messages); `toWireError`/`fromWireError` give each a
 * plain form, so an answer forwarded from another server rebuilds the same error.
 */
import { AclDisabledError, AclNotFoundError, PermissionDeniedError } from '../acl/errors.js'
import { LeadershipLostError, NotLeaderError, RaftShutdownError } from '../raft/errors.js'
import type { StateFailureKind } from '../state/store.js'

export { LeadershipLostError, NotLeaderError, RaftShutdownError }

/** The request names a datacenter this server has no path to (no WAN federation yet). */
export class NoPathToDatacenterError extends Error {
  constructor() {
    super('No path to datacenter')
    this.name = 'NoPathToDatacenterError'
  }
}

/** A client agent knows no server of its datacenter yet (Consul's structs.ErrNoServers). */
export class NoServersError extends Error {
  constructor() {
    super('No known Consul servers')
    this.name = 'NoServersError'
  }
}

/** This agent made more calls to the servers than limits.rpc_rate allows (Consul's structs.ErrRPCRateExceeded). */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterMs: number) {
    super('RPC rate limit exceeded')
    this.name = 'RateLimitedError'
  }
}

/** The object the request names does not exist; the message is Consul's (e.g. "Query not found"). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotFoundError'
  }
}

/** The state machine refused the write (a failure it returned as data, see state/store.ts). */
export class RejectedError extends Error {
  constructor(
    readonly kind: StateFailureKind,
    message: string,
  ) {
    super(message)
    this.name = 'RejectedError'
  }
}

export type WireErrorKind =
  | 'not-leader' | 'leadership-lost' | 'shutdown' | 'no-path' | 'no-servers' | 'not-found' | 'rejected'
  | 'acl-disabled' | 'acl-not-found' | 'permission-denied' | 'internal'

/** An endpoint error as data. */
export interface WireError {
  kind: WireErrorKind
  message: string
  /** NotLeader: the leader hint. */
  leader?: string
  /** Rejected: the state machine's kind of refusal. */
  failure?: StateFailureKind
  /** PermissionDenied: who lacked what, on what. */
  denied?: { accessor: string; permission: string; resource?: string }
}

export function toWireError(err: unknown): WireError {
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof NotLeaderError) return { kind: 'not-leader', message, leader: err.leader }
  if (err instanceof LeadershipLostError) return { kind: 'leadership-lost', message }
  if (err instanceof RaftShutdownError) return { kind: 'shutdown', message }
  if (err instanceof NoPathToDatacenterError) return { kind: 'no-path', message }
  if (err instanceof NoServersError) return { kind: 'no-servers', message }
  if (err instanceof NotFoundError) return { kind: 'not-found', message }
  if (err instanceof RejectedError) return { kind: 'rejected', message, failure: err.kind }
  if (err instanceof AclDisabledError) return { kind: 'acl-disabled', message }
  if (err instanceof AclNotFoundError) return { kind: 'acl-not-found', message }
  if (err instanceof PermissionDeniedError) {
    return { kind: 'permission-denied', message, denied: { accessor: err.accessor, permission: err.permission, ...(err.resource === undefined ? {} : { resource: err.resource }) } }
  }
  return { kind: 'internal', message }
}

export function fromWireError(wire: WireError): Error {
  switch (wire.kind) {
    case 'not-leader':
      return new NotLeaderError(wire.leader ?? '')
    case 'leadership-lost':
      return new LeadershipLostError()
    case 'shutdown':
      return new RaftShutdownError(wire.message)
    case 'no-path':
      return new NoPathToDatacenterError()
    case 'no-servers':
      return new NoServersError()
    case 'not-found':
      return new NotFoundError(wire.message)
    case 'rejected':
      return new RejectedError(wire.failure ?? 'rejected', wire.message)
    case 'acl-disabled':
      return new AclDisabledError()
    case 'acl-not-found':
      return new AclNotFoundError()
    case 'permission-denied':
      return new PermissionDeniedError(wire.denied?.accessor ?? '', wire.denied?.permission ?? '', wire.denied?.resource)
    default:
      return new Error(wire.message)
  }
}
