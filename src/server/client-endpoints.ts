/**
 * A client agent's endpoints (Consul's agent/consul Client): the same surface as a server's, each
 * call sent over server RPC to one server of the datacenter, which runs it through its own
 * endpoints (so consistency, forwarding to the leader and blocking are decided there, once). The
 * client keeps using one server while it answers and moves to another when it cannot be reached
 * (Consul's router manager rotates the same way); with no server known the answer is Consul's
 * "No known Consul servers". DNS and alias checks read a local replica of the catalog.
 */
import type { Clock } from '../lib/clock.js'
import { queryDeadline, runBlockingQuery, type QueryFn } from './blocking.js'
import { CatalogReplica } from './catalog-replica.js'
import type { Log } from './core.js'
import { ANSWER_MARGIN_MS, ENDPOINT_SERVE_METHOD, SERVED_METHODS, type AgentEndpoints, type ServedMethod } from './endpoints.js'
import { fromWireError, NoPathToDatacenterError, NoServersError, RateLimitedError } from './errors.js'
import type { TokenBucket } from '../lib/token-bucket.js'
import type { EndpointAnswer, RemoteCall } from './forward.js'
import type { CallContext, QueryMeta, QueryOptions, QueryReply } from './types.js'

type Served = typeof SERVED_METHODS
type Req<M extends ServedMethod> = Parameters<Served[M]>[1]
type Res<M extends ServedMethod> = Awaited<ReturnType<Served[M]>>

export interface ClientEndpointsOptions {
  datacenter: string
  clock: Clock
  log: Log
  /** [0, 1): which server to start with, and blocking jitter. */
  random?: () => number
  /** RPC addresses of the servers of this datacenter that membership knows alive. */
  servers: () => string[]
  call: RemoteCall
  /** The token the catalog replica (DNS, alias checks) is read with: the agent's default token. */
  replicaToken?: () => string
  /** Longest a call that is not a blocking read may take, the server's own hold for a leader included. */
  callTimeoutMs?: number
  /** limits.rpc_rate / rpc_max_burst: each call takes a token, or fails with RateLimitedError. */
  rateLimit?: TokenBucket
}

/** Transport failures after which the call certainly did not run: any other server may take it. */
const NOT_SENT = new Set(['unreachable', 'overloaded', 'shutdown'])
/** Reads may be retried elsewhere after any transport failure (they change nothing). */
const WRITES = new Set<ServedMethod>(['KVS.Apply', 'Txn.Apply', 'Catalog.Register', 'Catalog.Deregister', 'Session.Apply', 'Session.Renew', 'PreparedQuery.Apply', 'Operator.RaftRemovePeer', 'Operator.RaftTransferLeader', 'Snapshot.Restore', 'Coordinate.Update', 'Internal.EventFire', 'Internal.KeyringOperation',
  'ACL.BootstrapTokens', 'ACL.TokenSet', 'ACL.TokenClone', 'ACL.TokenDelete', 'ACL.PolicySet', 'ACL.PolicyDelete', 'ACL.RoleSet', 'ACL.RoleDelete', 'ACL.Apply'])

export class ClientEndpoints implements AgentEndpoints {
  readonly datacenter: string
  readonly clock: Clock
  readonly replica: CatalogReplica
  readonly #o: ClientEndpointsOptions
  readonly #random: () => number
  #current: string | undefined
  /** The last meta a server sent: what local reads report about the leader. */
  #lastMeta: QueryMeta | undefined

