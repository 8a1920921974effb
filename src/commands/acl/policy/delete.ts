import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import type { AclPolicyJson } from '../../../client/acl-cli.js'

export default class AclPolicyDelete extends ApiCommand<typeof AclPolicyDelete> {
  static override summary = 'Delete a policy by ID or name (tokens that link it lose it).'
  static override examples = ['<%= config.bin %> acl policy delete -name web']
  static override flags = {
    id: Flags.string({ description: 'The policy\'s ID.' }),
    name: Flags.string({ description: 'The policy\'s name.' }),
  }

  async run(): Promise<void> {
    const { name } = this.flags
    let id = this.flags.id
    if (!id && !name) this.error('Must specify either the -id or -name parameters', { exit: 1 })
    if (!id) id = (await this.attempt('Error reading policy: ', () => this.client.json<AclPolicyJson>('GET', `/v1/acl/policy/name/${encodeURIComponent(name!)}`))).ID
    await this.attempt('Error deleting policy: ', () => this.client.call('DELETE', `/v1/acl/policy/${encodeURIComponent(id!)}`))
    this.log(`Policy "${id}" deleted successfully`)
  }
}
