/**
 * Status.Leader, Status.Peers (status_endpoint.go) and Operator.RaftGetConfiguration
 * (operator_raft_endpoint.go): what consensus says about the cluster, answered by any server.
 */
import type { EndpointCore } from './core.js'
import { NotFoundError, NotLeaderError, RejectedError } from './errors.js'
import { CONSUL_COMPAT_VERSION } from '../version.js'
import type { WriteOptions } from './types.js'

export interface RaftServerInfo {
  id: string
  /** The server's node name, "(unknown)" for a server this one has no name for yet. */
  node: string
  address: string
  leader: boolean
  voter: boolean
}

export interface RaftConfigurationReply {
  servers: RaftServerInfo[]
  /** The raft index of the configuration. */
  index: number
}

/** `datacenter` is the only option these take. */
export type DatacenterRequest = Pick<WriteOptions, 'datacenter' | 'token'>

/** A server named by raft ID or by server address (Consul's `?id=` or `?address=`). */
export interface RaftPeerRequest extends WriteOptions {
  id?: string
  address?: string
}

/** Consul's autopilot defaults (last_contact_threshold, max_trailing_logs). */
export const AUTOPILOT = { lastContactThresholdMs: 200, maxTrailingLogs: 250 } as const

export interface AutopilotServer {
  id: string
  name: string
  address: string
  serfStatus: string
  version: string
  leader: boolean
  lastContactMs: number
  lastTerm: number
  lastIndex: number
  healthy: boolean
  voter: boolean
  /** When its health last changed, on the leader's clock (ms since the epoch). */
  stableSince: number
}

export interface AutopilotHealth {
  healthy: boolean
  /** Healthy voters beyond a quorum: how many more may fail. */
  failureTolerance: number
  servers: AutopilotServer[]
}

export class StatusEndpoint {
  constructor(readonly core: EndpointCore) {}

  /** `ip:port` of the leader's server RPC address, "" when there is none. */
  async leader(req: DatacenterRequest = {}): Promise<string> {
    this.core.checkDatacenter(req.datacenter)
    return this.core.raft.leaderAddress()
  }

  /** The server RPC addresses of the raft configuration. */
  async peers(req: DatacenterRequest = {}): Promise<string[]> {
    this.core.checkDatacenter(req.datacenter)
    return this.core.raft.servers().map((s) => s.address)
  }
}

export class OperatorEndpoint {
  constructor(
    readonly core: EndpointCore,
    /** Node names by raft server ID (this server's own until gossip tells of the others). */
    readonly nodeName: (serverId: string) => string | undefined,
    /** Membership's status of a server by raft ID (serf's `alive`, `failed`, ...). */
    readonly serfStatus: (serverId: string) => string | undefined = () => undefined,
  ) {}

  /** Health as it last changed, per server: what StableSince reports. Leader-local, as Consul's autopilot keeps it. */
  readonly #stable = new Map<string, { healthy: boolean; since: number }>()

