/**
 * An agent's cluster wiring. Every agent: LAN gossip on ports.serf_lan (gossip/members.ts) and
 * joins at start and retried (LanPool). A server adds server RPC on ports.server (raft messages,
 * forwarded writes, client agents' calls) and bootstrap_expect (Consul's maybeBootstrap: once
 * `expect` servers of this datacenter know each other, all asking for the same number and none
 * already in a cluster, each bootstraps raft with the same list of them). A client agent calls
 * the servers membership tells it of (ClientCluster).
 */
import { createConnection, type Socket } from 'node:net'
import { join as joinPath } from 'node:path'
import { systemClock, type Timer } from '../lib/clock.js'
import { Members, memberAddress, type Member } from '../gossip/members.js'
import { RpcServer } from '../rpc/server.js'
import { TcpTransport } from '../raft/tcp-transport.js'
import type { RaftDriver } from '../raft/driver.js'
import type { RaftServer } from '../raft/types.js'
import { ENDPOINT_CALL_METHOD, type RemoteCall } from '../server/forward.js'
import { ENDPOINT_SERVE_METHOD, serveEndpointCall } from '../server/endpoints.js'
import type { ServerMember } from '../server/reconcile.js'
import type { Server } from '../server/server.js'
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
}

/** An RPC endpoint of this agent: outbound traffic leaves from the bind address when there is one. */
function rpcServer(o: ClusterOptions): RpcServer {
  const c = o.config
  // A multi-homed host talks to its peers from the address they know it by.
  const wildcard = c.bindAddr === '0.0.0.0' || c.bindAddr === '::'
  const connect = wildcard ? undefined : (host: string, port: number): Socket => createConnection({ host, port, localAddress: c.bindAddr })
  return new RpcServer({ id: o.nodeId, datacenter: c.datacenter, cluster: o.clusterId ?? '', log: o.log, connect })
}

/** Whether a member is a server of this datacenter (with the raft ID it needs). */
function isServer(m: Member, datacenter: string): m is Member & { tags: { id: string } } {
  return m.tags.role === 'consul' && m.tags.dc === datacenter && Boolean(m.tags.id)
}

/** LAN membership and the joins that feed it: what servers and client agents share. */
export class LanPool {
  readonly lan: RpcServer
  readonly members: Members
  readonly #o: ClusterOptions
  #retryTimer: Timer | undefined
  #closed = false
  #port = 0

  constructor(o: ClusterOptions) {
    this.#o = o
    const c = o.config
    this.lan = rpcServer(o)
    this.members = new Members({
      rpc: this.lan,
      self: o.self,
      clock: systemClock,
      log: o.log,
      config: c.gossipLan,
      snapshotFile: c.dev || !c.dataDir ? undefined : joinPath(c.dataDir, 'serf', 'local.snapshot'),
      rejoinAfterLeave: c.rejoinAfterLeave,
      reconnectTimeoutMs: c.reconnectTimeoutMs,
      onUser: o.onUserEvent,
    })
  }

