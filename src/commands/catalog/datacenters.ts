import { ApiCommand } from '../../client/api-command.js'

export default class CatalogDatacenters extends ApiCommand<typeof CatalogDatacenters> {
  static override summary = 'List all known datacenters.'
  static override description = 'Datacenters are listed in order of estimated round-trip time from the agent\'s own.'
  static override examples = ['<%= config.bin %> catalog datacenters']

  async run(): Promise<void> {
    let dcs: string[]
    try {
      dcs = await this.client.catalogDatacenters()
    } catch (err) {
      this.error(`Error listing datacenters: ${(err as Error).message}`, { exit: 1 })
    }
    if (dcs.length === 0) this.error('No datacenters found', { exit: 1 })
    for (const dc of dcs) this.log(dc)
  }
}
