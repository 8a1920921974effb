/**
 * The server endpoint layer (Consul's agent/consul: Server and its *_endpoint.go): typed,
 * serialisable requests and replies over the replicated state. Reads decide their consistency
 * and block in one place (core.ts, blocking.ts); writes are proposed through consensus; leader
 * duties start and stop with leadership (leader.ts). The HTTP API, DNS, anti-entropy and the
 * session timers go through it, never to raft or the store's tables.
 */
import type { Metrics } from '../lib/metrics.js'
import { randomUUID } from 'node:crypto'
import type { Clock } from '../lib/clock.js'
import type { Consensus } from '../raft/types.js'
import type { StateStore } from '../state/store.js'
import { queryDeadline, type QueryFn } from './blocking.js'
import type { CallContext, QueryOptions, QueryReply } from './types.js'
import { CatalogEndpoint, HealthEndpoint } from './catalog-endpoint.js'
import { ConsulServiceDuty, type ServerIdentity } from './consul-service.js'
import { EndpointCore, type Log } from './core.js'
import { answerEndpointCall, Forwarder, type EndpointAnswer, type ForwardedMethod, type RemoteCall } from './forward.js'
import type { KvsApplyRequest, TxnRequest } from './kvs-endpoint.js'
import type { DeregisterRequest, RegisterRequest } from './catalog-endpoint.js'
import type { SessionApplyRequest, SessionIdRequest } from './session-endpoint.js'
import type { PreparedQueryApplyRequest } from './prepared-query-endpoint.js'
import { InternalEndpoint, type InternalHooks } from './internal-endpoint.js'
import { CoordinateEndpoint, type CoordinateBatching, type CoordinateUpdateRequest, type DatacenterMap } from './coordinate-endpoint.js'
import { ClusterIdDuty } from './cluster-id.js'
import { KvsEndpoint, TxnEndpoint } from './kvs-endpoint.js'
import { LeaderLoop, type LeaderDuty } from './leader.js'
import { PreparedQueryEndpoint } from './prepared-query-endpoint.js'
import { SessionEndpoint } from './session-endpoint.js'
import { AclEndpoint, type IdRequest, type LegacyApplyRequest, type PolicySetRequest, type RoleSetRequest, type TokenSetRequest } from './acl-endpoint.js'
import { ACL_DISABLED, AclGate, type AclSettings } from './acl-gate.js'
import { AclInitDuty } from './acl-init.js'
import { AclReapDuty } from './acl-reap.js'
import { SessionTimers } from './session-timers.js'
import { SnapshotEndpoint, type SnapshotRestoreRequest } from './snapshot-endpoint.js'
import { OperatorEndpoint, StatusEndpoint, type DatacenterRequest, type RaftPeerRequest } from './status-endpoint.js'

