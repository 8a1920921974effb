import { Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../../client/api-command.js'

export default class TransferLeader extends ApiCommand<typeof TransferLeader> {
  static override summary = 'Hand raft leadership to another server (the one given, or the most caught-up voter).'
  static override examples = ['<%= config.bin %> operator raft transfer-leader', '<%= config.bin %> operator raft transfer-leader -id=0b2b3a5e-6fbb-4e7a-9dc4-0c6b0a9a8c11']

  static override flags = {
    ...datacenterFlag,
    id: Flags.string({ description: 'Raft ID of the server to hand leadership to.' }),
  }

  async run(): Promise<void> {
    const { id } = this.flags
    await this.client.call('POST', '/v1/operator/raft/transfer-leader', { query: id ? { id } : {} })
    this.log('Success')
  }
}
