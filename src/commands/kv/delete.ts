import { Args, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'

export default class KvDelete extends ApiCommand<typeof KvDelete> {
  static override summary = 'Delete a key, or every key under a prefix, from the KV store.'
  static override examples = [
    '<%= config.bin %> kv delete web/key1',
    '<%= config.bin %> kv delete -recurse web/',
    '<%= config.bin %> kv delete -cas -modify-index=12 web/key1',
  ]
  static override args = { key: Args.string({ description: 'Key or prefix' }) }
  static override flags = {
    ...datacenterFlag,
    recurse: Flags.boolean({ description: 'Delete every key under the prefix.' }),
    cas: Flags.boolean({ description: 'Delete only if the key\'s ModifyIndex equals -modify-index.' }),
    'modify-index': Flags.integer({ description: 'ModifyIndex for -cas.', min: 0 }),
  }

  async run(): Promise<void> {
    const key = this.args.key ?? ''
    const { recurse, cas } = this.flags
    if (!key && !recurse) this.error('Error! Missing KEY argument', { exit: 1 })
    if (recurse && cas) this.error('Cannot specify both -cas and -recurse!', { exit: 1 })
    if (cas && this.flags['modify-index'] === undefined) this.error('Must specify -modify-index with -cas!', { exit: 1 })
    const ok = await this.client.kvDelete(key, { recurse, cas: cas ? this.flags['modify-index'] : undefined })
    if (!ok) this.error(`Error! Did not delete key ${key}: CAS failed`, { exit: 1 })
    this.log(recurse ? `Success! Deleted keys with prefix: ${key}` : `Success! Deleted key: ${key}`)
  }
}
