import { Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'
import { columnize } from '../client/format.js'
import { memberStatus, type AgentMember } from '../lib/agent-member.js'


export default class Members extends ApiCommand<typeof Members> {
  static override summary = 'List the members of the cluster as this agent sees them.'
  static override examples = ['<%= config.bin %> members', '<%= config.bin %> members -status=alive']
  static override flags = {
    status: Flags.string({ description: 'Only members whose status matches this regular expression.' }),
    detailed: Flags.boolean({ description: 'Show every tag of each member.' }),
    wan: Flags.boolean({ description: 'List WAN (server) members instead of LAN ones.' }),
  }

  async run(): Promise<void> {
    const members = await this.client.json<AgentMember[]>('GET', '/v1/agent/members', { query: { wan: this.flags.wan || undefined } })
    const status = this.flags.status ? new RegExp(this.flags.status) : undefined
    const rows = members
      .filter((m) => !status || status.test(memberStatus(m)))
      .sort((a, b) => (a.Name < b.Name ? -1 : 1))
      .map((m) => {
        const addr = `${m.Addr}:${m.Port}`
        const state = memberStatus(m)
        if (this.flags.detailed) {
          const tags = Object.keys(m.Tags).sort().map((k) => `${k}=${m.Tags[k]}`).join(',')
          return [m.Name, addr, state, tags]
        }
        const type = m.Tags.role === 'consul' ? 'server' : 'client'
        const build = (m.Tags.build ?? '').split(':')[0] ?? ''
        return [m.Name, addr, state, type, build, m.Tags.vsn ?? '', m.Tags.dc ?? '', 'default', '<all>']
      })
    const header = this.flags.detailed ? ['Node', 'Address', 'Status', 'Tags'] : ['Node', 'Address', 'Status', 'Type', 'Build', 'Protocol', 'DC', 'Partition', 'Segment']
    this.log(columnize([header, ...rows]))
  }
}
