import { Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import type { CatalogNode } from '../../client/client.js'
import { columnize, mapToKv } from '../../client/format.js'
import { nodeMetaFilters } from '../../client/service-files.js'

export default class CatalogNodes extends ApiCommand<typeof CatalogNodes> {
  static override summary = 'List all nodes in the datacenter.'
  static override examples = [
    '<%= config.bin %> catalog nodes',
    '<%= config.bin %> catalog nodes -detailed',
    '<%= config.bin %> catalog nodes -service=web',
    '<%= config.bin %> catalog nodes -node-meta=rack=r1',
    '<%= config.bin %> catalog nodes -near=_agent',
  ]
  static override flags = {
    ...datacenterFlag,
    service: Flags.string({ description: 'Only nodes providing this service (id or name).' }),
    detailed: Flags.boolean({ description: 'Full node IDs, tagged addresses and metadata.' }),
    'node-meta': Flags.string({ description: 'Only nodes with this key=value metadata; repeat for more.', multiple: true, multipleNonGreedy: true }),
    near: Flags.string({ description: 'Sort by estimated round-trip time from this node (_agent: this agent).' }),
    filter: Flags.string({ description: 'Filter expression for the request.' }),
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
    const opts = { dc: f.datacenter, nodeMeta, query: { near: f.near, filter: f.filter } }
    let nodes: CatalogNode[]
    if (f.service) {
      try {
        nodes = (await this.client.catalogService(f.service, opts)).map((s) => ({
          ID: s.ID,
          Node: s.Node,
          Address: s.Address,
          Datacenter: s.Datacenter,
          TaggedAddresses: s.TaggedAddresses,
          Meta: s.NodeMeta,
        }))
      } catch (err) {
        this.error(`Error listing nodes for service: ${(err as Error).message}`, { exit: 1 })
      }
    } else {
      try {
        nodes = await this.client.catalogNodes(opts)
      } catch (err) {
        this.error(`Error listing nodes: ${(err as Error).message}`, { exit: 1 })
      }
    }
    if (nodes.length === 0) {
      // Consul reports this on stderr and still exits 0.
      this.logToStderr('No nodes match the given query - try expanding your search.')
      return
    }
    const rows: string[][] = [f.detailed ? ['Node', 'ID', 'Address', 'DC', 'TaggedAddresses', 'Meta'] : ['Node', 'ID', 'Address', 'DC']]
    for (const n of nodes) {
      if (f.detailed) rows.push([n.Node, n.ID, n.Address, n.Datacenter, mapToKv(n.TaggedAddresses), mapToKv(n.Meta)])
      else {
        // Only the first group of the node ID, as Consul shortens it.
        const dash = n.ID.indexOf('-')
        rows.push([n.Node, dash > 0 ? n.ID.slice(0, dash) : n.ID, n.Address, n.Datacenter])
      }
    }
    this.log(columnize(rows))
  }
}
