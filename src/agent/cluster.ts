/**
 * An agent's cluster wiring. Every agent: LAN gossip on ports.serf_lan (gossip/members.ts) and
 * joins at start and retried (GossipPool). A server adds server RPC on ports.server (raft messages,
 * forwarded writes, client agents' calls) and bootstrap_expect (Consul's maybeBootstrap: once
 * `expect` servers of this datacenter know each other, all asking for the same number and none
 * already in a cluster, each bootstraps raft with the same list of them). A client agent calls
 * the servers membership tells it of (ClientCluster).
 */
import { createConnection, type Socket } from 'node:net'
import { join as joinPath } from 'node:path'
import { systemClock, type Timer } from '../lib/clock.js'
import { Members, memberAddress, type Member } from '../gossip/members.js'
import { Keyring, parseKey } from '../gossip/keyring.js'
import { encodeKeyringOp, keyringQueryHandler, keyringReport, type KeyringOp, type KeyringReport } from '../gossip/keyring-ops.js'
import { RpcServer } from '../rpc/server.js'
import type { RpcTls } from '../rpc/tls.js'
import { TcpTransport } from '../raft/tcp-transport.js'
import type { RaftDriver } from '../raft/driver.js'
import type { RaftServer } from '../raft/types.js'
import { ENDPOINT_CALL_METHOD, type RemoteCall } from '../server/forward.js'
import { ENDPOINT_SERVE_METHOD, serveEndpointCall, type AgentEndpoints } from '../server/endpoints.js'
import type { ServerMember } from '../server/reconcile.js'
import type { Server } from '../server/server.js'
import type { DatacenterMap } from '../server/coordinate-endpoint.js'
import { distanceSeconds } from '../lib/coordinate.js'
import type { RuntimeConfig } from './config.js'
import type { NodeInput } from '../state/catalog.js'

/** Asks a server whether it has never held raft state. WARNING: on the wire. */
const RAFT_FRESH_METHOD = 'Status.RaftFresh'

type Log = (level: 'info' | 'warn' | 'error', message: string) => void

export interface ClusterOptions {
  config: RuntimeConfig
  nodeId: string
  /** This agent as a member (its tags change with reloads). */
  self: () => Member
  log: Log
  /** The cluster's identity as this agent knows it ("" before it is in one; always "" on a client agent). */
  clusterId?: () => string
  /** A user event gossiped by another member. */
  onUserEvent?: (data: Uint8Array) => void
  /** TLS of server RPC (tls.internal_rpc): the server port, the WAN and a client agent's calls; not LAN gossip. */
  rpcTls?: RpcTls
}

/** An RPC endpoint of this agent: outbound traffic leaves from the bind address when there is one. */
function rpcServer(o: ClusterOptions, use: 'rpc' | 'lan' | 'wan'): RpcServer {
  const c = o.config
  // A multi-homed host talks to its peers from the address they know it by.
  const wildcard = c.bindAddr === '0.0.0.0' || c.bindAddr === '::'
  const connect = wildcard || use === 'wan' ? undefined : (host: string, port: number): Socket => createConnection({ host, port, localAddress: c.bindAddr })
  // LAN gossip is guarded by the gossip key, as Consul's serf is; the WAN pool carries calls between datacenters too.
  const tls = use === 'lan' ? undefined : o.rpcTls
  // The WAN meets servers of every datacenter, each its own cluster.
  if (use === 'wan') return new RpcServer({ id: o.nodeId, datacenter: c.datacenter, cluster: '', log: o.log, anyDatacenter: true, tls })
  return new RpcServer({ id: o.nodeId, datacenter: c.datacenter, cluster: o.clusterId ?? '', log: o.log, connect, tls })
}

/** Whether a member is a server of this datacenter (with the raft ID it needs). */
function isServer(m: Member, datacenter: string): m is Member & { tags: { id: string } } {
  return m.tags.role === 'consul' && m.tags.dc === datacenter && Boolean(m.tags.id)
}

/** Which gossip pool: every agent's LAN pool, or the servers' WAN pool across datacenters. */
export type PoolKind = 'lan' | 'wan'

/** A gossip pool and the joins that feed it: the LAN pool every agent has, the WAN pool of servers. */
export class GossipPool {
  readonly rpc: RpcServer
  readonly members: Members
  readonly #o: ClusterOptions
  readonly #kind: PoolKind
  #retryTimer: Timer | undefined
  #closed = false
  #port = 0

