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
    const index = this.flags['modify-index']
    if (!key && !recurse) this.error('Error! Missing KEY argument', { exit: 1 })
    if (cas && !index) this.error('Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.', { exit: 1 })
    if (index !== undefined && index !== 0 && !cas) this.error('Cannot specify -modify-index without -cas!', { exit: 1 })
    if (recurse && cas) this.error('Cannot specify both -cas and -recurse!', { exit: 1 })
    if (recurse) {
      await this.attempt(`Error! Did not delete prefix ${key}: `, () => this.client.kvDelete(key, { recurse }))
      this.log(`Success! Deleted keys with prefix: ${key}`)
      return
    }
    const prefix = cas ? `Error! Did not delete key ${key}: ` : `Error deleting key ${key}: `
    const ok = await this.attempt(prefix, () => this.client.kvDelete(key, { cas: cas ? index : undefined }))
    if (!ok) this.error(`Error! Did not delete key ${key}: CAS failed`, { exit: 1 })
    this.log(`Success! Deleted key: ${key}`)
  }
}
