import { Args, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import { readValueArg } from '../../client/value-arg.js'

export default class KvPut extends ApiCommand<typeof KvPut> {
  static override summary = 'Write a value to the KV store.'
  static override description = 'VALUE may be given inline, as @file to read a file, or as - to read standard input.'
  static override examples = [
    '<%= config.bin %> kv put web/key1 test',
    '<%= config.bin %> kv put -flags=42 web/key1 test',
    '<%= config.bin %> kv put -cas -modify-index=12 web/key1 newer',
    '<%= config.bin %> kv put web/config @config.json',
    'echo hello | <%= config.bin %> kv put web/greeting -',
  ]
  static override usage = 'kv put [options] KEY [DATA]'
  static override strict = false
  static override args = {
    key: Args.string({ description: 'Key to write' }),
    value: Args.string({ description: 'Value, @file, or - for stdin' }),
  }
  static override flags = {
    ...datacenterFlag,
    flags: Flags.string({ description: 'Unsigned 64-bit integer stored with the value.' }),
    cas: Flags.boolean({ description: 'Check-and-set: write only if the key\'s ModifyIndex equals -modify-index (0: only if absent).' }),
    'modify-index': Flags.integer({ description: 'ModifyIndex for -cas.', min: 0 }),
    base64: Flags.boolean({ description: 'The value is base64-encoded; decode it before storing.' }),
    acquire: Flags.boolean({ description: 'Acquire the lock on the key with -session.' }),
    release: Flags.boolean({ description: 'Release the lock on the key held by -session.' }),
    session: Flags.string({ description: 'Session ID for -acquire or -release.' }),
  }

  async run(): Promise<void> {
    const { key, value } = this.args
    const f = this.flags
    // Consul's own argument errors, before oclif's generic ones.
    if (!key) this.error('Error! Missing KEY argument', { exit: 1 })
    if (this.positional.length > 2) this.error(`Error! Too many arguments (expected 1 or 2, got ${this.positional.length})`, { exit: 1 })
    if ((f.acquire || f.release) && !f.session) this.error('Error! Missing -session (required with -acquire and -release)', { exit: 1 })
    if (f.cas && f['modify-index'] === undefined) this.error('Must specify -modify-index with -cas!', { exit: 1 })
    let data: Buffer
    try {
      data = await readValueArg(value ?? '')
    } catch (err) {
      this.error(`Error! Failed to read ${value === '-' ? 'stdin' : 'file'}: ${(err as Error).message}`, { exit: 1 })
    }
    if (f.base64) data = Buffer.from(data.toString('utf8'), 'base64')
    const put = (prefix: string) =>
      this.attempt(prefix, () =>
        this.client.kvPut(key, data, {
          flags: f.flags,
          cas: f.cas ? f['modify-index'] : undefined,
          acquire: f.acquire ? f.session : undefined,
          release: f.release ? f.session : undefined,
        }),
      )
    if (f.cas) {
      if (!(await put(`Error! Did not write to ${key}: `))) this.error(`Error! Did not write to ${key}: CAS failed`, { exit: 1 })
      this.log(`Success! Data written to: ${key}`)
    } else if (f.acquire) {
      if (!(await put('Error! Failed writing data: '))) this.error('Error! Did not acquire lock', { exit: 1 })
      this.log(`Success! Lock acquired on: ${key}`)
    } else if (f.release) {
      if (!(await put('Error! Failed writing data: '))) this.error('Error! Did not release lock', { exit: 1 })
      this.log(`Success! Lock released on: ${key}`)
    } else {
      await put('Error! Failed writing data: ')
      this.log(`Success! Data written to: ${key}`)
    }
  }
}
