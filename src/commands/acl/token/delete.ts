import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'

export default class AclTokenDelete extends ApiCommand<typeof AclTokenDelete> {
  static override summary = 'Delete a token by AccessorID.'
  static override examples = ['<%= config.bin %> acl token delete -id 986193a1-7c36-45e7-9d5c-3e6f2b0d4e35']
  static override flags = { id: Flags.string({ description: 'The token\'s AccessorID.', required: true }) }

  async run(): Promise<void> {
    await this.attempt('Error deleting token: ', () => this.client.call('DELETE', `/v1/acl/token/${encodeURIComponent(this.flags.id)}`))
    this.log(`Token "${this.flags.id}" deleted successfully`)
  }
}
