import { Flags } from '@oclif/core'
import { ApiCommand } from '../../../client/api-command.js'
import { formatFlag, policyText, readRules, type AclPolicyJson } from '../../../client/acl-cli.js'

export default class AclPolicyCreate extends ApiCommand<typeof AclPolicyCreate> {
  static override summary = 'Create a policy from rules in HCL or JSON.'
  static override examples = [
    '<%= config.bin %> acl policy create -name web -rules \'key_prefix "web/" { policy = "write" }\'',
    '<%= config.bin %> acl policy create -name web -rules @web.hcl -description "web deployers"',
  ]
  static override flags = {
    ...formatFlag,
    name: Flags.string({ description: 'The policy\'s name.', required: true }),
    description: Flags.string({ description: 'What the policy is for.' }),
    rules: Flags.string({ description: 'The rules: text, @FILE, or - for stdin.' }),
    'valid-datacenter': Flags.string({ description: 'A datacenter the policy applies in (repeatable; default: all).', multiple: true }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const body = { Name: f.name, Description: f.description ?? '', Rules: f.rules === undefined ? '' : readRules(f.rules), Datacenters: f['valid-datacenter'] ?? [] }
    const policy = await this.attempt('Failed to create new policy: ', () => this.client.json<AclPolicyJson>('PUT', '/v1/acl/policy', { body: JSON.stringify(body) }))
    this.log(f.format === 'json' ? JSON.stringify(policy, null, 4) : policyText(policy))
  }
}