export interface ServerOptions {
  state: StateStore
  raft: Consensus
  datacenter: string
  clock: Clock
  log: Log
  /** The agent's telemetry registry (write timings, blocking queries); none in a simulation. */
  metrics?: Metrics
  /** This server's raft ID and node (the `consul` service, node names in the raft configuration). */
  self: () => ServerIdentity & { serverId: string }
  /** [0, 1) source for jitter and shuffles; Math.random unless a simulation seeds one. */
  random?: () => number
  /** New session and prepared-query IDs. */
  newId?: () => string
  /** The `consul` service watch's longest wait. */
  consulServicePeriodMs?: number
  /** Server RPC to other servers: with it, writes reaching a follower are forwarded to the leader. */
  remote?: RemoteCall
  /** Consul's rpc_hold_timeout: how long a forwarded write waits for a leader. */
  rpcHoldTimeoutMs?: number
  /** Node names of other servers by raft ID (membership knows them); this server's own is always known. */
  serverNodeName?: (serverId: string) => string | undefined
  /** Membership's status of another server by raft ID (autopilot health). */
  serverStatus?: (serverId: string) => string | undefined
  /** The other servers of the datacenter, for their `consul` service entries, and a subscription to their changes. */
  otherServers?: () => ServerIdentity[]
  onServersChange?: (fn: () => void) => () => void
  /** The datacenters the WAN pool knows, this one first (just this one without). */
  datacenters?: () => string[]
  /** Gossips an encoded user event to the datacenter's agents (Internal.EventFire from another datacenter). */
  userEvent?: (payload: Uint8Array) => void
  /** Runs keyring operations on the agent's gossip pools (Internal.KeyringOperation). */
  keyring?: InternalHooks['keyring']
  /** Consul's consul.coordinate settings: how the leader batches coordinate reports. */
  coordinateBatching?: CoordinateBatching
  /** The WAN pool's coordinates of every datacenter's servers (Coordinate.ListDatacenters). */
  wanCoordinates?: () => DatacenterMap[]
  /** ACL settings (off unless given). */
  acl?: AclSettings
  /** acl.tokens.initial_management: a management token the leader creates with this secret. */
  aclInitialManagement?: string
  /** What data_dir/acl-bootstrap-reset holds (0: no reset asked). */
  aclResetIndex?: () => number
  /** More leader-only duties (the agent's: keeping the raft configuration in step with membership). */
  duties?: LeaderDuty[]
}

export class Server {
  readonly kvs: KvsEndpoint
  readonly txn: TxnEndpoint
  readonly catalog: CatalogEndpoint
  readonly health: HealthEndpoint
  readonly session: SessionEndpoint
  readonly preparedQuery: PreparedQueryEndpoint
  readonly status: StatusEndpoint
  readonly operator: OperatorEndpoint
  readonly internal: InternalEndpoint
  readonly snapshot: SnapshotEndpoint
  readonly coordinate: CoordinateEndpoint
  readonly acl: AclEndpoint
  readonly leader: LeaderLoop
  readonly sessionTimers: SessionTimers
  readonly #core: EndpointCore

