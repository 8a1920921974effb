import { Args, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../client/api-command.js'

export default class Event extends ApiCommand<typeof Event> {
  static override summary = 'Fire a custom user event.'
  static override description =
    'Events go to every agent, or only to those matching the node, service and tag filters (regular expressions). The optional payload is delivered as is; keep it small (the agent caps it). Prints the new event\'s ID.'
  static override examples = [
    '<%= config.bin %> event -name=deploy',
    '<%= config.bin %> event -name=deploy -service=web -tag=v2 "release 42"',
    '<%= config.bin %> event -name=restart -node="^web-"',
  ]
  static override args = { payload: Args.string({ description: 'Event payload' }) }
  static override flags = {
    ...datacenterFlag,
    name: Flags.string({ description: 'Event name (required).' }),
    node: Flags.string({ description: 'Regular expression for the nodes that should handle it.' }),
    service: Flags.string({ description: 'Regular expression for the services that should handle it.' }),
    tag: Flags.string({ description: 'Regular expression for the service tags (needs -service).' }),
  }

  async run(): Promise<void> {
    const { name, node, service, tag, datacenter } = this.flags
    if (!name) this.error('Event name must be specified', { exit: 1 })
    for (const [what, re] of [['node', node], ['service', service], ['tag', tag]] as const) {
      if (!re) continue
      try {
        new RegExp(re)
      } catch (err) {
        this.error(`Failed to compile ${what} filter regexp: ${(err as Error).message}`, { exit: 1 })
      }
    }
    if (tag && !service) this.error('Cannot provide tag filter without service filter.', { exit: 1 })
    try {
      await this.client.agentNodeName()
    } catch (err) {
      this.error(`Error querying Consul agent: ${(err as Error).message}`, { exit: 1 })
    }
    let id: string
    try {
      id = (await this.client.eventFire(name, this.args.payload, { node, service, tag, dc: datacenter })).ID
    } catch (err) {
      this.error(`Error firing event: ${(err as Error).message}`, { exit: 1 })
    }
    this.log(`Event ID: ${id}`)
  }
}
