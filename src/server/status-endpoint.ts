/**
 * Status.Leader, Status.Peers (status_endpoint.go) and Operator.RaftGetConfiguration
 * (operator_raft_endpoint.go): what consensus says about the cluster, answered by any server.
 */
import type { EndpointCore } from './core.js'
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

export class StatusEndpoint {
  constructor(readonly core: EndpointCore) {}

  /** `ip:port` of the leader's server RPC address, "" when there is none. */
  leader(req: DatacenterRequest = {}): string {
    this.core.checkDatacenter(req.datacenter)
    return this.core.raft.leaderAddress()
  }

  /** The server RPC addresses of the raft configuration. */
  peers(req: DatacenterRequest = {}): string[] {
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

  raftGetConfiguration(req: DatacenterRequest = {}): RaftConfigurationReply {
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
      // One voter, in the configuration it bootstrapped at index 1, until membership changes exist.
      index: 1,
    }
  }
}