  /**
   * Operator.ServerHealth (autopilot's view, on the leader): a server is healthy when membership
   * has it alive, the leader heard from it lately (within Consul's 200 ms, or two heartbeats when
   * those are further apart), and its log is at the leader's term and within 250 entries of it.
   */
  async autopilotHealth(req: DatacenterRequest = {}): Promise<AutopilotHealth> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<AutopilotHealth>('Operator.AutopilotHealth', req)
    if (forwarded) return forwarded
    this.core.acl.authorize(req.token, 'operator', '', 'read')
    const replication = this.core.raft.replication()
    if (!replication) throw new NotLeaderError(this.core.raft.leaderAddress())
    const { raft, clock } = this.core
    const now = clock.now()
    const leaderAddress = raft.leaderAddress()
    const addressOf = new Map(raft.servers().map((s) => [s.id, s.address]))
    const leaderId = raft.servers().find((s) => s.address === leaderAddress)?.id
    const leader = replication.servers.find((s) => s.id === leaderId)
    const contactWithin = Math.max(AUTOPILOT.lastContactThresholdMs, 2 * replication.heartbeatMs)
    const servers = replication.servers.map((r): AutopilotServer => {
      const serf = this.serfStatus(r.id) ?? 'none'
      const healthy =
        serf === 'alive' &&
        r.lastContactMs >= 0 && r.lastContactMs <= contactWithin &&
        r.matchTerm === (leader?.matchTerm ?? r.matchTerm) &&
        r.matchIndex + AUTOPILOT.maxTrailingLogs >= (leader?.matchIndex ?? 0)
      let stable = this.#stable.get(r.id)
      if (!stable || stable.healthy !== healthy) this.#stable.set(r.id, (stable = { healthy, since: now }))
      const address = addressOf.get(r.id) ?? ''
      return {
        id: r.id,
        name: this.nodeName(r.id) ?? '(unknown)',
        address,
        serfStatus: serf,
        version: CONSUL_COMPAT_VERSION,
        leader: address === leaderAddress,
        lastContactMs: Math.max(0, r.lastContactMs),
        lastTerm: r.matchTerm,
        lastIndex: r.matchIndex,
        healthy,
        voter: r.voter,
        stableSince: stable.since,
      }
    })
    for (const id of this.#stable.keys()) if (!addressOf.has(id)) this.#stable.delete(id)
    const voters = servers.filter((s) => s.voter)
    const quorum = Math.floor(voters.length / 2) + 1
    const failureTolerance = Math.max(0, voters.filter((s) => s.healthy).length - quorum)
    return { healthy: servers.every((s) => s.healthy), failureTolerance, servers }
  }

  /** The server a request names, from the configuration; NotFoundError when it is not in it. */
  #peer(req: RaftPeerRequest): string {
    const s = this.core.raft.servers().find((x) => (req.id ? x.id === req.id : x.address === req.address))
    if (!req.id && !req.address) throw new RejectedError('rejected', 'Must specify either ?id with the server\'s ID or ?address with IP:port of peer to remove')
    if (!s) throw new NotFoundError(`id "${req.id ?? ''}" or address "${req.address ?? ''}" was not found in the Raft configuration`)
    return s.id
  }

  /** Operator.RaftRemovePeerByID / ByAddress: on the leader (forwarded there). */
  async raftRemovePeer(req: RaftPeerRequest): Promise<true> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<true>('Operator.RaftRemovePeer', req)
    if (forwarded) return forwarded
    this.core.acl.authorize(req.token, 'operator', '', 'write')
    await this.core.raft.removeServer(this.#peer(req))
    return true
  }

  /** Operator.RaftTransferLeader: to the server named, or to the most caught-up voter. */
  async raftTransferLeader(req: RaftPeerRequest): Promise<true> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<true>('Operator.RaftTransferLeader', req)
    if (forwarded) return forwarded
    this.core.acl.authorize(req.token, 'operator', '', 'write')
    const self = this.core.raft.servers().find((s) => s.address === this.core.raft.leaderAddress())?.id
    const to = req.id || req.address ? this.#peer(req) : this.core.raft.servers().find((s) => s.voter && s.id !== self)?.id
    if (!to || to === self) throw new RejectedError('rejected', 'cannot transfer leadership: no other voter')
    if (!this.core.raft.transferLeadership(to)) throw new RejectedError('rejected', `cannot transfer leadership to ${to}`)
    return true
  }

  async raftGetConfiguration(req: DatacenterRequest = {}): Promise<RaftConfigurationReply> {
    this.core.checkDatacenter(req.datacenter)
    this.core.acl.authorize(req.token, 'operator', '', 'read')
    const leader = this.core.raft.leaderAddress()
    return {
      servers: this.core.raft.servers().map((s) => ({
        id: s.id,
        node: this.nodeName(s.id) ?? '(unknown)',
        address: s.address,
        leader: s.address === leader,
        voter: s.voter,
      })),
      index: this.core.raft.configurationIndex(),
    }
  }
}
