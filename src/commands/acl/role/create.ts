import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, linkFlags, linksBody, roleText, type AclRoleJson } from '../../../client/acl-cli.js'

export default class AclRoleCreate extends ApiCommand<typeof AclRoleCreate> {
  static override summary = 'Create a role: named policies and identities tokens can share.'
  static override examples = ['<%= config.bin %> acl role create -name ops -policy-name web -service-identity api']
  static override flags = {
    ...formatFlag,
    ...linkFlags,
    name: Flags.string({ description: 'The role\'s name.', required: true }),
    description: Flags.string({ description: 'What the role is for.' }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const body = { Name: f.name, Description: f.description ?? '', ...linksBody(f) }
    const role = await this.attempt('Failed to create new role: ', () => this.client.json<AclRoleJson>('PUT', '/v1/acl/role', { body: JSON.stringify(body) }))
    this.log(f.format === 'json' ? JSON.stringify(role, null, 4) : roleText(role))
  }
}
