import { Args, Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'

export default class ForceLeave extends ApiCommand<typeof ForceLeave> {
  static override summary = 'Force a member of the cluster into the left state.'
  static override description =
    'A failed member is marked left at once (the leader then removes it from the catalog) instead of being retried until reconnect_timeout. A member that is still alive is only marked leaving, and refutes it. -prune also forgets it here.'
  static override examples = ['<%= config.bin %> force-leave node7', '<%= config.bin %> force-leave -prune node7']
  static override flags = {
    prune: Flags.boolean({ description: 'Forget the member at once instead of keeping it as left.' }),
    wan: Flags.boolean({ description: 'Act on the WAN pool of servers (a server agent only).' }),
  }
  static override args = { node: Args.string({ description: 'The member\'s node name.', required: true }) }

  async run(): Promise<void> {
    await this.attempt('Error force leaving: ', () =>
      this.client.call('PUT', `/v1/agent/force-leave/${encodeURIComponent(this.args.node)}`, { query: { prune: this.flags.prune || undefined, wan: this.flags.wan || undefined } }),
    )
  }
}
