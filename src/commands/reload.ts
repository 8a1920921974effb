import { ApiCommand } from '../client/api-command.js'

export default class Reload extends ApiCommand<typeof Reload> {
  static override summary = 'Make the agent re-read its configuration files.'
  static override description = 'Services, checks, log level and limits change at once; keys that need a restart are listed.'
  static override examples = ['<%= config.bin %> reload', '<%= config.bin %> reload -http-addr=127.0.0.1:8500']

  async run(): Promise<void> {
    const report = await this.client.reload()
    this.log('Configuration reload triggered')
    if (report.restartRequired.length > 0) this.warn(`These changed keys take effect only after a restart: ${report.restartRequired.join(', ')}`)
  }
}
