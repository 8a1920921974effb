import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, roleText, type AclRoleJson } from '../../../client/acl-cli.js'

export default class AclRoleRead extends ApiCommand<typeof AclRoleRead> {
  static override summary = 'Show a role, by ID or name.'
  static override examples = ['<%= config.bin %> acl role read -name ops']
  static override flags = {
    ...formatFlag,
    id: Flags.string({ description: 'The role\'s ID.' }),
    name: Flags.string({ description: 'The role\'s name.' }),
  }

  async run(): Promise<void> {
    const { id, name } = this.flags
    if (!id && !name) this.error('Must specify either the -id or -name parameters', { exit: 1 })
    const path = id ? `/v1/acl/role/${encodeURIComponent(id)}` : `/v1/acl/role/name/${encodeURIComponent(name!)}`
    const role = await this.attempt('Error reading role: ', () => this.client.json<AclRoleJson>('GET', path))
    this.log(this.flags.format === 'json' ? JSON.stringify(role, null, 4) : roleText(role))
  }
}
