import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, policyText, type AclPolicyJson } from '../../../client/acl-cli.js'

export default class AclPolicyRead extends ApiCommand<typeof AclPolicyRead> {
  static override summary = 'Show a policy and its rules, by ID or name.'
  static override examples = ['<%= config.bin %> acl policy read -name web', '<%= config.bin %> acl policy read -id 00000000-0000-0000-0000-000000000001']
  static override flags = {
    ...formatFlag,
    id: Flags.string({ description: 'The policy\'s ID.' }),
    name: Flags.string({ description: 'The policy\'s name.' }),
  }

  async run(): Promise<void> {
    const { id, name } = this.flags
    if (!id && !name) this.error('Must specify either the -id or -name parameters', { exit: 1 })
    const path = id ? `/v1/acl/policy/${encodeURIComponent(id)}` : `/v1/acl/policy/name/${encodeURIComponent(name!)}`
    const policy = await this.attempt('Error reading policy: ', () => this.client.json<AclPolicyJson>('GET', path))
    this.log(this.flags.format === 'json' ? JSON.stringify(policy, null, 4) : policyText(policy))
  }
}
