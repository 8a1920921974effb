import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, roleText, type AclRoleJson } from '../../../client/acl-cli.js'

export default class AclRoleList extends ApiCommand<typeof AclRoleList> {
  static override summary = 'List every role.'
  static override examples = ['<%= config.bin %> acl role list', '<%= config.bin %> acl role list -format=json']
  static override flags = { ...formatFlag }

  async run(): Promise<void> {
    const roles = await this.attempt('Failed to retrieve the role list: ', () => this.client.json<AclRoleJson[]>('GET', '/v1/acl/roles'))
    this.log(this.flags.format === 'json' ? JSON.stringify(roles, null, 4) : roles.map(roleText).join('\n\n'))
  }
}
