import { Args } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import { toJson } from '../../lib/json.js'

export default class KvExport extends ApiCommand<typeof KvExport> {
  static override summary = 'Export a KV tree as JSON (Consul\'s format, readable by kv import).'
  static override examples = ['<%= config.bin %> kv export web/ > web.json', '<%= config.bin %> kv export']
  static override args = { prefix: Args.string({ description: 'Prefix to export' }) }

  static override flags = { ...datacenterFlag }

  async run(): Promise<void> {
    const pairs = await this.client.kvList(this.args.prefix ?? '')
    const exported = pairs.map((p) => ({ key: p.Key, flags: p.Flags, value: p.Value ?? '' }))
    this.log(toJson(exported, true).replace(/^( {4})+/gm, (m) => '\t'.repeat(m.length / 4)))
  }
}