  constructor(o: ClusterOptions, kind: PoolKind) {
    this.#o = o
    this.#kind = kind
    const c = o.config
    const wan = kind === 'wan'
    this.rpc = rpcServer(o, kind)
    const { ring, file } = keyring(o, wan)
    this.members = new Members({
      keyring: ring,
      onQuery: keyringQueryHandler(ring, () => file && ring?.save(file)),
      verifyIncoming: c.encryptVerifyIncoming,
      verifyOutgoing: c.encryptVerifyOutgoing,
      rpc: this.rpc,
      self: wan ? () => wanMember(o.self(), c.datacenter, this.#port) : o.self,
      clock: systemClock,
      log: o.log,
      config: wan ? c.gossipWan : c.gossipLan,
      snapshotFile: c.dev || !c.dataDir ? undefined : joinPath(c.dataDir, 'serf', wan ? 'remote.snapshot' : 'local.snapshot'),
      rejoinAfterLeave: c.rejoinAfterLeave,
      reconnectTimeoutMs: wan ? c.reconnectTimeoutWanMs : c.reconnectTimeoutMs,
      onUser: wan ? undefined : o.onUserEvent,
      coordinates: !c.disableCoordinates,
    })
  }

  /** TCP first (port 0 picks one), then UDP on the same port. */
  async listen(): Promise<void> {
    const c = this.#o.config
    this.#port = (await this.rpc.listen(c.bindAddr, this.#kind === 'wan' ? c.ports.serfWan : c.ports.serfLan)).port
    await this.members.listenUdp(c.bindAddr, this.#port)
  }

  /** The pool's port as bound. */
  get port(): number {
    return this.#port
  }

  /** The joins of this pool's config, and the port an address without one means. */
  #joins(): { start: string[]; retry: string[]; intervalMs: number; max: number; port: number } {
    const c = this.#o.config
    return this.#kind === 'wan'
      ? { start: c.startJoinWan, retry: c.retryJoinWan, intervalMs: c.retryIntervalWanMs, max: c.retryMaxWan, port: c.ports.serfWan }
      : { start: c.startJoin, retry: c.retryJoin, intervalMs: c.retryIntervalMs, max: c.retryMax, port: c.ports.serfLan }
  }

  /** Joins through `address` (`host[:port]`, this pool's port by default). */
  join(addresses: readonly string[]): Promise<{ joined: number; errors: string[] }> {
    return this.members.join(addresses, this.#joins().port)
  }

  /**
   * Whether membership has had time to hear of everyone (a push-pull answered, or a full push-pull
   * interval passed): until then a node it does not know may just not have been heard of yet.
   */
  settled(): boolean {
    return this.members.settled()
  }

  /** The servers of this datacenter membership knows, alive or not. */
  servers(): Array<Member & { tags: { id: string } }> {
    return this.members.list().filter((m) => isServer(m, this.#o.config.datacenter))
  }

  /** Starts gossiping and joins: `-join` must succeed now, `retry_join` is retried in the background. */
  async start(): Promise<void> {
    this.members.start()
    const j = this.#joins()
    const what = this.#kind === 'wan' ? '-join-wan' : '-join'
    if (j.start.length > 0) {
      const r = await this.join(j.start)
      if (r.joined === 0) throw new Error(`Failed to join ${j.start.join(', ')}: ${r.errors.join('; ')}`)
      this.#o.log('info', `agent: joined ${r.joined} of ${j.start.length} ${what} addresses`)
    }
    if (j.retry.length > 0) void this.#retryJoin(1)
  }

  async #retryJoin(attempt: number): Promise<void> {
    if (this.#closed) return
    const j = this.#joins()
    const what = this.#kind === 'wan' ? 'retry join (WAN)' : 'retry join'
    const r = await this.join(j.retry)
    if (r.joined > 0) {
      this.#o.log('info', `agent: ${what}: joined ${r.joined} of ${j.retry.length} addresses`)
      return
    }
    if (j.max > 0 && attempt >= j.max) {
      this.#o.log('error', `agent: ${what}: gave up after ${attempt} attempts: ${r.errors.join('; ')}`)
      return
    }
    this.#o.log('warn', `agent: ${what}: attempt ${attempt} failed, retrying in ${j.intervalMs} ms: ${r.errors.join('; ')}`)
    this.#retryTimer = systemClock.setTimeout(() => void this.#retryJoin(attempt + 1), j.intervalMs)
  }

  /** A keyring operation on every member of this pool (`consul keyring`): how many hold each key, and who failed. */
  async keyring(op: KeyringOp, key?: string): Promise<KeyringReport> {
    // serf's query timeout: gossip interval × 16 × log10(N + 1), rounded up.
    const n = this.members.liveCount()
    const timeoutMs = Math.max(1000, this.members.config.gossipIntervalMs * 16 * Math.ceil(Math.log10(n + 1)))
    return keyringReport(await this.members.query(encodeKeyringOp(op, key), timeoutMs))
  }

  async leave(): Promise<void> {
    await this.members.leave()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#retryTimer?.cancel()
    this.members.stop()
    await this.rpc.close()
  }
}

/**
 * The pool's gossip keyring: the one kept in data_dir (serf/local.keyring, remote.keyring) when
 * there is one, else one made from `encrypt` (and kept); none without either.
 */
function keyring(o: ClusterOptions, wan: boolean): { ring: Keyring | undefined; file: string | undefined } {
  const c = o.config
  const file = c.dev || !c.dataDir ? undefined : joinPath(c.dataDir, 'serf', wan ? 'remote.keyring' : 'local.keyring')
  const kept = file ? Keyring.load(file) : undefined
  if (kept) {
    if (c.encrypt && !kept.list().includes(c.encrypt)) o.log('warn', `agent: using the keyring in ${file}; the encrypt key of the config is not in it and is ignored`)
    return { ring: kept, file }
  }
  if (!c.encrypt) return { ring: undefined, file }
  const ring = new Keyring([parseKey(c.encrypt)])
  if (file) ring.save(file)
  return { ring, file }
}

/** A server as a WAN member: named `<node>.<dc>` as Consul names it, at its WAN port. */
function wanMember(lan: Member, datacenter: string, port: number): Member {
  return { ...lan, name: `${lan.name}.${datacenter}`, port }
}

export class ServerCluster {
  readonly rpc: RpcServer
  readonly pool: GossipPool
  /** The WAN pool of the servers of every datacenter (ports.serf_wan); cross-datacenter calls travel on its port too. */
  readonly wan: GossipPool
  readonly transport: TcpTransport
  readonly #o: ClusterOptions
  #raft: RaftDriver | undefined
  #bootstrapTimer: Timer | undefined
  #closed = false
  #rpcPort = 0

  private constructor(o: ClusterOptions) {
    this.#o = o
    this.rpc = rpcServer(o, 'rpc')
    this.pool = new GossipPool(o, 'lan')
    this.wan = new GossipPool(o, 'wan')
    this.transport = new TcpTransport({ rpc: this.rpc, lookup: (id) => this.#raft?.addressOf(id) })
  }

  /** Opens both listeners; fails (and closes what it opened) when either port is taken. */
  static async listen(o: ClusterOptions): Promise<ServerCluster> {
    const cluster = new ServerCluster(o)
    return openOrClose(cluster, async () => {
      cluster.#rpcPort = (await cluster.rpc.listen(o.config.bindAddr, o.config.ports.server)).port
      await cluster.pool.listen()
      await cluster.wan.listen()
      o.log('info', `agent: server RPC listening on ${cluster.rpc.address()}; LAN membership on ${cluster.pool.rpc.address()}; WAN membership on ${cluster.wan.rpc.address()}`)
    })
  }

  get members(): Members {
    return this.pool.members
  }

  /** The ports as bound (port 0 in the config: the ones the system picked). */
  get rpcPort(): number {
    return this.#rpcPort
  }
  get lanPort(): number {
    return this.pool.port
  }

  /** Server RPC for the endpoint layer's forwarding. */
  readonly remote: RemoteCall = (address, method, body, timeoutMs) => this.rpc.call(address, method, body, { timeoutMs })

  /** Servers of this datacenter that membership knows, as the leader's reconcile wants them. */
  serverMembers(): ServerMember[] {
    return this.pool.servers().map((m) => ({ id: m.tags.id, name: m.name, address: serverAddress(m), status: m.status }))
  }

  /** The other alive servers as catalog nodes, for the leader's `consul` service entries. */
  otherServerNodes(): Array<{ node: NodeInput; serverPort: number }> {
    const dc = this.#o.config.datacenter
    const self = this.#o.self().name
    return this.pool
      .servers()
      .filter((m) => m.status === 'alive' && m.name !== self)
      .map((m) => ({
        node: { ID: m.tags.id, Node: m.name, Address: m.addr, Datacenter: dc, TaggedAddresses: { lan: m.addr, lan_ipv4: m.addr, wan: m.addr, wan_ipv4: m.addr }, Meta: {} },
        serverPort: Number(m.tags.port),
      }))
  }

  /** The alive servers of each datacenter the WAN pool knows, at their WAN addresses (where cross-datacenter calls go). */
  wanServers(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const m of this.wan.members.list()) {
      const dc = m.tags.dc
      if (m.status !== 'alive' || m.tags.role !== 'consul' || !dc) continue
      out.set(dc, [...(out.get(dc) ?? []), memberAddress(m)])
    }
    return out
  }

  /** Every datacenter's alive servers with their WAN coordinates (Coordinate.ListDatacenters), names without the `.dc` suffix. */
  wanCoordinates(): DatacenterMap[] {
    const byDc = new Map<string, DatacenterMap>()
    for (const m of this.wan.members.list()) {
      const dc = m.tags.dc
      if (m.status !== 'alive' || m.tags.role !== 'consul' || !dc) continue
      const map = byDc.get(dc) ?? { Datacenter: dc, AreaID: 'WAN', Coordinates: [] }
      byDc.set(dc, map)
      const coord = this.wan.members.coordinateOf(m.name)
      if (coord) map.Coordinates.push({ Node: m.name.endsWith(`.${dc}`) ? m.name.slice(0, -dc.length - 1) : m.name, Coord: coord })
    }
    return [...byDc.values()]
  }

  /** The median estimated round trip (seconds) from this server to the servers of `dc` (Consul's getDatacentersByDistance). */
  wanMedianRtt(dc: string): number | undefined {
    const own = this.wan.members.coordinate()
    if (!own) return undefined
    const rtts = (this.wanCoordinates().find((m) => m.Datacenter === dc)?.Coordinates ?? []).map((c) => distanceSeconds(own, c.Coord)).sort((a, b) => a - b)
    if (rtts.length === 0) return undefined
    return rtts[Math.floor(rtts.length / 2)]
  }

  /** An endpoint call to a server of another datacenter, over the WAN port. */
  readonly wanCall: RemoteCall = (address, method, body, timeoutMs) => this.wan.rpc.call(address, method, body, { timeoutMs })

  /**
   * Starts serving raft, forwarded calls and client agents' calls (and other datacenters' on the
   * WAN port), following membership, and joining both pools. `endpoints` send what names another
   * datacenter there.
   */
  async start(raft: RaftDriver, server: Server, endpoints: AgentEndpoints): Promise<void> {
    this.#raft = raft
    this.rpc.handle(ENDPOINT_CALL_METHOD, (body) => server.answerForwarded(body), { serversOnly: true })
    this.rpc.handle(ENDPOINT_SERVE_METHOD, (body, ctx) => serveEndpointCall(endpoints, body, ctx.deadline))
    this.wan.rpc.handle(ENDPOINT_SERVE_METHOD, (body, ctx) => serveEndpointCall(endpoints, body, ctx.deadline))
    this.rpc.handle(RAFT_FRESH_METHOD, () => raft.isFresh(), { serversOnly: true })
    this.members.onChange((m) => this.#memberChanged(m))
    for (const m of this.members.list().slice(1)) this.#memberChanged(m)
    const expect = this.#o.config.bootstrapExpect
    if (expect > 1 && raft.isFresh()) this.#bootstrapTimer = systemClock.setInterval(() => void this.#maybeBootstrap(expect), 1000)
    await this.pool.start()
    await this.wan.start()
    this.#wanStarted = true
    for (const m of this.pool.servers()) this.#floodJoin(m)
  }

  #wanStarted = false

  #memberChanged(m: Member): void {
    if (!isServer(m, this.#o.config.datacenter)) return
    const address = serverAddress(m)
    this.#raft?.setAddress(m.tags.id, address)
    this.transport.setAddress(m.tags.id, address)
    this.#floodJoin(m)
    const expect = this.#o.config.bootstrapExpect
    if (expect > 1) void this.#maybeBootstrap(expect)
  }

  /**
   * Consul's flood join: a server of this datacenter alive in the LAN pool but not in the WAN pool
   * is joined there too (at the WAN port its tags name), so joining one server of a datacenter to the
   * WAN brings all of them.
   */
  #floodJoin(m: Member): void {
    const dc = this.#o.config.datacenter
    const port = Number(m.tags.wan_join_port)
    if (!this.#wanStarted || m.status !== 'alive' || m.name === this.#o.self().name || !Number.isInteger(port) || port <= 0) return
    const wanName = `${m.name}.${dc}`
    if (this.wan.members.list().some((w) => w.name === wanName && w.status === 'alive')) return
    void this.wan.join([memberAddress({ addr: m.addr, port })]).then((r) => {
      if (r.joined === 0) this.#o.log('warn', `agent: could not flood-join ${wanName} to the WAN pool: ${r.errors.join('; ')}`)
    })
  }

  #bootstrapping = false

  async #maybeBootstrap(expect: number): Promise<void> {
    const raft = this.#raft
    if (!raft || this.#bootstrapping || this.#closed) return
    if (!raft.isFresh()) {
      this.#stopBootstrap()
      return
    }
    const servers = this.pool.servers().filter((m) => m.status === 'alive')
    if (servers.length < expect) return
    for (const s of servers) {
      if (s.tags.expect !== String(expect)) {
        this.#o.log('error', `agent: member ${s.name} has bootstrap_expect ${s.tags.expect ?? '(none)'}, this server ${expect}: not bootstrapping`)
        return
      }
    }
    this.#bootstrapping = true
    try {
      // A server already in a cluster means the cluster exists: its leader adds us instead.
      const self = this.#o.self().name
      const others = servers.filter((s) => s.name !== self)
      const answers = await Promise.all(others.map((s) => this.rpc.call<boolean>(serverAddress(s), RAFT_FRESH_METHOD, {}, { timeoutMs: 2000 })))
      if (answers.some((a) => !a.ok)) return
      if (answers.some((a) => a.ok && a.value === false)) {
        this.#o.log('info', 'agent: an existing cluster was found; waiting to be added to it')
        this.#stopBootstrap()
        return
      }
      const list: RaftServer[] = servers.map((s) => ({ id: s.tags.id, address: serverAddress(s), voter: true })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      if (raft.bootstrap(list)) this.#o.log('info', `agent: ${expect} servers found; bootstrapping the cluster`)
      this.#stopBootstrap()
    } finally {
      this.#bootstrapping = false
    }
  }

  #stopBootstrap(): void {
    this.#bootstrapTimer?.cancel()
    this.#bootstrapTimer = undefined
  }

  async leave(): Promise<void> {
    await Promise.all([this.pool.leave(), this.wan.leave()])
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#stopBootstrap()
    this.transport.close()
    await Promise.all([this.rpc.close(), this.pool.close(), this.wan.close()])
  }
}

/**
 * A client agent's cluster wiring: LAN membership, and calls to the alive servers of its
 * datacenter over server RPC (one pooled connection per server, made on first use).
 */
export class ClientCluster {
  readonly pool: GossipPool
  readonly #rpc: RpcServer

  private constructor(o: ClusterOptions) {
    this.pool = new GossipPool(o, 'lan')
    this.#rpc = rpcServer(o, 'rpc')
  }

  static async listen(o: ClusterOptions): Promise<ClientCluster> {
    const cluster = new ClientCluster(o)
    return openOrClose(cluster, async () => {
      await cluster.pool.listen()
      o.log('info', `agent: LAN membership on ${cluster.pool.rpc.address()}`)
    })
  }

  get members(): Members {
    return this.pool.members
  }

  get rpc(): RpcServer {
    return this.#rpc
  }

  /** RPC addresses of the alive servers of this datacenter. */
  servers(): string[] {
    return this.pool.servers().filter((m) => m.status === 'alive').map(serverAddress)
  }

  readonly call: RemoteCall = (address, method, body, timeoutMs) => this.#rpc.call(address, method, body, { timeoutMs })

  async leave(): Promise<void> {
    await this.pool.leave()
  }

  async close(): Promise<void> {
    await Promise.all([this.#rpc.close(), this.pool.close()])
  }
}

/** Opens what `open` opens; on failure closes whatever was opened and rethrows. */
async function openOrClose<T extends { close(): Promise<void> }>(cluster: T, open: () => Promise<void>): Promise<T> {
  try {
    await open()
  } catch (err) {
    await cluster.close()
    throw err
  }
  return cluster
}

/** A server member's RPC address: its LAN address and the server port it advertises. */
export function serverAddress(m: Member): string {
  return memberAddress({ addr: m.addr, port: Number(m.tags.port) })
}
