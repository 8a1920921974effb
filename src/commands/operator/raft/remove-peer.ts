import { Errors, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../../client/api-command.js'

export default class RemovePeer extends ApiCommand<typeof RemovePeer> {
  static override summary = 'Remove a server from the raft configuration (a server that is gone for good).'
  static override examples = ['<%= config.bin %> operator raft remove-peer -id=0b2b3a5e-6fbb-4e7a-9dc4-0c6b0a9a8c11', '<%= config.bin %> operator raft remove-peer -address=10.0.0.3:8300']

  static override flags = {
    ...datacenterFlag,
    id: Flags.string({ description: 'Raft ID of the server to remove.' }),
    address: Flags.string({ description: 'Server RPC address (ip:port) of the server to remove.' }),
  }

  async run(): Promise<void> {
    const { id, address } = this.flags
    if (!id === !address) throw new Errors.CLIError('Exactly one of -id or -address is required')
    await this.client.call('DELETE', '/v1/operator/raft/peer', { query: id ? { id } : { address } })
    this.log(`Removed peer with ${id ? `id "${id}"` : `address "${address}"`}`)
  }
}