  constructor(o: ServerOptions) {
    const core = (this.#core = new EndpointCore({
      state: o.state,
      raft: o.raft,
      datacenter: o.datacenter,
      clock: o.clock,
      random: o.random ?? Math.random,
      newId: o.newId ?? randomUUID,
      log: o.log,
      metrics: o.metrics,
    }))
    if (o.datacenters) core.datacenters = o.datacenters
    core.acl = new AclGate(o.state, o.acl ?? ACL_DISABLED, o.datacenter, () => o.clock.now())
    this.acl = new AclEndpoint(core, core.acl, o.aclResetIndex)
    this.sessionTimers = new SessionTimers({
      state: o.state,
      clock: o.clock,
      destroy: (id) => core.apply({ Type: 'session', Op: 'destroy', ID: id }),
      log: o.log,
    })
    this.kvs = new KvsEndpoint(core)
    this.txn = new TxnEndpoint(core)
    this.catalog = new CatalogEndpoint(core)
    this.health = new HealthEndpoint(core)
    this.session = new SessionEndpoint(core, this.sessionTimers)
    this.preparedQuery = new PreparedQueryEndpoint(core)
    this.status = new StatusEndpoint(core)
    this.operator = new OperatorEndpoint(
      core,
      (id) => {
        const self = o.self()
        return id === self.serverId ? self.node.Node : o.serverNodeName?.(id)
      },
      (id) => (id === o.self().serverId ? 'alive' : o.serverStatus?.(id)),
    )
    this.internal = new InternalEndpoint(core, { userEvent: o.userEvent, keyring: o.keyring })
    this.snapshot = new SnapshotEndpoint(core, this.sessionTimers)
    this.coordinate = new CoordinateEndpoint(core, o.coordinateBatching, o.wanCoordinates)
    const duties: LeaderDuty[] = [
      new ClusterIdDuty(core, o.clock),
      this.sessionTimers,
      new ConsulServiceDuty({ catalog: this.catalog, self: o.self, others: o.otherServers, onOthersChange: o.onServersChange, clock: o.clock, log: o.log, periodMs: o.consulServicePeriodMs }),
      ...(core.acl.enabled ? [new AclInitDuty(this.acl, o.clock, o.aclInitialManagement), new AclReapDuty(core, o.clock)] : []),
      ...(o.duties ?? []),
    ]
    this.leader = new LeaderLoop(o.raft, duties, o.log)
    if (o.remote) core.forwarder = new Forwarder({ raft: o.raft, call: o.remote, clock: o.clock, local: (m, req) => this.call(m, req), holdMs: o.rpcHoldTimeoutMs })
  }

  /** Runs a write endpoint by its RPC name (what a forwarded call names). */
  call(method: ForwardedMethod, req: unknown): Promise<unknown> {
    switch (method) {
      case 'KVS.Apply': return this.kvs.apply(req as KvsApplyRequest)
      case 'Txn.Apply': return this.txn.apply(req as TxnRequest)
      case 'Catalog.Register': return this.catalog.register(req as RegisterRequest)
      case 'Catalog.Deregister': return this.catalog.deregister(req as DeregisterRequest)
      case 'Session.Apply': return this.session.apply(req as SessionApplyRequest)
      case 'Session.Renew': return this.session.renew(req as SessionIdRequest)
      case 'PreparedQuery.Apply': return this.preparedQuery.apply(req as PreparedQueryApplyRequest)
      case 'Operator.RaftRemovePeer': return this.operator.raftRemovePeer(req as RaftPeerRequest)
      case 'Operator.RaftTransferLeader': return this.operator.raftTransferLeader(req as RaftPeerRequest)
      case 'Operator.AutopilotHealth': return this.operator.autopilotHealth(req as DatacenterRequest)
      case 'Snapshot.Restore': return this.snapshot.restore(req as SnapshotRestoreRequest)
      case 'Coordinate.Update': return this.coordinate.update(req as CoordinateUpdateRequest)
      case 'ACL.BootstrapTokens': return this.acl.bootstrap(req as IdRequest)
      case 'ACL.TokenSet': return this.acl.tokenSet(req as TokenSetRequest)
      case 'ACL.TokenClone': return this.acl.tokenClone(req as IdRequest)
      case 'ACL.TokenDelete': return this.acl.tokenDelete(req as IdRequest)
      case 'ACL.PolicySet': return this.acl.policySet(req as PolicySetRequest)
      case 'ACL.PolicyDelete': return this.acl.policyDelete(req as IdRequest)
      case 'ACL.RoleSet': return this.acl.roleSet(req as RoleSetRequest)
      case 'ACL.RoleDelete': return this.acl.roleDelete(req as IdRequest)
      case 'ACL.Apply': return this.acl.legacyApply(req as LegacyApplyRequest)
    }
  }

  /** The leader's answer to a call another server forwarded (the Endpoint.Call RPC). */
  answerForwarded(body: unknown): Promise<EndpointAnswer> {
    return answerEndpointCall(this.#core.raft, (m, req) => this.call(m, req), body)
  }

  get datacenter(): string {
    return this.#core.datacenter
  }

  get clock(): Clock {
    return this.#core.clock
  }

  /** When a blocking read of `waitMs` that starts now gives up (jitter included): shared waits give it to parked requests. */
  queryDeadline(waitMs: number): number {
    return queryDeadline(this.#core.clock.now(), waitMs, this.#core.random)
  }

  /** A blocking read of data the agent owns rather than the replicated state (user events): the same loop and meta. */
  localRead<T>(opts: QueryOptions, call: CallContext | undefined, query: QueryFn<T>): Promise<QueryReply<T>> {
    return this.#core.localRead(opts, call, query)
  }

  /** Follows leadership (the leader duties start now on a leader). */
  start(): void {
    this.leader.start()
  }

  /** Stops the leader duties; consensus is the owner's to close. */
  stop(): void {
    this.leader.stop()
  }
}
