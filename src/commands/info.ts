import { ApiCommand } from '../client/api-command.js'
import { formatInfo } from '../client/format.js'

export default class Info extends ApiCommand<typeof Info> {
  static override summary = 'Print the agent\'s debugging statistics (Stats of /v1/agent/self).'
  static override examples = ['<%= config.bin %> info']

  async run(): Promise<void> {
    const self = await this.client.agentSelf()
    this.log(formatInfo((self.Stats ?? {}) as Record<string, Record<string, unknown>>))
  }
}
