/**
 * The endpoint surface an agent's HTTP API, DNS and anti-entropy call: a server's own endpoints
 * (server.ts), or a client agent's, which sends every call to a server (client-endpoints.ts). The
 * calls that travel are named once here, by Consul's RPC names, with how a server runs each.
 */
import type { Clock } from '../lib/clock.js'
import type { QueryFn } from './blocking.js'
import type { AclEndpoint } from './acl-endpoint.js'
import type { CatalogEndpoint, HealthEndpoint } from './catalog-endpoint.js'
import type { CoordinateEndpoint } from './coordinate-endpoint.js'
import { toWireError } from './errors.js'
import type { EndpointAnswer } from './forward.js'
import type { InternalEndpoint } from './internal-endpoint.js'
import type { KvsEndpoint, TxnEndpoint } from './kvs-endpoint.js'
import type { PreparedQueryEndpoint } from './prepared-query-endpoint.js'
import type { SessionEndpoint } from './session-endpoint.js'
import type { SnapshotEndpoint } from './snapshot-endpoint.js'
import type { OperatorEndpoint, StatusEndpoint } from './status-endpoint.js'
import type { CallContext, QueryOptions, QueryReply } from './types.js'

/** The local, read-only catalog view DNS and alias checks read synchronously (a server's state, a client's replica). */
export type LocalCatalogView = Pick<InternalEndpoint, 'catalogReader' | 'onCatalogChange' | 'onNodeChange' | 'nodeChecksNow' | 'preparedQueries'>

export type AclMethod =
  | 'bootstrap' | 'tokenSet' | 'tokenClone' | 'tokenDelete' | 'tokenRead' | 'tokenList' | 'policySet' | 'policyDelete' | 'policyRead'
  | 'policyList' | 'roleSet' | 'roleDelete' | 'roleRead' | 'roleList' | 'legacyApply' | 'legacyGet' | 'legacyList' | 'resolveToken'

export interface AgentEndpoints {
  readonly kvs: Pick<KvsEndpoint, 'apply' | 'get' | 'list' | 'listKeys'>
  readonly txn: Pick<TxnEndpoint, 'apply' | 'read'>
  readonly catalog: Pick<CatalogEndpoint, 'register' | 'deregister' | 'listDatacenters' | 'listNodes' | 'listServices' | 'listServiceInstances' | 'serviceNodes' | 'nodeServices'>
  readonly health: Pick<HealthEndpoint, 'nodeChecks' | 'serviceChecks' | 'serviceNodes' | 'checksInState'>
  readonly session: Pick<SessionEndpoint, 'apply' | 'renew' | 'get' | 'list' | 'nodeSessions'>
  readonly preparedQuery: Pick<PreparedQueryEndpoint, 'apply' | 'get' | 'list' | 'explain' | 'execute' | 'executeRemote'>
  readonly status: Pick<StatusEndpoint, 'leader' | 'peers'>
  readonly operator: Pick<OperatorEndpoint, 'raftGetConfiguration' | 'raftRemovePeer' | 'raftTransferLeader' | 'autopilotHealth'>
  readonly internal: Pick<InternalEndpoint, 'nodeInfo' | 'catalogDump' | 'serviceSummary' | 'nodeDump' | 'eventFire' | 'keyringOperation'> & LocalCatalogView
  readonly snapshot: Pick<SnapshotEndpoint, 'save' | 'restore'>
  readonly coordinate: Pick<CoordinateEndpoint, 'update' | 'listNodes' | 'node' | 'listDatacenters'>
  readonly acl: Pick<AclEndpoint, AclMethod>
  readonly datacenter: string
  readonly clock: Clock
  /** When a blocking read of `waitMs` that starts now gives up (jitter included). */
  queryDeadline(waitMs: number): number
  /** A blocking read of data the agent owns (user events, its own services): the same loop and meta. */
  localRead<T>(opts: QueryOptions, call: CallContext | undefined, query: QueryFn<T>): Promise<QueryReply<T>>
}

/* eslint-disable @typescript-eslint/no-explicit-any -- each entry's request type is its endpoint method's */
type Run = (e: AgentEndpoints, req: any, call?: CallContext) => Promise<unknown>

/**
 * Every call a client agent sends to a server, by Consul's RPC name, and how the server runs it:
 * through its own endpoints, so a follower decides consistency and forwards writes as it does for
 * its own HTTP API. WARNING: the names are on the wire.
 */