  readonly kvs: AgentEndpoints['kvs'] = {
    apply: (r) => this.#call('KVS.Apply', r),
    get: (r, c) => this.#call('KVS.Get', r, c),
    list: (r, c) => this.#call('KVS.List', r, c),
    listKeys: (r, c) => this.#call('KVS.ListKeys', r, c),
  }
  readonly txn: AgentEndpoints['txn'] = {
    apply: (r) => this.#call('Txn.Apply', r),
    read: (r) => this.#call('Txn.Read', r),
  }
  readonly catalog: AgentEndpoints['catalog'] = {
    register: (r) => this.#call('Catalog.Register', r),
    deregister: (r) => this.#call('Catalog.Deregister', r),
    listDatacenters: (r) => this.#call('Catalog.ListDatacenters', r),
    listNodes: (r, c) => this.#call('Catalog.ListNodes', r, c),
    listServices: (r, c) => this.#call('Catalog.ListServices', r, c),
    listServiceInstances: (r, c) => this.#call('Catalog.ListServiceInstances', r, c),
    serviceNodes: (r, c) => this.#call('Catalog.ServiceNodes', r, c),
    nodeServices: (r, c) => this.#call('Catalog.NodeServices', r, c),
  }
  readonly health: AgentEndpoints['health'] = {
    nodeChecks: (r, c) => this.#call('Health.NodeChecks', r, c),
    serviceChecks: (r, c) => this.#call('Health.ServiceChecks', r, c),
    serviceNodes: (r, c) => this.#call('Health.ServiceNodes', r, c),
    checksInState: (r, c) => this.#call('Health.ChecksInState', r, c),
  }
  readonly session: AgentEndpoints['session'] = {
    apply: (r) => this.#call('Session.Apply', r),
    renew: (r) => this.#call('Session.Renew', r),
    get: (r, c) => this.#call('Session.Get', r, c),
    list: (r, c) => this.#call('Session.List', r, c),
    nodeSessions: (r, c) => this.#call('Session.NodeSessions', r, c),
  }
  readonly preparedQuery: AgentEndpoints['preparedQuery'] = {
    apply: (r) => this.#call('PreparedQuery.Apply', r),
    get: (r, c) => this.#call('PreparedQuery.Get', r, c),
    list: (r, c) => this.#call('PreparedQuery.List', r, c),
    explain: (r) => this.#call('PreparedQuery.Explain', r),
    execute: (r) => this.#call('PreparedQuery.Execute', r),
    executeRemote: (r) => this.#call('PreparedQuery.ExecuteRemote', r),
  }
  readonly status: AgentEndpoints['status'] = {
    leader: (r = {}) => this.#call('Status.Leader', r),
    peers: (r = {}) => this.#call('Status.Peers', r),
  }
  readonly acl: AgentEndpoints['acl'] = {
    bootstrap: (r) => this.#call('ACL.BootstrapTokens', r),
    tokenSet: (r) => this.#call('ACL.TokenSet', r),
    tokenClone: (r) => this.#call('ACL.TokenClone', r),
    tokenDelete: (r) => this.#call('ACL.TokenDelete', r),
    tokenRead: (r, c) => this.#call('ACL.TokenRead', r, c),
    tokenList: (r, c) => this.#call('ACL.TokenList', r, c),
    policySet: (r) => this.#call('ACL.PolicySet', r),
    policyDelete: (r) => this.#call('ACL.PolicyDelete', r),
    policyRead: (r, c) => this.#call('ACL.PolicyRead', r, c),
    policyList: (r, c) => this.#call('ACL.PolicyList', r, c),
    roleSet: (r) => this.#call('ACL.RoleSet', r),
    roleDelete: (r) => this.#call('ACL.RoleDelete', r),
    roleRead: (r, c) => this.#call('ACL.RoleRead', r, c),
    roleList: (r, c) => this.#call('ACL.RoleList', r, c),
    legacyApply: (r) => this.#call('ACL.Apply', r),
    legacyGet: (r, c) => this.#call('ACL.Get', r, c),
    legacyList: (r, c) => this.#call('ACL.List', r, c),
    resolveToken: (r) => this.#call('ACL.ResolveToken', r),
  }
  readonly operator: AgentEndpoints['operator'] = {
    raftGetConfiguration: (r = {}) => this.#call('Operator.RaftGetConfiguration', r),
    raftRemovePeer: (r) => this.#call('Operator.RaftRemovePeer', r),
    raftTransferLeader: (r) => this.#call('Operator.RaftTransferLeader', r),
    autopilotHealth: (r = {}) => this.#call('Operator.AutopilotHealth', r),
  }
  readonly snapshot: AgentEndpoints['snapshot'] = {
    save: (r) => this.#call('Snapshot.Save', r),
    restore: (r) => this.#call('Snapshot.Restore', r),
  }
  readonly coordinate: AgentEndpoints['coordinate'] = {
    update: (r) => this.#call('Coordinate.Update', r),
    listNodes: (r, c) => this.#call('Coordinate.ListNodes', r, c),
    node: (r, c) => this.#call('Coordinate.Node', r, c),
    listDatacenters: (r) => this.#call('Coordinate.ListDatacenters', r),
  }
  readonly internal: AgentEndpoints['internal']

  constructor(o: ClientEndpointsOptions) {
    this.#o = o
    this.datacenter = o.datacenter
    this.clock = o.clock
    this.#random = o.random ?? Math.random
    this.replica = new CatalogReplica({
      fetch: (minQueryIndex) => this.#call('Internal.CatalogDump', { consistency: 'stale', minQueryIndex, maxQueryTimeMs: 5 * 60_000, token: o.replicaToken?.() }),
      clock: o.clock,
      log: o.log,
    })
    const r = this.replica
    this.internal = {
      nodeInfo: (req, c) => this.#call('Internal.NodeInfo', req, c),
      catalogDump: (req, c) => this.#call('Internal.CatalogDump', req, c),
      serviceSummary: (req, c) => this.#call('Internal.ServiceSummary', req, c),
      nodeDump: (req, c) => this.#call('Internal.NodeDump', req, c),
      eventFire: (req) => this.#call('Internal.EventFire', req),
      keyringOperation: (req) => this.#call('Internal.KeyringOperation', req),
      catalogReader: () => r.catalogReader(),
      onCatalogChange: (fn) => r.onCatalogChange(fn),
      onNodeChange: (node, fn) => r.onNodeChange(node, fn),
      nodeChecksNow: (node) => r.nodeChecksNow(node),
      preparedQueries: () => r.preparedQueries(),
    }
  }

