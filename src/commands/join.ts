import { Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'

export default class Join extends ApiCommand<typeof Join> {
  static override summary = 'Tell the agent to join a cluster through one or more of its members.'
  static override description = 'Each address is a member\'s gossip address (`host` or `host:port`, the serf LAN port 8301 by default). The agent gossips with every member it learns of from there.'
  static override usage = 'join [-wan] ADDRESS...'
  static override examples = ['<%= config.bin %> join 10.0.0.5', '<%= config.bin %> join 127.0.0.2 127.0.0.3:8301']
  static override strict = false
  static override flags = {
    wan: Flags.boolean({ description: "Join the WAN pool of servers (a server agent only; the address is a server's serf WAN port, 8302 by default)." }),
  }

  async run(): Promise<void> {
    const addresses = this.positional
    if (addresses.length === 0) this.error('At least one address to join must be specified.', { exit: 1 })
    let joined = 0
    for (const address of addresses) {
      try {
        await this.client.call('PUT', `/v1/agent/join/${encodeURIComponent(address)}`, { query: { wan: this.flags.wan || undefined } })
        joined++
      } catch (err) {
        this.logToStderr(`Error joining address '${address}': ${(err as Error).message}`)
      }
    }
    if (joined === 0) this.error('Failed to join any nodes.', { exit: 1 })
    this.log(`Successfully joined cluster by contacting ${joined} nodes.`)
  }
}
