import { Args, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import { formatKvDetailed, kvValueText } from '../../client/format.js'

const QUERY_FAILED = 'Error querying Consul agent: '

export default class KvGet extends ApiCommand<typeof KvGet> {
  static override summary = 'Read a value, a prefix, or the keys under a prefix from the KV store.'
  static override examples = [
    '<%= config.bin %> kv get web/key1',
    '<%= config.bin %> kv get -recurse web/',
    '<%= config.bin %> kv get -keys -separator=/ web/',
    '<%= config.bin %> kv get -detailed web/key1',
  ]
  static override args = { key: Args.string({ description: 'Key, or prefix with -recurse/-keys' }) }
  static override flags = {
    ...datacenterFlag,
    recurse: Flags.boolean({ description: 'Read every key under the prefix, printed as key:value.' }),
    keys: Flags.boolean({ description: 'List keys under the prefix instead of values.' }),
    separator: Flags.string({ description: 'With -keys, collapse keys at this separator.', default: '/' }),
    detailed: Flags.boolean({ description: 'Print every field of the pair.' }),
    base64: Flags.boolean({ description: 'Print values base64-encoded.' }),
  }

  async run(): Promise<void> {
    const key = this.args.key ?? ''
    const { recurse, keys, separator, detailed, base64 } = this.flags
    if (keys) {
      for (const k of await this.attempt(QUERY_FAILED, () => this.client.kvKeys(key, separator))) this.log(k)
      return
    }
    if (recurse) {
      for (const pair of await this.attempt(QUERY_FAILED, () => this.client.kvList(key))) {
        if (detailed) this.log(formatKvDetailed(pair, base64) + '\n')
        else this.log(`${pair.Key}:${kvValueText(pair, base64)}`)
      }
      return
    }
    if (!key) this.error('Error! Missing KEY argument', { exit: 1 })
    const pair = await this.attempt(QUERY_FAILED, () => this.client.kvGet(key))
    if (!pair) this.error(`Error! No key exists at: ${key}`, { exit: 1 })
    this.log(detailed ? formatKvDetailed(pair, base64) : kvValueText(pair, base64))
  }
}
