import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, tokenText, type AclTokenJson } from '../../../client/acl-cli.js'

export default class AclTokenClone extends ApiCommand<typeof AclTokenClone> {
  static override summary = 'Copy a token\'s policies, roles and identities into a new token.'
  static override examples = ['<%= config.bin %> acl token clone -id 986193a1-7c36-45e7-9d5c-3e6f2b0d4e35 -description "copy for ci"']
  static override flags = {
    ...formatFlag,
    id: Flags.string({ description: 'AccessorID of the token to copy.', required: true }),
    description: Flags.string({ description: 'The new token\'s description (default: the original\'s).' }),
  }

  async run(): Promise<void> {
    const body = this.flags.description === undefined ? '{}' : JSON.stringify({ Description: this.flags.description })
    const token = await this.attempt('Error cloning token: ', () => this.client.json<AclTokenJson>('PUT', `/v1/acl/token/${encodeURIComponent(this.flags.id)}/clone`, { body }))
    this.log(this.flags.format === 'json' ? JSON.stringify(token, null, 4) : tokenText(token))
  }
}
