import { AgentAcl } from './acl.js'
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type http from 'node:http'
import { arch, availableParallelism, hostname, platform } from 'node:os'
import { join } from 'node:path'
import type { AgentOps, ApiContext, HttpLimits, ReloadReport } from '../http/context.js'
import { LocalState } from './local-state.js'
import { LocalRegistry } from './registry.js'
import { AntiEntropy } from './anti-entropy.js'
import { CoordinateSync } from './coordinate-sync.js'
import { originCoordinate, type Coordinate } from '../lib/coordinate.js'
import { decodeUserEvent, encodeUserEvent, EventBuffer } from './events.js'
import type { KeyringOp } from '../gossip/keyring-ops.js'
import type { KeyringPoolReport, KeyringRequest } from '../server/internal-endpoint.js'
import type { NodeInput } from '../state/catalog.js'
import { boundPort, createApiHandler, listen } from '../http/server.js'
import { UiServer } from '../ui/serve.js'
import { BlockingCounters } from '../server/blocking.js'
import { Server } from '../server/server.js'
import { Federation } from '../server/federation.js'
import { systemClock } from '../lib/clock.js'
import { StateStore } from '../state/store.js'
import { Fsm } from '../state/fsm.js'
import { RaftDriver } from '../raft/driver.js'
import { InMemoryNetwork } from '../raft/inmem-transport.js'
import { readPeersJson, removePeersJson } from '../raft/peers-json.js'
import type { Consensus } from '../raft/types.js'
import { MemoryStorage } from '../raft/memory-storage.js'
import { SqliteStorage } from '../raft/sqlite-storage.js'
import type { RaftStorage } from '../raft/types.js'
import { buildRuntime, changedKeys, runningDoc, RELOADABLE_KEYS, type LoadedConfig, type RuntimeConfig } from './config.js'
import { isInert } from './config-keys.js'
import { loadRpcTls, readPem } from './tls.js'
import { TokenBucket } from '../lib/token-bucket.js'
import { formatJson, formatText, Logger, type LogLevel } from './log.js'
import { Telemetry } from './telemetry.js'
import { openSyslog, type Syslog } from './syslog.js'
import { memberJson, readiness, runtimeStats, type Readiness } from './self-view.js'
import { LogFile } from './log-file.js'
import { hostFacts, Profiler } from './profile.js'
import type { Metrics } from '../lib/metrics.js'
import { startDns, type DnsService } from '../dns/index.js'
import { ConfigError, HttpError } from '../lib/errors.js'
import { ClientCluster, ServerCluster, type GossipPool } from './cluster.js'
import { ClientEndpoints } from '../server/client-endpoints.js'
import type { AgentEndpoints } from '../server/endpoints.js'
import type { Member, Members } from '../gossip/members.js'
import { MemberCatalogDuty } from '../server/member-catalog.js'
import { ReconcileDuty } from '../server/reconcile.js'
import { CONSUL_COMPAT_VERSION, RAFT_PROTOCOL, VERSION } from '../version.js'

export interface AgentOptions {
  /** Re-reads every config source; called on SIGHUP, `consul reload` and PUT /v1/agent/reload. */
  loadConfig: () => LoadedConfig
  logger?: Logger
}

/** A listener the agent opened, for `consul agent` to print and tests to find. */
export interface Listener {
  protocol: 'http' | 'https'
  address: string
  port: number
}

/**
 * The agent runtime: a server holding the replicated state behind raft, and the HTTP API
 * in front of it. Owns its listeners, storage and pid file, and releases them on stop().
 */
export class Agent implements ApiContext {
  readonly state = new StateStore()
  readonly logger: Logger
  readonly listeners: Listener[] = []
  readonly nodeId: string
  config: RuntimeConfig
  /** A server's consensus; none on a client agent. */
  raft: RaftDriver | undefined
  readonly local: LocalState
  readonly blocking = new BlockingCounters()
  readonly telemetry: Telemetry
  readonly events: EventBuffer
  readonly acl: AgentAcl
  /** The endpoints the HTTP API, DNS and anti-entropy use: a server's own, or a client agent's that call a server. */
  server!: AgentEndpoints
  /** A server's own endpoint layer (its leader duties start and stop with the agent). */
  #server: Server | undefined
  /** Other datacenters through the WAN pool (a clustered server). */
  #federation: Federation | undefined
  /** A client agent's endpoints (its server in use, the catalog replica). */
  #client: ClientEndpoints | undefined
  /** limits.rpc_rate on a client agent: every call to the servers takes a token (reloadable). */
  #rpcRate: TokenBucket | undefined
  readonly #registry: LocalRegistry
  #antiEntropy: AntiEntropy | undefined
  #coordinateSync: CoordinateSync | undefined
  /** A dev agent without gossip keeps the origin coordinate (Consul's alone-in-its-pool coordinate). */
  readonly #originCoord = originCoordinate()
  #reaper: NodeJS.Timeout | undefined
  readonly #opts: AgentOptions
  readonly #servers: http.Server[] = []
  #dns: DnsService | undefined
  /** Server RPC, membership and joins; none for a -dev agent (one in-memory server). */
  #cluster: ServerCluster | undefined
  /** A client agent's membership and calls to the servers. */
  #clientCluster: ClientCluster | undefined
  #stopped = false
  #logFile: LogFile | undefined
  #syslog: Syslog | undefined
  /** The logger as the subsystems take it. */
  readonly #log = (level: 'debug' | 'info' | 'warn' | 'error', message: string): void => this.logger.log(level, message)