export const SERVED_METHODS = {
  'KVS.Apply': (e, r) => e.kvs.apply(r),
  'KVS.Get': (e, r, c) => e.kvs.get(r, c),
  'KVS.List': (e, r, c) => e.kvs.list(r, c),
  'KVS.ListKeys': (e, r, c) => e.kvs.listKeys(r, c),
  'Txn.Apply': (e, r) => e.txn.apply(r),
  'Txn.Read': (e, r) => e.txn.read(r),
  'Catalog.Register': (e, r) => e.catalog.register(r),
  'Catalog.Deregister': (e, r) => e.catalog.deregister(r),
  'Catalog.ListDatacenters': (e, r) => e.catalog.listDatacenters(r),
  'Catalog.ListNodes': (e, r, c) => e.catalog.listNodes(r, c),
  'Catalog.ListServices': (e, r, c) => e.catalog.listServices(r, c),
  'Catalog.ListServiceInstances': (e, r, c) => e.catalog.listServiceInstances(r, c),
  'Catalog.ServiceNodes': (e, r, c) => e.catalog.serviceNodes(r, c),
  'Catalog.NodeServices': (e, r, c) => e.catalog.nodeServices(r, c),
  'Health.NodeChecks': (e, r, c) => e.health.nodeChecks(r, c),
  'Health.ServiceChecks': (e, r, c) => e.health.serviceChecks(r, c),
  'Health.ServiceNodes': (e, r, c) => e.health.serviceNodes(r, c),
  'Health.ChecksInState': (e, r, c) => e.health.checksInState(r, c),
  'Session.Apply': (e, r) => e.session.apply(r),
  'Session.Renew': (e, r) => e.session.renew(r),
  'Session.Get': (e, r, c) => e.session.get(r, c),
  'Session.List': (e, r, c) => e.session.list(r, c),
  'Session.NodeSessions': (e, r, c) => e.session.nodeSessions(r, c),
  'PreparedQuery.Apply': (e, r) => e.preparedQuery.apply(r),
  'PreparedQuery.Get': (e, r, c) => e.preparedQuery.get(r, c),
  'PreparedQuery.List': (e, r, c) => e.preparedQuery.list(r, c),
  'PreparedQuery.Explain': (e, r) => e.preparedQuery.explain(r),
  'PreparedQuery.Execute': (e, r) => e.preparedQuery.execute(r),
  'PreparedQuery.ExecuteRemote': (e, r) => e.preparedQuery.executeRemote(r),
  'Internal.NodeInfo': (e, r, c) => e.internal.nodeInfo(r, c),
  'Internal.CatalogDump': (e, r, c) => e.internal.catalogDump(r, c),
  'Internal.ServiceSummary': (e, r, c) => e.internal.serviceSummary(r, c),
  'Internal.NodeDump': (e, r, c) => e.internal.nodeDump(r, c),
  'Internal.EventFire': (e, r) => e.internal.eventFire(r),
  'Internal.KeyringOperation': (e, r) => e.internal.keyringOperation(r),
  'Status.Leader': (e, r) => e.status.leader(r),
  'Status.Peers': (e, r) => e.status.peers(r),
  'Operator.RaftGetConfiguration': (e, r) => e.operator.raftGetConfiguration(r),
  'Operator.RaftRemovePeer': (e, r) => e.operator.raftRemovePeer(r),
  'Operator.RaftTransferLeader': (e, r) => e.operator.raftTransferLeader(r),
  'Operator.AutopilotHealth': (e, r) => e.operator.autopilotHealth(r),
  'Snapshot.Save': (e, r) => e.snapshot.save(r),
  'Snapshot.Restore': (e, r) => e.snapshot.restore(r),
  'Coordinate.Update': (e, r) => e.coordinate.update(r),
  'Coordinate.ListNodes': (e, r, c) => e.coordinate.listNodes(r, c),
  'Coordinate.Node': (e, r, c) => e.coordinate.node(r, c),
  'Coordinate.ListDatacenters': (e, r) => e.coordinate.listDatacenters(r),
  'ACL.BootstrapTokens': (e, r) => e.acl.bootstrap(r),
  'ACL.TokenSet': (e, r) => e.acl.tokenSet(r),
  'ACL.TokenClone': (e, r) => e.acl.tokenClone(r),
  'ACL.TokenDelete': (e, r) => e.acl.tokenDelete(r),
  'ACL.TokenRead': (e, r, c) => e.acl.tokenRead(r, c),
  'ACL.TokenList': (e, r, c) => e.acl.tokenList(r, c),
  'ACL.PolicySet': (e, r) => e.acl.policySet(r),
  'ACL.PolicyDelete': (e, r) => e.acl.policyDelete(r),
  'ACL.PolicyRead': (e, r, c) => e.acl.policyRead(r, c),
  'ACL.PolicyList': (e, r, c) => e.acl.policyList(r, c),
  'ACL.RoleSet': (e, r) => e.acl.roleSet(r),
  'ACL.RoleDelete': (e, r) => e.acl.roleDelete(r),
  'ACL.RoleRead': (e, r, c) => e.acl.roleRead(r, c),
  'ACL.RoleList': (e, r, c) => e.acl.roleList(r, c),
  'ACL.Apply': (e, r) => e.acl.legacyApply(r),
  'ACL.Get': (e, r, c) => e.acl.legacyGet(r, c),
  'ACL.List': (e, r, c) => e.acl.legacyList(r, c),
  'ACL.ResolveToken': (e, r) => e.acl.resolveToken(r),
} satisfies Record<string, Run>
/* eslint-enable @typescript-eslint/no-explicit-any */

export type ServedMethod = keyof typeof SERVED_METHODS

/** The RPC method a client agent's calls travel as. WARNING: on the wire. */
export const ENDPOINT_SERVE_METHOD = 'Endpoint.Serve'

/** Time left between a blocking read's answer and the caller's deadline, for the answer to travel. */
export const ANSWER_MARGIN_MS = 1000

/**
 * A server's side of a client agent's call: runs it through this server's endpoints (a blocking
 * read waits at most until the caller's deadline) and answers with the value or the error as data.
 */
export async function serveEndpointCall(endpoints: AgentEndpoints, body: unknown, deadline: number): Promise<EndpointAnswer> {
  const { method, req } = (body ?? {}) as { method?: unknown; req?: unknown }
  if (typeof method !== 'string' || !Object.hasOwn(SERVED_METHODS, method) || typeof req !== 'object' || req === null) {
    return { ok: false, error: { kind: 'internal', message: 'malformed endpoint call' } }
  }
  // A blocking read answers before the caller gives up on it: its own wait, cut short to fit the call's deadline.
  const q = req as QueryOptions
  const blockingDeadline = q.minQueryIndex ? Math.min(endpoints.queryDeadline(q.maxQueryTimeMs ?? 0), deadline - ANSWER_MARGIN_MS) : undefined
  try {
    const run = SERVED_METHODS[method as ServedMethod] as Run
    return { ok: true, value: await run(endpoints, req, { blockingDeadline }) }
  } catch (err) {
    return { ok: false, error: toWireError(err) }
  }
}
