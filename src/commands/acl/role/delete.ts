import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import type { AclRoleJson } from '../../../client/acl-cli.js'

export default class AclRoleDelete extends ApiCommand<typeof AclRoleDelete> {
  static override summary = 'Delete a role by ID or name.'
  static override examples = ['<%= config.bin %> acl role delete -name ops']
  static override flags = {
    id: Flags.string({ description: 'The role\'s ID.' }),
    name: Flags.string({ description: 'The role\'s name.' }),
  }

  async run(): Promise<void> {
    const { name } = this.flags
    let id = this.flags.id
    if (!id && !name) this.error('Must specify either the -id or -name parameters', { exit: 1 })
    if (!id) id = (await this.attempt('Error reading role: ', () => this.client.json<AclRoleJson>('GET', `/v1/acl/role/name/${encodeURIComponent(name!)}`))).ID
    await this.attempt('Error deleting role: ', () => this.client.call('DELETE', `/v1/acl/role/${encodeURIComponent(id!)}`))
    this.log(`Role "${id}" deleted successfully`)
  }
}
