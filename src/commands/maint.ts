import { Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'

export default class Maint extends ApiCommand<typeof Maint> {
  static override summary = 'Control node or service maintenance mode.'
  static override description =
    'Maintenance mode registers a critical check on the node (or on one service), which takes it out of DNS and API queries until disabled; it survives agent restarts. Without -enable or -disable, lists what is in maintenance (nothing when nothing is).'
  static override examples = [
    '<%= config.bin %> maint',
    '<%= config.bin %> maint -enable -reason="kernel upgrade"',
    '<%= config.bin %> maint -disable',
    '<%= config.bin %> maint -enable -service=web-1',
    '<%= config.bin %> maint -disable -service=web-1',
  ]
  static override flags = {
    enable: Flags.boolean({ description: 'Enable maintenance mode.' }),
    disable: Flags.boolean({ description: 'Disable maintenance mode.' }),
    reason: Flags.string({ description: 'Why; shown in the maintenance check\'s Notes (only with -enable).' }),
    service: Flags.string({ description: 'Act on this service ID instead of the whole node.' }),
  }

  async run(): Promise<void> {
    const { enable, disable, reason, service } = this.flags
    if (enable && disable) this.error('Only one of -enable or -disable may be provided', { exit: 1 })
    if (!enable && reason) this.error('Reason may only be provided with -enable', { exit: 1 })
    if (!enable && !disable && service) this.error('Service requires either -enable or -disable', { exit: 1 })

    let nodeName: string
    try {
      nodeName = await this.client.agentNodeName()
    } catch (err) {
      this.error(`Error querying Consul agent: ${(err as Error).message}`, { exit: 1 })
    }

    if (!enable && !disable) {
      let checks
      try {
        checks = await this.client.agentChecks()
      } catch (err) {
        this.error(`Error getting checks: ${(err as Error).message}`, { exit: 1 })
      }
      // Node first, then services by ID: Consul walks a Go map here, so any stable order will do.
      const ids = Object.keys(checks).sort((a, b) => (a === '_node_maintenance' ? -1 : b === '_node_maintenance' ? 1 : a < b ? -1 : a > b ? 1 : 0))
      for (const id of ids) {
        const check = checks[id]!
        if (id === '_node_maintenance') this.log(`Node:\n  Name:   ${nodeName}\n  Reason: ${check.Notes}\n`)
        else if (id.startsWith('_service_maintenance:')) this.log(`Service:\n  ID:     ${check.ServiceID}\n  Reason: ${check.Notes}\n`)
      }
      return
    }

    const what = enable ? 'enabling' : 'disabling'
    const state = enable ? 'enabled' : 'disabled'
    try {
      await this.client.agentMaintenance(Boolean(enable), { serviceId: service, reason })
    } catch (err) {
      this.error(`Error ${what} ${service ? 'service' : 'node'} maintenance: ${(err as Error).message}`, { exit: 1 })
    }
    this.log(service ? `Service maintenance is now ${state} for ${JSON.stringify(service)}` : `Node maintenance is now ${state}`)
  }
}
