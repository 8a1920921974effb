import { Args, Flags } from '@oclif/core'
import { ApiCommand } from '../../client/api-command.js'
import { getField, servicesFromFiles } from '../../client/service-files.js'

export default class ServicesDeregister extends ApiCommand<typeof ServicesDeregister> {
  static override summary = 'Deregister services from the local agent.'
  static override description = 'Deregisters the services defined in the given files (by ID, or name when a definition has no ID), or the one service given with -id.'
  static override examples = ['<%= config.bin %> services deregister web.json db.json', '<%= config.bin %> services deregister -id=web']
  static override strict = false
  static override args = { file: Args.string({ description: 'Service definition file(s)' }) }
  static override flags = {
    id: Flags.string({ description: 'ID of the service to deregister; not with file arguments.' }),
  }

  async run(): Promise<void> {
    const files = this.positional
    const id = this.flags.id
    if (files.length === 0 && !id) this.error('Service deregistration requires at least one argument or -id.', { exit: 1 })
    if (files.length > 0 && id) this.error('Service deregistration requires arguments or -id, not both.', { exit: 1 })
    let services: Array<Record<string, unknown>> = [{ ID: id }]
    if (files.length > 0) {
      try {
        services = await servicesFromFiles(files)
      } catch (err) {
        this.error(`Error: ${(err as Error).message}`, { exit: 1 })
      }
    }
    for (const svc of services) {
      const sid = String(getField(svc, 'ID') || getField(svc, 'Name') || '')
      if (!sid) continue
      try {
        await this.client.agentServiceDeregister(sid)
      } catch (err) {
        this.error(`Error deregistering service "${String(getField(svc, 'Name') ?? sid)}": ${(err as Error).message}`, { exit: 1 })
      }
      this.log(`Deregistered service: ${sid}`)
    }
  }
}
