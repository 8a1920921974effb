/**
 * Status.Leader, Status.Peers (status_endpoint.go) and Operator.RaftGetConfiguration
 * (operator_raft_endpoint.go): what consensus says about the cluster, answered by any server.
 */
import type { EndpointCore } from './core.js'
import { NotFoundError, RejectedError } from './errors.js'
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
export type DatacenterRequest = Pick<WriteOptions, 'datacenter'>

/** A server named by raft ID or by server address (Consul's `?id=` or `?address=`). */
export interface RaftPeerRequest extends WriteOptions {
  id?: string
  address?: string
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
  ) {}

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
    await this.core.raft.removeServer(this.#peer(req))
    return true
  }

  /** Operator.RaftTransferLeader: to the server named, or to the most caught-up voter. */
  async raftTransferLeader(req: RaftPeerRequest): Promise<true> {
    this.core.checkDatacenter(req.datacenter)
    const forwarded = this.core.forwardUnlessLeader<true>('Operator.RaftTransferLeader', req)
    if (forwarded) return forwarded
    const self = this.core.raft.servers().find((s) => s.address === this.core.raft.leaderAddress())?.id
    const to = req.id || req.address ? this.#peer(req) : this.core.raft.servers().find((s) => s.voter && s.id !== self)?.id
    if (!to || to === self) throw new RejectedError('rejected', 'cannot transfer leadership: no other voter')
    if (!this.core.raft.transferLeadership(to)) throw new RejectedError('rejected', `cannot transfer leadership to ${to}`)
    return true
  }

  async raftGetConfiguration(req: DatacenterRequest = {}): Promise<RaftConfigurationReply> {
    this.core.checkDatacenter(req.datacenter)
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
