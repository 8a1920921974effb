import { Args, Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'
import { distanceSeconds, isValidCoordinate, type Coordinate } from '../lib/coordinate.js'

interface NodeCoordinate {
  Node: string
  Coord: Coordinate
}

export default class Rtt extends ApiCommand<typeof Rtt> {
  static override summary = 'Estimate the network round trip time between two nodes.'
  static override description =
    'From the network coordinates the agents learn by gossip (Vivaldi, as Serf). With one node the other is this agent. -wan compares servers in the WAN pool, named <node>.<datacenter>.'
  static override usage = 'rtt [-wan] NODE1 [NODE2]'
  static override examples = ['<%= config.bin %> rtt node1', '<%= config.bin %> rtt node1 node2', '<%= config.bin %> rtt -wan server1.dc1 server2.dc2']
  static override flags = {
    wan: Flags.boolean({ description: 'Use WAN coordinates (servers of every datacenter) instead of LAN ones.' }),
  }
  static override args = {
    node1: Args.string({ description: 'A node name.', required: true }),
    node2: Args.string({ description: 'Another node name. Default: this agent.' }),
  }

  async run(): Promise<void> {
    const { wan } = this.flags
    const self = await this.attempt('Unable to look up agent info: ', () => this.client.json<{ Config: { NodeName: string; Datacenter: string } }>('GET', '/v1/agent/self'))
    const node1 = this.args.node1
    const node2 = this.args.node2 ?? (wan ? `${self.Config.NodeName}.${self.Config.Datacenter}` : self.Config.NodeName)
    const coords = wan ? await this.#wan() : await this.#lan()
    const find = (name: string): Coordinate => {
      const c = coords.find((e) => e.Node === name)?.Coord
      if (!c || !isValidCoordinate(c)) this.error(`Could not find a coordinate for node "${name}"`, { exit: 1 })
      return c
    }
    const a = find(node1)
    const b = find(node2)
    this.log(`Estimated ${node1} <-> ${node2} rtt: ${(distanceSeconds(a, b) * 1000).toFixed(3)} ms (using ${wan ? 'WAN' : 'LAN'} coordinates)`)
  }

  #lan(): Promise<NodeCoordinate[]> {
    return this.attempt('Error getting coordinates: ', () => this.client.json<NodeCoordinate[]>('GET', '/v1/coordinate/nodes'))
  }

  /** WAN coordinates come per datacenter with bare node names; the WAN pool names them <node>.<dc>. */
  async #wan(): Promise<NodeCoordinate[]> {
    const maps = await this.attempt('Error getting coordinates: ', () => this.client.json<Array<{ Datacenter: string; Coordinates: NodeCoordinate[] }>>('GET', '/v1/coordinate/datacenters'))
    return maps.flatMap((m) => m.Coordinates.map((c) => ({ Node: `${c.Node}.${m.Datacenter}`, Coord: c.Coord })))
  }
}
