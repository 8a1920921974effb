import { Args } from '@oclif/core'
import { ConsulkvCommand, consulkvClient, consulkvFlags, CONSULKV_EXIT } from '../../client/consulkv.js'
import { kvValueText } from '../../client/format.js'

export default class ConsulkvRead extends ConsulkvCommand {
  static override summary = 'Print a key\'s value (or, with --recurse, key: value lines for a prefix).'
  static override examples = [
    'consulkv read nodes/config/test',
    'consulkv read --recurse nodes/',
    'consulkv read --ssl --consul=127.0.0.1:8501 nodes/config/test',
  ]
  static override args = { key: Args.string({ description: 'Key or prefix', required: true }) }
  static override flags = consulkvFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConsulkvRead)
    const client = consulkvClient(flags)
    try {
      if (flags.recurse) {
        const pairs = await client.kvList(args.key)
        if (pairs.length === 0) this.#missing(args.key)
        for (const pair of pairs) this.log(`${pair.Key}: ${kvValueText(pair, false)}`)
        return
      }
      const pair = await client.kvGet(args.key)
      if (!pair) this.#missing(args.key)
      this.log(kvValueText(pair, false))
    } finally {
      client.close()
    }
  }

  #missing(key: string): never {
    this.logToStderr(`consulkv: no key at ${key}`)
    this.exit(CONSULKV_EXIT.missing)
  }
}
