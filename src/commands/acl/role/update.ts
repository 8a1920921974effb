import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, linkFlags, linksBody, roleText, type AclRoleJson } from '../../../client/acl-cli.js'

export default class AclRoleUpdate extends ApiCommand<typeof AclRoleUpdate> {
  static override summary = 'Change a role (what is not given is kept; given links replace the role\'s).'
  static override examples = ['<%= config.bin %> acl role update -id 5e52a099-4c90-c067-5478-980f06be9af5 -policy-name web -description "web and api"']
  static override flags = {
    ...formatFlag,
    ...linkFlags,
    id: Flags.string({ description: 'The role\'s ID.', required: true }),
    name: Flags.string({ description: 'A new name.' }),
    description: Flags.string({ description: 'A new description.' }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const path = `/v1/acl/role/${encodeURIComponent(f.id)}`
    const current = await this.attempt('Error reading role: ', () => this.client.json<AclRoleJson>('GET', path))
    const body = { Policies: current.Policies ?? [], ServiceIdentities: current.ServiceIdentities ?? [], NodeIdentities: current.NodeIdentities ?? [], ...linksBody(f), Name: f.name ?? current.Name, Description: f.description ?? current.Description }
    const role = await this.attempt('Failed to update role: ', () => this.client.json<AclRoleJson>('PUT', path, { body: JSON.stringify(body) }))
    this.log(f.format === 'json' ? JSON.stringify(role, null, 4) : roleText(role))
  }
}
