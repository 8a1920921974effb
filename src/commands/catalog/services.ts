import { Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import { tabwrite } from '../../client/format.js'
import { nodeMetaFilters } from '../../client/service-files.js'

export default class CatalogServices extends ApiCommand<typeof CatalogServices> {
  static override summary = 'List all registered services in the datacenter.'
  static override examples = [
    '<%= config.bin %> catalog services',
    '<%= config.bin %> catalog services -tags',
    '<%= config.bin %> catalog services -node=web-1',
    '<%= config.bin %> catalog services -node-meta=rack=r1',
  ]
  static override flags = {
    ...datacenterFlag,
    node: Flags.string({ description: 'Only services on this node (id or name).' }),
    'node-meta': Flags.string({ description: 'Only services on nodes with this key=value metadata; repeat for more.', multiple: true, multipleNonGreedy: true }),
    tags: Flags.boolean({ description: 'Show each service\'s tags, comma-separated, beside it.' }),
  }

  async run(): Promise<void> {
    const f = this.flags
    if (this.positional.length > 0) this.error(`Too many arguments (expected 0, got ${this.positional.length})`, { exit: 1 })
    let nodeMeta: string[]
    try {
      nodeMeta = nodeMetaFilters(f['node-meta'])
    } catch (err) {
      this.error((err as Error).message, { exit: 1 })
    }
    const opts = { dc: f.datacenter, nodeMeta }
    let services: Record<string, string[]> = {}
    if (f.node) {
      try {
        const node = await this.client.catalogNode(f.node, opts)
        for (const s of Object.values(node?.Services ?? {})) services[s.Service] = [...(services[s.Service] ?? []), ...(s.Tags ?? [])]
      } catch (err) {
        this.error(`Error listing services for node: ${(err as Error).message}`, { exit: 1 })
      }
    } else {
      try {
        services = await this.client.catalogServices(opts)
      } catch (err) {
        this.error(`Error listing services: ${(err as Error).message}`, { exit: 1 })
      }
    }
    const names = Object.keys(services).sort()
    if (names.length === 0) {
      this.logToStderr('No services match the given query - try expanding your search.')
      return
    }
    if (f.tags) this.log(tabwrite(names.map((n) => [n, [...(services[n] ?? [])].sort().join(',')])))
    else for (const n of names) this.log(n)
  }
}
