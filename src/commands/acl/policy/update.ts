import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, policyText, readRules, type AclPolicyJson } from '../../../client/acl-cli.js'

export default class AclPolicyUpdate extends ApiCommand<typeof AclPolicyUpdate> {
  static override summary = 'Change a policy\'s name, description, rules or datacenters (what is not given is kept).'
  static override examples = ['<%= config.bin %> acl policy update -id 06acc965-df4b-5a99-58cb-3250930c6324 -rules @web.hcl']
  static override flags = {
    ...formatFlag,
    id: Flags.string({ description: 'The policy\'s ID.', required: true }),
    name: Flags.string({ description: 'A new name.' }),
    description: Flags.string({ description: 'A new description.' }),
    rules: Flags.string({ description: 'New rules: text, @FILE, or - for stdin.' }),
    'valid-datacenter': Flags.string({ description: 'Datacenters the policy applies in (repeatable).', multiple: true }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const path = `/v1/acl/policy/${encodeURIComponent(f.id)}`
    const current = await this.attempt('Error reading policy: ', () => this.client.json<AclPolicyJson>('GET', path))
    const body = {
      Name: f.name ?? current.Name,
      Description: f.description ?? current.Description,
      Rules: f.rules === undefined ? current.Rules : readRules(f.rules),
      Datacenters: f['valid-datacenter'] ?? current.Datacenters ?? [],
    }
    const policy = await this.attempt('Failed to update policy: ', () => this.client.json<AclPolicyJson>('PUT', path, { body: JSON.stringify(body) }))
    this.log(f.format === 'json' ? JSON.stringify(policy, null, 4) : policyText(policy))
  }
}