  /** The server calls go to now ("" before any is known). */
  get currentServer(): string {
    return this.#current ?? ''
  }

  /** Whether the servers last said there is a leader. */
  get knownLeader(): boolean {
    return this.#lastMeta?.knownLeader ?? false
  }

  queryDeadline(waitMs: number): number {
    return queryDeadline(this.clock.now(), waitMs, this.#random)
  }

  async localRead<T>(opts: QueryOptions, call: CallContext | undefined, query: QueryFn<T>): Promise<QueryReply<T>> {
    if (opts.datacenter && opts.datacenter !== this.datacenter) throw new NoPathToDatacenterError()
    const env = { clock: this.clock, random: this.#random }
    const { result, outcome } = await runBlockingQuery(env, { minQueryIndex: opts.minQueryIndex ?? 0, maxQueryTimeMs: opts.maxQueryTimeMs ?? 0 }, call, query)
    const consistency = opts.consistency === 'stale' || opts.consistency === 'consistent' ? opts.consistency : 'leader'
    const meta: QueryMeta = { index: Math.max(1, result.index), knownLeader: this.knownLeader, lastContactMs: 0, consistency }
    if (outcome !== undefined) meta.outcome = outcome
    return { value: result.value, meta }
  }

  /**
   * Sends one call to a server; moves on to the next server when it could not be sent there (or,
   * for a read, when its answer was lost), once per known server.
   */
  async #call<M extends ServedMethod>(method: M, req: Req<M>, call?: CallContext): Promise<Res<M>> {
    // Once per call, not per server tried, as Consul's client counts them.
    const wait = this.#o.rateLimit?.take(this.clock.now()) ?? 0
    if (wait > 0) throw new RateLimitedError(wait)
    const q = req as QueryOptions
    // A blocking read: the server answers at the caller's deadline, the RPC waits a little longer.
    const until = q.minQueryIndex ? (call?.blockingDeadline ?? this.queryDeadline(q.maxQueryTimeMs ?? 0)) : undefined
    const tried = new Set<string>()
    let lastFailure = ''
    for (;;) {
      const server = this.#pick(tried)
      if (server === undefined) throw lastFailure ? new Error(`rpc error making call: ${lastFailure}`) : new NoServersError()
      tried.add(server)
      const timeoutMs = until !== undefined ? Math.max(0, until - this.clock.now()) + ANSWER_MARGIN_MS : (this.#o.callTimeoutMs ?? 12_000)
      const r = await this.#o.call(server, ENDPOINT_SERVE_METHOD, { method, req }, timeoutMs)
      if (r.ok) {
        const answer = r.value as EndpointAnswer
        if (answer?.ok === true) {
          const meta = (answer.value as { meta?: QueryMeta } | null)?.meta
          if (meta && typeof meta.knownLeader === 'boolean') this.#lastMeta = meta
          return answer.value as Res<M>
        }
        // A read on a server shutting down goes to another one (a write may have been proposed there: it is not retried).
        if (answer?.ok === false && answer.error.kind === 'shutdown' && !WRITES.has(method)) {
          lastFailure = `${server}: ${answer.error.message}`
          if (this.#current === server) this.#current = undefined
          continue
        }
        throw answer?.ok === false ? fromWireError(answer.error) : new Error('rpc: malformed endpoint answer')
      }
      lastFailure = `${server}: ${r.error.message}`
      if (this.#current === server) this.#current = undefined
      if (!NOT_SENT.has(r.error.code) && WRITES.has(method)) throw new Error(`rpc error making call: ${r.error.message}`)
      this.#o.log('warn', `agent: server ${server} did not take ${method} (${r.error.message}); trying another`)
    }
  }

  /** The server in use, or another not tried yet for this call (chosen at random, then kept). */
  #pick(tried: ReadonlySet<string>): string | undefined {
    const known = this.#o.servers()
    if (this.#current !== undefined && known.includes(this.#current) && !tried.has(this.#current)) return this.#current
    const left = known.filter((s) => !tried.has(s))
    if (left.length === 0) return undefined
    this.#current = left[Math.floor(this.#random() * left.length)]
    return this.#current
  }
}
