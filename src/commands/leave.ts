import { ApiCommand } from '../client/api-command.js'

export default class Leave extends ApiCommand<typeof Leave> {
  static override summary = 'Make the agent leave the cluster gracefully and shut down.'
  static override examples = ['<%= config.bin %> leave', '<%= config.bin %> leave -http-addr=127.0.0.1:8500']

  async run(): Promise<void> {
    await this.client.call('PUT', '/v1/agent/leave')
    this.log('Graceful leave complete')
  }
}