  /** TCP first (port 0 picks one), then UDP on the same port. */
  async listen(): Promise<void> {
    this.#port = (await this.lan.listen(this.#o.config.bindAddr, this.#o.config.ports.serfLan)).port
    await this.members.listenUdp(this.#o.config.bindAddr, this.#port)
  }

  /** The serf LAN port as bound. */
  get port(): number {
    return this.#port
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

  /** Starts the exchanges and joins: `-join` must succeed now, `retry_join` is retried in the background. */
  async start(): Promise<void> {
    this.members.start()
    const c = this.#o.config
    if (c.startJoin.length > 0) {
      const r = await this.members.join(c.startJoin, c.ports.serfLan)
      if (r.joined === 0) throw new Error(`Failed to join ${c.startJoin.join(', ')}: ${r.errors.join('; ')}`)
      this.#o.log('info', `agent: joined ${r.joined} of ${c.startJoin.length} -join addresses`)
    }
    if (c.retryJoin.length > 0) void this.#retryJoin(1)
  }

  async #retryJoin(attempt: number): Promise<void> {
    if (this.#closed) return
    const c = this.#o.config
    const r = await this.members.join(c.retryJoin, c.ports.serfLan)
    if (r.joined > 0) {
      this.#o.log('info', `agent: retry join: joined ${r.joined} of ${c.retryJoin.length} addresses`)
      return
    }
    if (c.retryMax > 0 && attempt >= c.retryMax) {
      this.#o.log('error', `agent: retry join: gave up after ${attempt} attempts: ${r.errors.join('; ')}`)
      return
    }
    this.#o.log('warn', `agent: retry join: attempt ${attempt} failed, retrying in ${c.retryIntervalMs} ms: ${r.errors.join('; ')}`)
    this.#retryTimer = systemClock.setTimeout(() => void this.#retryJoin(attempt + 1), c.retryIntervalMs)
  }

  async leave(): Promise<void> {
    await this.members.leave()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#retryTimer?.cancel()
    this.members.stop()
    await this.lan.close()
  }
}

export class ServerCluster {
  readonly rpc: RpcServer
  readonly pool: LanPool
  readonly transport: TcpTransport
  readonly #o: ClusterOptions
  #raft: RaftDriver | undefined
  #bootstrapTimer: Timer | undefined
  #closed = false
  #rpcPort = 0

  private constructor(o: ClusterOptions) {
    this.#o = o
    this.rpc = rpcServer(o)
    this.pool = new LanPool(o)
    this.transport = new TcpTransport({ rpc: this.rpc, lookup: (id) => this.#raft?.addressOf(id) })
  }

  /** Opens both listeners; fails (and closes what it opened) when either port is taken. */
  static async listen(o: ClusterOptions): Promise<ServerCluster> {
    const cluster = new ServerCluster(o)
    return openOrClose(cluster, async () => {
      cluster.#rpcPort = (await cluster.rpc.listen(o.config.bindAddr, o.config.ports.server)).port
      await cluster.pool.listen()
      o.log('info', `agent: server RPC listening on ${cluster.rpc.address()}; LAN membership on ${cluster.pool.lan.address()}`)
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

  /** Starts serving raft, forwarded calls and client agents' calls, following membership, and joining. */
  async start(raft: RaftDriver, server: Server): Promise<void> {
    this.#raft = raft
    this.rpc.handle(ENDPOINT_CALL_METHOD, (body) => server.answerForwarded(body))
    this.rpc.handle(ENDPOINT_SERVE_METHOD, (body, ctx) => serveEndpointCall(server, body, ctx.deadline))
    this.rpc.handle(RAFT_FRESH_METHOD, () => raft.isFresh())
    this.members.onChange((m) => this.#memberChanged(m))
    for (const m of this.members.list().slice(1)) this.#memberChanged(m)
    const expect = this.#o.config.bootstrapExpect
    if (expect > 1 && raft.isFresh()) this.#bootstrapTimer = systemClock.setInterval(() => void this.#maybeBootstrap(expect), 1000)
    await this.pool.start()
  }

  #memberChanged(m: Member): void {
    if (!isServer(m, this.#o.config.datacenter)) return
    const address = serverAddress(m)
    this.#raft?.setAddress(m.tags.id, address)
    this.transport.setAddress(m.tags.id, address)
    const expect = this.#o.config.bootstrapExpect
    if (expect > 1) void this.#maybeBootstrap(expect)
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
    await this.pool.leave()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#stopBootstrap()
    this.transport.close()
    await Promise.all([this.rpc.close(), this.pool.close()])
  }
}

/**
 * A client agent's cluster wiring: LAN membership, and calls to the alive servers of its
 * datacenter over server RPC (one pooled connection per server, made on first use).
 */
export class ClientCluster {
  readonly pool: LanPool
  readonly #rpc: RpcServer

  private constructor(o: ClusterOptions) {
    this.pool = new LanPool(o)
    this.#rpc = rpcServer(o)
  }

  static async listen(o: ClusterOptions): Promise<ClientCluster> {
    const cluster = new ClientCluster(o)
    return openOrClose(cluster, async () => {
      await cluster.pool.listen()
      o.log('info', `agent: LAN membership on ${cluster.pool.lan.address()}`)
    })
  }

  get members(): Members {
    return this.pool.members
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
