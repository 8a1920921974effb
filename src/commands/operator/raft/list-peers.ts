import { ApiCommand, datacenterFlag } from '../../../client/api-command.js'
import { columnize } from '../../../client/format.js'

interface RaftServer {
  ID: string
  Node: string
  Address: string
  Leader: boolean
  Voter: boolean
  ProtocolVersion: string
}

export default class ListPeers extends ApiCommand<typeof ListPeers> {
  static override summary = 'List the raft peers of the servers and which one leads.'
  static override examples = ['<%= config.bin %> operator raft list-peers']

  static override flags = { ...datacenterFlag }

  async run(): Promise<void> {
    const config = await this.client.json<{ Servers: RaftServer[] }>('GET', '/v1/operator/raft/configuration')
    const rows = config.Servers.map((s) => [s.Node, s.ID, s.Address, s.Leader ? 'leader' : 'follower', String(s.Voter), s.ProtocolVersion])
    this.log(columnize([['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol'], ...rows]))
  }
}