  private constructor(loaded: LoadedConfig, opts: AgentOptions) {
    this.config = loaded.config
    this.#opts = opts
    this.logger = opts.logger ?? new Logger(loaded.config.logLevel)
    this.logger.setLevel(loaded.config.logLevel)
    this.#configureLog()
    for (const w of loaded.warnings) this.logger.warn(`config: ${w}`)
    this.telemetry = new Telemetry(this.config.telemetry, hostname(), this.#log)
    this.nodeId = this.#nodeId()
    this.local = new LocalState({
      dataDir: this.config.dev ? undefined : this.config.dataDir,
      checkUpdateIntervalMs: () => this.config.checkUpdateIntervalMs,
      log: this.#log,
    })
    this.acl = new AgentAcl({
      config: this.config.acl,
      local: this.config.server ? (token) => this.#server!.acl.gate.identity(token) : undefined,
      // Stale, as Consul's client resolves tokens: it keeps working while the servers elect a leader.
      remote: this.config.server ? undefined : (token) => this.server.acl.resolveToken({ token, consistency: 'stale' }),
      clock: systemClock,
      dataDir: this.config.dev ? undefined : this.config.dataDir,
      log: this.#log,
    })
    this.events = new EventBuffer(
      () => this.config.nodeName,
      () => [...this.local.services.values()].map((s) => s.def),
    )
    this.#registry = new LocalRegistry({
      local: this.local,
      remote: () => this.server.internal,
      nodeName: () => this.config.nodeName,
      scriptChecks: () => ({ remote: this.config.enableScriptChecks, local: this.config.enableLocalScriptChecks }),
      log: this.#log,
    })
  }

  /** The DNS listeners (UDP and TCP share each address and port), empty with DNS off. */
  get dnsListeners(): ReadonlyArray<{ address: string; port: number }> {
    return this.#dns?.listeners ?? []
  }

  get nodeName(): string {
    return this.config.nodeName
  }

  /** A live reader of the log at `level` (GET /v1/agent/monitor): text lines, or JSON with `json`. */
  subscribeLog(level: LogLevel, json: boolean, write: (line: string) => void): () => void {
    return this.logger.subscribe({ level, write: (line) => write(json ? formatJson(line) : formatText(line)) })
  }

  readonly #profiler = new Profiler()
  readonly debug = {
    enabled: (): boolean => this.config.enableDebug,
    host: hostFacts,
    cpu: (seconds: number): Promise<unknown> => this.#profiler.cpu(seconds),
    heap: (seconds: number): Promise<unknown> => this.#profiler.heap(seconds),
  }

  #leaving = false
  readiness(): Promise<Readiness> {
    return readiness(this.config.server, this.#leaving, () => this.server.status.leader({}))
  }

  debugLogged(): boolean {
    return this.logger.enabled('debug')
  }

  get metrics(): Metrics {
    return this.telemetry.metrics
  }

  get agentOps(): AgentOps {
    return this.#registry
  }

  /** This node as the catalog should hold it. */
  nodeRecord(): NodeInput {
    const c = this.config
    const addr = c.advertiseAddr
    return {
      ID: this.nodeId,
      Node: c.nodeName,
      Address: addr,
      Datacenter: c.datacenter,
      TaggedAddresses: { lan: addr, lan_ipv4: addr, wan: addr, wan_ipv4: addr },
      Meta: { 'consul-network-segment': '', 'consul-version': CONSUL_COMPAT_VERSION, ...c.nodeMeta },
    }
  }

  members(wan: boolean): Array<Record<string, unknown>> {
    if (wan && this.config.server) return (this.#cluster?.wan.members.list() ?? []).map(memberJson)
    if (wan) return []
    return ((this.#cluster ?? this.#clientCluster)?.members.list() ?? [this.#selfMember()]).map(memberJson)
  }

  /** A gossip pool of this agent; the WAN pool only on a server. */
  #pool(wan: boolean): GossipPool {
    if (wan && !this.config.server) throw new HttpError(500, 'Must be a server to join the WAN pool: client agents gossip on the LAN only')
    const pool = wan ? this.#cluster?.wan : (this.#cluster ?? this.#clientCluster)?.pool
    if (!pool) throw new HttpError(500, 'this -dev agent runs without gossip; start it with -join or -retry-join to make it part of a cluster')
    return pool
  }

  async join(address: string, wan: boolean): Promise<void> {
    const r = await this.#pool(wan).join([address])
    if (r.joined === 0) throw new HttpError(500, `Error joining address '${address}': ${r.errors.join('; ')}`)
    this.logger.info(`agent: joined ${address}${wan ? ' (WAN)' : ''}`)
  }

  forceLeave(node: string, prune: boolean, wan: boolean): void {
    if (!this.#pool(wan).members.forceLeave(node, prune)) throw new HttpError(500, `agent: No node found with name '${node}'`)
    this.logger.info(`agent: force-left ${node}${prune ? ' (pruned)' : ''}${wan ? ' (WAN)' : ''}`)
  }

  /** The datacenters the servers last named, and when a client agent last asked them. */
  #datacenters = { list: [] as string[], at: -Infinity, asking: false }

  /**
   * Whether DNS follows a datacenter's catalog: on a server, one the WAN pool knows; on a client
   * agent, one its servers named when last asked (asked again at most every 30 s, in the background).
   */
  #dnsKnowsDatacenter(datacenter: string): boolean {
    if (this.config.server) return this.knowsDatacenter(datacenter)
    const known = this.#datacenters
    if (systemClock.now() - known.at > 30_000 && !known.asking) {
      known.asking = true
      void this.server.catalog
        .listDatacenters({})
        .then((list) => Object.assign(known, { list, at: systemClock.now() }))
        .catch(() => undefined)
        .finally(() => (known.asking = false))
    }
    return known.list.includes(datacenter)
  }

  /** Every datacenter known, nearest first: the WAN pool's on a server, the servers' last answer on a client. */
  #dnsDatacenters(): string[] {
    if (this.config.server) return this.#federation?.datacenters() ?? [this.config.datacenter]
    this.#dnsKnowsDatacenter(this.config.datacenter)
    return this.#datacenters.list
  }

  /**
   * `consul keyring`: asked of a server (this one, or one of a client agent's), which runs it on the
   * WAN pool, its datacenter's LAN pool and every other datacenter's through a server there, as
   * Consul's Internal.KeyringOperation does. Answers each pool in Consul's shape, or a 500 naming
   * the members that failed.
   */
  async keyring(op: KeyringOp, key?: string, token?: string): Promise<Array<Record<string, unknown>>> {
    const reports = await this.server.internal.keyringOperation({ op, key, token }).catch((err: Error) => Promise.reject(new HttpError(500, err.message)))
    const failed = reports.flatMap((r) => Object.entries(r.errors).map(([node, why]) => `${node} (${r.wan ? 'WAN' : r.datacenter}): ${why}`))
    if (failed.length > 0) throw new HttpError(500, `${failed.length} node(s) reported an error: ${failed.join('; ')}`)
    return reports.map((r) => ({ WAN: r.wan, Datacenter: r.wan ? '' : r.datacenter, Segment: '', Keys: r.keys, PrimaryKeys: r.primaryKeys, NumNodes: r.numNodes }))
  }

  /** A server's side of a keyring operation: its pools, then (unless relayed) every other datacenter's LAN pool through a server there. */
  async #keyringOperation(req: KeyringRequest): Promise<KeyringPoolReport[]> {
    const cluster = this.#cluster
    if (!cluster) throw new Error('this -dev agent runs without gossip: it has no keyring')
    const here = this.config.datacenter
    const pool = async (wan: boolean): Promise<KeyringPoolReport[]> => [{ wan, datacenter: here, ...(await (wan ? cluster.wan : cluster.pool).keyring(req.op, req.key)) }]
    if (req.lanOnly) return pool(false)
    const remote = (dc: string): Promise<KeyringPoolReport[]> =>
      this.server.internal
        .keyringOperation({ datacenter: dc, op: req.op, key: req.key, lanOnly: true, token: req.token })
        .catch((err: Error) => [{ wan: false, datacenter: dc, numNodes: 0, keys: {}, primaryKeys: {}, errors: { [`the servers of ${dc}`]: err.message } }])
    const others = (this.#federation?.datacenters() ?? [here]).filter((dc) => dc !== here)
    return (await Promise.all([pool(true), pool(false), ...others.map(remote)])).flat()
  }

  knowsDatacenter(datacenter: string): boolean {
    // A client agent's servers decide (they answer No path to datacenter for an unknown one).
    if (!this.config.server) return true
    return this.#federation?.knows(datacenter) ?? datacenter === this.config.datacenter
  }

  /** Starts an agent from a loaded config: recovers state, elects, and opens the listeners. */
  static async start(opts: AgentOptions): Promise<Agent> {
    const agent = new Agent(opts.loadConfig(), opts)
    try {
      await agent.#start()
    } catch (err) {
      await agent.stop()
      throw err
    }
    return agent
  }

  get datacenter(): string {
    return this.config.datacenter
  }

  get limits(): HttpLimits {
    return {
      kvMaxValueSize: this.config.limits.kvMaxValueSize,
      txnMaxReqLen: this.config.limits.txnMaxReqLen,
      defaultQueryTimeMs: this.config.defaultQueryTimeMs,
      maxQueryTimeMs: this.config.maxQueryTimeMs,
    }
  }

  get prettyByDefault(): boolean {
    return this.config.dev
  }

  async #start(): Promise<void> {
    if (this.config.server) await this.#startServer()
    else await this.#startClient()
    this.events.relay = async (datacenter, e, token) => {
      await this.server.internal.eventFire({ datacenter, name: e.Name, payload: encodeUserEvent(e), token })
    }
    await this.#startLocal()
  }

  /**
   * A client agent: no raft and no state of its own; membership finds the servers and every
   * endpoint call goes to one of them. It starts with none known (a join may come later).
   */
  async #startClient(): Promise<void> {
    const c = this.config
    const rpcTls = loadRpcTls(c.rpcTls, { server: false, domain: c.dns.domain })
    this.#clientCluster = await ClientCluster.listen({ config: c, nodeId: this.nodeId, self: () => this.#selfMember(), log: this.#log, rpcTls, onUserEvent: (data) => this.#userEvent(data) })
    this.#gossipEvents(this.#clientCluster.members)
    const cluster = this.#clientCluster
    const rateLimit = new TokenBucket(c.limits.rpcRate, c.limits.rpcMaxBurst, systemClock.now())
    this.#rpcRate = rateLimit
    const client = (this.#client = new ClientEndpoints({ datacenter: c.datacenter, clock: systemClock, log: this.#log, servers: () => cluster.servers(), call: cluster.call, replicaToken: () => this.acl.dnsToken(), rateLimit }))
    // The replica is read under the DNS token: a new one refetches it now rather than at the next change.
    this.acl.onTokensChanged(() => client.replica.refresh())
    this.server = client
    client.replica.start()
    // A server found (at a join, or back after an outage): sync this node now rather than at the next retry.
    cluster.members.onChange((m) => {
      if (m.status === 'alive' && m.tags.role === 'consul') this.#antiEntropy?.trigger(true)
    })
    await cluster.pool.start()
  }

  async #startServer(): Promise<void> {
    const c = this.config
    // Consul's rpc_rate limits the calls a client agent makes to its servers; a server makes none of those.
    if (c.limits.rpcRate !== Infinity) this.logger.warn('config: limits.rpc_rate limits the calls a client agent makes to the servers; on a server it has no effect')
    const joins = c.startJoin.length + c.retryJoin.length > 0
    // Consul's rule: a server without bootstrap flags joins a cluster; alone, with nothing to join, it elects itself.
    const selfElect = c.bootstrap || c.bootstrapExpect === 1 || (c.bootstrapExpect === 0 && !joins)
    if (!c.bootstrap && c.bootstrapExpect === 0 && !joins) this.logger.warn('agent: server has neither bootstrap nor bootstrap_expect; as the only server it elects itself')
    if (!c.dev || joins) {
      const rpcTls = loadRpcTls(c.rpcTls, { server: true, domain: c.dns.domain })
      this.#cluster = await ServerCluster.listen({ config: c, nodeId: this.nodeId, self: () => this.#selfMember(), log: this.#log, rpcTls, clusterId: () => this.state.clusterId, onUserEvent: (data) => this.#userEvent(data) })
      this.#gossipEvents(this.#cluster.members)
    }
    const raftDir = c.dev ? undefined : join(c.dataDir!, 'raft')
    const storage: RaftStorage = raftDir ? new SqliteStorage(raftDir) : new MemoryStorage()
    const recover = raftDir ? readPeersJson(raftDir) : undefined
    const address = `${c.advertiseAddr}:${this.#serverPort()}`
    this.raft = await RaftDriver.open({
      id: this.nodeId,
      address,
      storage,
      transport: this.#cluster?.transport ?? new InMemoryNetwork().connect(this.nodeId),
      fsm: new Fsm(this.state),
      random: Math.random,
      bootstrap: selfElect ? [{ id: this.nodeId, address, voter: true }] : undefined,
      raftMultiplier: c.raftMultiplier,
      snapshotThreshold: c.raftSnapshotThreshold,
      snapshotIntervalMs: c.raftSnapshotIntervalMs,
      trailingLogs: c.raftTrailingLogs,
      recoverConfiguration: recover,
      log: this.#log,
      metrics: this.metrics,
    })
    if (recover && raftDir) removePeersJson(raftDir)
    const server = (this.#server = new Server({
      state: this.state,
      raft: this.raft,
      datacenter: c.datacenter,
      clock: systemClock,
      log: this.#log,
      self: () => ({ serverId: this.nodeId, node: this.nodeRecord(), serverPort: this.#serverPort() }),
      remote: this.#cluster?.remote,
      serverNodeName: (id) => this.#cluster?.serverMembers().find((m) => m.id === id)?.name,
      serverStatus: (id) => this.#cluster?.serverMembers().find((m) => m.id === id)?.status,
      otherServers: () => this.#cluster?.otherServerNodes() ?? [],
      onServersChange: this.#cluster ? (fn) => this.#cluster!.members.onChange(fn) : undefined,
      duties: this.#cluster ? [this.#reconcileDuty(this.#cluster)] : [],
      datacenters: () => this.#federation?.datacenters() ?? [c.datacenter],
      coordinateBatching: c.coordinateBatching,
      keyring: (req) => this.#keyringOperation(req),
      userEvent: (payload) => {
        if (this.#cluster && !this.#cluster.members.broadcastUser(payload)) throw new Error('user event exceeds the size one gossip packet holds')
        this.#userEvent(payload)
      },
      wanCoordinates: () => this.#cluster?.wanCoordinates() ?? [],
      acl: { enabled: c.acl.enabled, defaultPolicy: c.acl.defaultPolicy, enableKeyListPolicy: c.acl.enableKeyListPolicy },
      aclInitialManagement: c.acl.tokens.initialManagement,
      aclResetIndex: () => readResetIndex(c.dev ? undefined : c.dataDir),
      metrics: this.metrics,
    }))
    if (this.#cluster) server.leader.add(this.#memberCatalogDuty(this.#cluster, server))
    const cluster = this.#cluster
    if (cluster) {
      const federation = (this.#federation = new Federation({ local: server, servers: () => cluster.wanServers(), rtt: (dc) => cluster.wanMedianRtt(dc), call: cluster.wanCall, clock: systemClock, log: this.#log }))
      this.server = federation.endpoints
      server.preparedQuery.failover = { datacenters: () => federation.datacenters(), executeRemote: (r) => federation.endpoints.preparedQuery.executeRemote(r) }
    } else this.server = server
    server.start()
    await cluster?.start(this.raft, server, this.server)
  }

  /** What every agent runs: its own services and checks, anti-entropy, and the HTTP and DNS interfaces. */
  async #startLocal(): Promise<void> {
    const c = this.config
    this.telemetry.watch({
      blocking: this.blocking,
      checks: () => this.local.checks.values(),
      rpc: () => (this.#cluster?.rpc ?? this.#clientCluster?.rpc)?.stats(),
      server: c.server,
      state: c.server ? this.state : undefined,
      lan: () => this.#lanMembers(),
      wan: () => this.#cluster?.wan.members,
    })
    if (this.#cluster) this.telemetry.members(this.#cluster.wan.members, 'wan')
    this.#registry.restore()
    this.#registry.applyConfig(c.services, c.checks)
    this.#antiEntropy = new AntiEntropy({
      server: this.server,
      token: () => this.acl.agentToken(),
      tokenFor: (kind, id) => this.#syncToken(kind, id),
      local: this.local,
      node: () => this.nodeRecord(),
      clock: systemClock,
      log: this.#log,
    })
    this.#antiEntropy.start()
    if (!c.disableCoordinates) {
      this.#coordinateSync = new CoordinateSync({
        server: this.server,
        token: () => this.acl.agentToken(),
        node: () => this.config.nodeName,
        coordinate: () => this.lanCoordinate() ?? this.#originCoord,
        members: () => this.#lanMembers()?.liveCount() ?? 1,
        rateTarget: c.syncCoordinateRateTarget,
        intervalMinMs: c.syncCoordinateIntervalMinMs,
        clock: systemClock,
        log: this.#log,
      })
      this.#coordinateSync.start()
    }
    this.#reaper = setInterval(() => this.#registry.reapCritical(), 1000)
    this.#reaper.unref()
    const api = createApiHandler(this, this.#log)
    const ui = c.ui.enabled ? new UiServer({ contentPath: c.ui.contentPath, dir: c.ui.dir, settings: () => ({ datacenter: this.config.datacenter, nodeName: this.config.nodeName, aclsEnabled: this.acl.enabled }) }) : undefined
    const handler: http.RequestListener = ui ? (req, res) => void (ui.handle(req, res) || api(req, res)) : api
    if (c.ports.http >= 0) for (const host of c.httpAddrs) await this.#listen(handler, 'http', host, c.ports.http)
    if (c.ports.https >= 0) for (const host of c.httpsAddrs) await this.#listen(handler, 'https', host, c.ports.https)
    if (c.ports.dns >= 0 && c.dnsAddrs.length > 0) {
      this.#dns = await startDns({ server: this.server, token: () => this.acl.dnsToken(), knowsDatacenter: (dc) => this.#dnsKnowsDatacenter(dc), datacenters: () => this.#dnsDatacenters(), config: () => this.config.dns, datacenter: c.datacenter, nodeName: () => this.config.nodeName, addresses: c.dnsAddrs, port: c.ports.dns, log: this.#log, udpWorkers: c.dns.udpWorkers, metrics: this.metrics })
      this.acl.onTokensChanged(() => this.#dns?.configChanged())
      for (const { address, port } of this.#dns.listeners) {
        const hostPort = `${address.includes(':') ? `[${address}]` : address}:${port}`
        this.logger.info(`agent: DNS server listening on udp://${hostPort} and tcp://${hostPort}`)
      }
    }
    if (c.pidFile) writeFileSync(c.pidFile, `${process.pid}`)
    this.logger.info(`agent: started ${c.dev ? 'in dev mode ' : ''}as node "${c.nodeName}" in datacenter "${c.datacenter}"`)
  }

  async #listen(handler: http.RequestListener, protocol: 'http' | 'https', host: string, port: number): Promise<void> {
    const tls = protocol === 'https' ? this.#tlsOptions() : undefined
    const server = await listen(handler, { host, port, tls, maxConnsPerClient: () => this.config.limits.httpMaxConnsPerClient })
    this.#servers.push(server)
    this.listeners.push({ protocol, address: host, port: boundPort(server) })
    this.logger.info(`agent: ${protocol.toUpperCase()} API listening on ${protocol}://${host.includes(':') ? `[${host}]` : host}:${boundPort(server)}`)
  }

  #tlsOptions(): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } {
    const { certFile, keyFile, caFile, verifyIncoming } = this.config.tls
    if (!certFile || !keyFile) throw new ConfigError('config', 'tls.defaults.cert_file', 'ports.https is set but cert_file and key_file are not')
    if (verifyIncoming && !caFile) throw new ConfigError('config', 'tls.defaults.verify_incoming', 'verify_incoming needs ca_file to check client certificates')
    return {
      cert: readPem(certFile, 'cert_file'),
      key: readPem(keyFile, 'key_file'),
      ...(caFile ? { ca: readPem(caFile, 'ca_file') } : {}),
      requestCert: verifyIncoming,
      rejectUnauthorized: verifyIncoming,
    }
  }

  /**
   * The token anti-entropy syncs a service or check with (Consul's serviceToken / checkToken): the
   * one it was registered with, a check's service's, for config-file services
   * acl.tokens.config_file_service_registration, else the default token; undefined: the agent token.
   */
  #syncToken(kind: 'service' | 'check', id: string): string | undefined {
    const { local } = this
    const entry = kind === 'check' ? local.checks.get(id) : local.services.get(id)
    const own = (entry && ('spec' in entry ? entry.spec.token : entry.def.token)) || local.removedToken(kind, id)
    if (own) return own
    // Not one of the local checks (serfHealth, the agent's own): the agent token.
    if (kind === 'check' && !entry) return undefined
    const serviceId = entry && 'spec' in entry ? entry.spec.record.ServiceID : ''
    if (serviceId) return this.#syncToken('service', serviceId)
    return (entry?.source === 'config' ? this.acl.tokens.configFileServiceRegistration : undefined) || this.acl.defaultToken()
  }

  /** The node ID: from config, else persisted in data_dir so it survives restarts. */
  #nodeId(): string {
    if (this.config.nodeId) return this.config.nodeId
    if (this.config.dev || !this.config.dataDir) return randomUUID()
    const file = join(this.config.dataDir, 'node-id')
    try {
      return readFileSync(file, 'utf8').trim()
    } catch {
      mkdirSync(this.config.dataDir, { recursive: true })
      const id = randomUUID()
      writeFileSync(file, id)
      return id
    }
  }

  /**
   * Re-reads the config. Reloadable keys take effect now; the others are reported as needing
   * a restart instead of being silently ignored (a long-standing Consul complaint).
   */
  async reload(): Promise<ReloadReport> {
    const loaded = this.#opts.loadConfig()
    for (const w of loaded.warnings) this.logger.warn(`config: ${w}`)
    const changed = changedKeys(this.config.doc, loaded.config.doc)
    const applied = changed.filter((k) => RELOADABLE_KEYS.has(k))
    // Keys not supported yet take effect neither now nor after a restart: they were warned about.
    const restartRequired = changed.filter((k) => !RELOADABLE_KEYS.has(k) && !isInert(k))
    const keep = this.config
    // What runs from now on: the new reloadable keys, the running values of the others.
    const next = buildRuntime(runningDoc(keep.doc, loaded.config.doc, restartRequired), keep.dev)
    const scriptChecks = { enableScriptChecks: keep.enableScriptChecks, enableLocalScriptChecks: keep.enableLocalScriptChecks }
    // Validate the new registrations with the new script-check settings before anything changes.
    Object.assign(this.config, { enableScriptChecks: next.enableScriptChecks, enableLocalScriptChecks: next.enableLocalScriptChecks })
    try {
      this.#registry.applyConfig(next.services, next.checks)
    } catch (err) {
      Object.assign(this.config, scriptChecks)
      throw err
    }
    this.config = {
      ...next,
      // Identity and addresses as started, even where their defaults come from the host.
      ...pick(keep, ['nodeName', 'nodeId', 'bindAddr', 'advertiseAddr']),
    }
    this.logger.setLevel(this.config.logLevel)
    this.#configureLog()
    this.#rpcRate?.configure(this.config.limits.rpcRate, this.config.limits.rpcMaxBurst, systemClock.now())
    this.#dns?.configChanged()
    this.raft?.setSnapshotPolicy({ threshold: this.config.raftSnapshotThreshold, intervalMs: this.config.raftSnapshotIntervalMs, trailingLogs: this.config.raftTrailingLogs })
    // node_meta (and anything else the catalog holds of this node) goes out with one full sync now.
    this.#antiEntropy?.trigger(true)
    this.logger.info(`agent: reloaded configuration${applied.length ? `; applied: ${applied.join(', ')}` : '; nothing to apply'}`)
    if (restartRequired.length) this.logger.warn(`agent: changed keys that need a restart to take effect: ${restartRequired.join(', ')}`)
    return { applied, restartRequired }
  }

  /** The server port as bound (the config's, or the one the system picked for port 0). */
  #serverPort(): number {
    return this.#cluster?.rpcPort ?? this.config.ports.server
  }

  #reconcileDuty(cluster: ServerCluster): ReconcileDuty {
    return new ReconcileDuty({
      raft: { servers: () => this.raft!.servers(), addServer: (id, address) => this.raft!.addServer(id, address), removeServer: (id) => this.raft!.removeServer(id) },
      members: () => cluster.serverMembers(),
      onChange: (fn) => cluster.members.onChange(fn),
      clock: systemClock,
      log: this.#log,
    })
  }

  /** This agent's LAN pool (none for a dev server without joins). */
  #lanMembers(): Members | undefined {
    return (this.#cluster ?? this.#clientCluster)?.members
  }

  /** This agent's LAN coordinate (undefined without a pool or with disable_coordinates). */
  lanCoordinate(): Coordinate | undefined {
    return this.#lanMembers()?.coordinate()
  }

  /** User events fired here go to every agent of the pool by gossip. */
  #gossipEvents(members: Members): void {
    this.telemetry.members(members, 'lan')
    this.events.publish = (e) => {
      if (!members.broadcastUser(encodeUserEvent(e))) throw new HttpError(413, 'user event exceeds the size one gossip packet holds (about 1,300 bytes of name, filters and payload)')
    }
  }

  #userEvent(data: Uint8Array): void {
    const e = decodeUserEvent(data)
    if (e) this.events.receive(e)
    else this.logger.debug('agent: dropped a gossiped user message that is not a user event')
  }

  #memberCatalogDuty(cluster: ServerCluster, server: Server): MemberCatalogDuty {
    const dc = this.config.datacenter
    return new MemberCatalogDuty({
      catalog: server.catalog,
      health: server.health,
      datacenter: dc,
      members: () => cluster.members.list().filter((m) => m.tags.dc === dc).map((m) => ({ name: m.name, id: m.tags.id ?? '', addr: m.addr, status: m.status })),
      selfName: () => this.config.nodeName,
      knowsEveryone: () => cluster.pool.settled(),
      onChange: (fn) => cluster.members.onChange(fn),
      clock: systemClock,
      log: this.#log,
    })
  }

  /** This agent as a LAN member (serf's view: its tags tell servers apart and carry their RPC port). */
  #selfMember(): Member {
    const c = this.config
    return {
      name: c.nodeName,
      addr: c.advertiseAddr,
      port: (this.#cluster ?? this.#clientCluster)?.pool.port ?? c.ports.serfLan,
      // Consul's tags: a client agent has no server port, bootstrap settings or raft version to tell.
      tags: {
        role: c.server ? 'consul' : 'node',
        dc: c.datacenter,
        id: this.nodeId,
        ...(c.server ? { port: String(this.#serverPort()) } : {}),
        // Where the other servers of the datacenter join this one's WAN pool (Consul's flood join).
        ...(c.server && this.#cluster ? { wan_join_port: String(this.#cluster.wan.port) } : {}),
        ...(c.bootstrap ? { bootstrap: '1' } : {}),
        ...(c.bootstrapExpect ? { expect: String(c.bootstrapExpect) } : {}),
        build: `${CONSUL_COMPAT_VERSION}:${VERSION}`,
        vsn: '2',
        vsn_min: '2',
        vsn_max: '3',
        ...(c.server ? { raft_vsn: String(RAFT_PROTOCOL) } : {}),
      },
      status: 'alive',
    }
  }

  agentSelf(): Record<string, unknown> {
    const c = this.config
    const raft = this.raft
    const leader = raft?.leaderAddress() ?? ''
    return {
      Config: {
        Datacenter: c.datacenter,
        PrimaryDatacenter: c.primaryDatacenter,
        NodeName: c.nodeName,
        NodeID: this.nodeId,
        Server: c.server,
        Revision: VERSION,
        Version: CONSUL_COMPAT_VERSION,
        BuildDate: '2026-11-26T00:00:00Z',
      },
      DebugConfig: {
        Bootstrap: c.bootstrap,
        BootstrapExpect: c.bootstrapExpect,
        DataDir: c.dataDir ?? '',
        DevMode: c.dev,
        BindAddr: c.bindAddr,
        AdvertiseAddrLAN: c.advertiseAddr,
        ClientAddrs: c.clientAddrs,
        HTTPPort: c.ports.http,
        HTTPSPort: c.ports.https,
        DNSPort: c.ports.dns,
        ServerPort: this.#serverPort(),
        LogLevel: c.logLevel.toUpperCase(),
        KVMaxValueSize: c.limits.kvMaxValueSize,
        TxnMaxReqLen: c.limits.txnMaxReqLen,
      },
      Coord: this.lanCoordinate() ?? this.#originCoord,
      Member: memberJson(this.#selfMember()),
      Stats: {
        agent: {
          checks: String(this.local.checks.size),
          services: String(this.local.services.size),
          check_monitors: String([...this.local.checks.values()].filter((x) => x.spec.record.Type === 'script').length),
          check_ttls: String([...this.local.checks.values()].filter((x) => x.spec.record.Type === 'ttl').length),
        },
        build: { version: CONSUL_COMPAT_VERSION, revision: VERSION, prerelease: '' },
        consul: raft
          ? { server: 'true', leader: String(raft.isLeader()), leader_addr: leader, bootstrap: String(c.bootstrap), known_datacenters: String(this.#federation?.datacenters().length ?? 1) }
          : { server: 'false', known_servers: String(this.#clientCluster?.servers().length ?? 0), known_datacenters: '1' },
        ...(raft ? { raft: raft.stats() } : {}),
        ...(this.#dns ? { dns: this.#dns.stats() } : {}),
        runtime: {
          arch: arch(),
          os: platform(),
          version: process.version,
          cpu_count: String(availableParallelism()),
          max_procs: '1',
          ...runtimeStats(this.telemetry.runtime()),
        },
        ...(raft ? { kv: { entries: String(this.state.kv.size) } } : {}),
        http: {
          blocking_queries: String(this.blocking.loops + this.blocking.parked),
          blocking_evaluations: String(this.blocking.evaluations),
          blocking_shared_answers: String(this.blocking.shared),
        },
        serf_lan: (this.#cluster ?? this.#clientCluster)?.members.stats() ?? {},
        serf_wan: this.#cluster?.wan.members.stats() ?? {},
      },
      Meta: c.nodeMeta,
    }
  }

  #leave!: () => void
  /** Resolves when something asked the agent to leave (PUT /v1/agent/leave, `consul leave`). */
  readonly left: Promise<void> = new Promise((resolve) => (this.#leave = resolve))

  leave(): void {
    this.logger.info('agent: graceful leave requested')
    // After the answer is on its way: the caller waits for it. The other members hear of it first.
    setImmediate(() => void this.leaveCluster().finally(() => this.#leave()))
  }

  /** Tells the other members this agent leaves (the gossip leave), without stopping it; never rejects. */
  async leaveCluster(): Promise<void> {
    this.#leaving = true
    await ((this.#cluster ?? this.#clientCluster)?.leave() ?? Promise.resolve()).catch((err: Error) => this.logger.warn(`agent: leave: ${err.message}`))
  }

  /** log_json and log_file as configured (the file is opened at start; a reload keeps it). */
  #configureLog(): void {
    const f = this.config.logFile
    try {
      this.#logFile ??= f ? new LogFile(f) : undefined
    } catch (err) {
      throw new ConfigError('config', 'log_file', `cannot open ${f!.path}: ${(err as Error).message}`)
    }
    this.#syslog ??= this.config.syslog ? openSyslog(this.config.syslog.facility, (m) => this.logger.warn(`agent: ${m}`)) : undefined
    this.logger.configure({ json: this.config.logJson, file: this.#logFile, syslog: this.#syslog })
  }

  /** Closes the listeners, flushes and closes storage, and removes the pid file. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve())
            s.closeAllConnections()
          }),
      ),
    )
    await this.#dns?.close()
    this.#antiEntropy?.stop()
    this.#coordinateSync?.stop()
    if (this.#reaper) clearInterval(this.#reaper)
    this.#server?.stop()
    this.#client?.replica.stop()
    this.local.stopAll()
    await this.raft?.close()
    await this.#cluster?.close()
    await this.#clientCluster?.close()
    if (this.config.pidFile) rmSync(this.config.pidFile, { force: true })
    this.telemetry.close()
    this.logger.info('agent: shut down')
    this.logger.configure({ json: this.config.logJson })
    this.#logFile?.close()
    this.#syslog?.close()
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>
  for (const k of keys) out[k] = obj[k]
  return out
}

/** What the operator wrote to data_dir/acl-bootstrap-reset: the index that allows one more bootstrap (0: none). */
function readResetIndex(dataDir: string | undefined): number {
  if (!dataDir) return 0
  try {
    const n = Number.parseInt(readFileSync(join(dataDir, 'acl-bootstrap-reset'), 'utf8').trim(), 10)
    return Number.isSafeInteger(n) && n > 0 ? n : 0
  } catch {
    return 0
  }
}
