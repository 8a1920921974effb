import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, tokenText, type AclTokenJson } from '../../../client/acl-cli.js'

export default class AclTokenRead extends ApiCommand<typeof AclTokenRead> {
  static override summary = 'Show one token, by AccessorID or the caller\'s own (-self).'
  static override examples = ['<%= config.bin %> acl token read -id 986193a1-7c36-45e7-9d5c-3e6f2b0d4e35', '<%= config.bin %> acl token read -self']
  static override flags = {
    ...formatFlag,
    id: Flags.string({ description: 'The token\'s AccessorID.' }),
    self: Flags.boolean({ description: 'The token this command runs with.' }),
  }

  async run(): Promise<void> {
    const { id, self } = this.flags
    if (!id && !self) this.error('Must specify the -id parameter, or use -self', { exit: 1 })
    const path = self ? '/v1/acl/token/self' : `/v1/acl/token/${encodeURIComponent(id!)}`
    const token = await this.attempt('Error reading token: ', () => this.client.json<AclTokenJson>('GET', path))
    this.log(this.flags.format === 'json' ? JSON.stringify(token, null, 4) : tokenText(token))
  }
}
