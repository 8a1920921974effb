import { Args } from '@oclif/core'
import { ConsulkvCommand, consulkvClient, consulkvFlags } from '../../client/consulkv.js'

export default class ConsulkvDelete extends ConsulkvCommand {
  static override summary = 'Delete KEY (or, with --recurse, every key under it).'
  static override examples = ['consulkv delete nodes/config/test', 'consulkv delete --ssl --recurse nodes/config/test']
  static override args = { key: Args.string({ description: 'Key or prefix', required: true }) }
  static override flags = consulkvFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConsulkvDelete)
    const client = consulkvClient(flags)
    try {
      await client.kvDelete(args.key, { recurse: flags.recurse })
    } finally {
      client.close()
    }
  }
}
