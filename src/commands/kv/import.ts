import { Args, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import { readValueArg } from '../../client/value-arg.js'
import { parseJson, field } from '../../lib/json.js'

export default class KvImport extends ApiCommand<typeof KvImport> {
  static override summary = 'Import KV pairs from the JSON that kv export writes.'
  static override examples = ['<%= config.bin %> kv import @web.json', '<%= config.bin %> kv export | <%= config.bin %> kv import -prefix=copy/ -']
  static override args = { data: Args.string({ description: 'JSON, @file, or - for stdin', required: true }) }
  static override flags = { ...datacenterFlag, prefix: Flags.string({ description: 'Prefix to put in front of every imported key.', default: '' }) }

  async run(): Promise<void> {
    const text = (await readValueArg(this.args.data)).toString('utf8')
    let entries: unknown
    try {
      entries = parseJson(text)
    } catch (err) {
      this.error(`Error! Cannot parse the import data: ${(err as Error).message}`, { exit: 1 })
    }
    if (!Array.isArray(entries)) this.error('Error! Import data must be a JSON array of {key, flags, value}', { exit: 1 })
    for (const [i, entry] of entries.entries()) {
      const key = field(entry, 'key')
      const value = field(entry, 'value') ?? ''
      const flags = field(entry, 'flags') ?? 0
      if (typeof key !== 'string' || typeof value !== 'string') this.error(`Error! Entry ${i} needs a string key and a base64 value`, { exit: 1 })
      const fullKey = this.flags.prefix + key
      await this.client.kvPut(fullKey, Buffer.from(value, 'base64'), { flags: flags as number | bigint })
      this.log(`Imported: ${fullKey}`)
    }
  }
}
