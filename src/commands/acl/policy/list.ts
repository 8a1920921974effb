import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, policyListText, type AclPolicyJson } from '../../../client/acl-cli.js'

export default class AclPolicyList extends ApiCommand<typeof AclPolicyList> {
  static override summary = 'List every policy (without its rules).'
  static override examples = ['<%= config.bin %> acl policy list', '<%= config.bin %> acl policy list -format=json']
  static override flags = { ...formatFlag }

  async run(): Promise<void> {
    const policies = await this.attempt('Failed to retrieve the policy list: ', () => this.client.json<AclPolicyJson[]>('GET', '/v1/acl/policies'))
    this.log(this.flags.format === 'json' ? JSON.stringify(policies, null, 4) : policies.map(policyListText).join('\n'))
  }
}
