import { Args } from '@oclif/core'
import { ConsulkvCommand, consulkvClient, consulkvFlags } from '../../client/consulkv.js'

export default class ConsulkvWrite extends ConsulkvCommand {
  static override summary = 'Write VALUE (empty when omitted) to KEY.'
  static override examples = ['consulkv write nodes/config/test "Hello World"', 'consulkv write --ssl --consul=127.0.0.1:8501 nodes/config/test "Hello World"']
  static override args = {
    key: Args.string({ description: 'Key', required: true }),
    value: Args.string({ description: 'Value', default: '' }),
  }
  static override flags = consulkvFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConsulkvWrite)
    const client = consulkvClient(flags)
    try {
      await client.kvPut(args.key, args.value)
    } finally {
      client.close()
    }
  }
}
