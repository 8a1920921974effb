import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { Args, Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'
import { verifySnapshotFile } from '../../client/snapshot-file.js'

export default class Save extends ApiCommand<typeof Save> {
  static override summary = 'Save a snapshot of the servers\' state (KV, catalog, sessions, prepared queries) to a file.'
  static override description = 'The snapshot is written to FILE.tmp, read back and checked, then renamed to FILE. By default it is taken from the leader; -stale lets any server answer.'
  static override examples = ['<%= config.bin %> snapshot save backup.snap', '<%= config.bin %> snapshot save -stale backup.snap']

  static override flags = {
    ...datacenterFlag,
    stale: Flags.boolean({ description: 'Let any server answer with its own, possibly stale, state.' }),
  }

  static override args = { file: Args.string({ description: 'Where to write the snapshot.', required: true }) }

  async run(): Promise<void> {
    const file = this.args.file
    const res = await this.attempt('Error saving snapshot: ', () => this.client.call('GET', '/v1/snapshot', { query: { stale: this.flags.stale } }))
    const tmp = `${file}.tmp`
    writeFileSync(tmp, res.body)
    try {
      const { meta } = await verifySnapshotFile(tmp)
      renameSync(tmp, file)
      this.log(`Saved and verified snapshot to index ${meta.Index}`)
    } catch (err) {
      rmSync(tmp, { force: true })
      throw Object.assign(new Error(`Error verifying snapshot file: ${(err as Error).message}`), { oclif: { exit: 1 } })
    }
  }
}
