import { Args } from '@oclif/core'
import { ApiCommand } from '../../client/api-command.js'

export default class AclSetAgentToken extends ApiCommand<typeof AclSetAgentToken> {
  static override summary = 'Set one of the agent\'s own tokens: default, agent, agent_recovery or replication.'
  static override description = 'The token takes effect at once; with acl.enable_token_persistence it is kept across restarts.'
  static override examples = ['<%= config.bin %> acl set-agent-token agent 5a0e5b36-9b7b-4b39-a1e0-4b5e2c9a0d41', '<%= config.bin %> acl set-agent-token default ""']
  static override args = {
    type: Args.string({ description: 'Which token: default, agent, agent_recovery (or agent_master), replication.', required: true }),
    token: Args.string({ description: 'The secret ("" clears it).', required: true }),
  }

  async run(): Promise<void> {
    const { type, token } = this.args
    await this.attempt('Failed setting token: ', () => this.client.call('PUT', `/v1/agent/token/${encodeURIComponent(type)}`, { body: JSON.stringify({ Token: token }) }))
    this.log(`ACL token "${type}" set successfully`)
  }
}
