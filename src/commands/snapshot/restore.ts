import { readFileSync } from 'node:fs'
import { Args } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../../client/api-command.js'

export default class Restore extends ApiCommand<typeof Restore> {
  static override summary = 'Restore a snapshot: every server replaces its state with the snapshot\'s.'
  static override description = 'The restore goes through the raft log, so every server of the datacenter applies it at the same index. Whatever the servers held before is replaced; agents re-register their own services and checks by themselves.'
  static override examples = ['<%= config.bin %> snapshot restore backup.snap']

  static override flags = { ...datacenterFlag }
  static override args = { file: Args.string({ description: 'A snapshot written by `snapshot save`.', required: true }) }

  async run(): Promise<void> {
    let body: Buffer
    try {
      body = readFileSync(this.args.file)
    } catch (err) {
      throw Object.assign(new Error(`Error opening snapshot file: ${(err as Error).message}`), { oclif: { exit: 1 } })
    }
    await this.attempt('Error restoring snapshot: ', () => this.client.call('PUT', '/v1/snapshot', { body }))
    this.log('Restored snapshot')
  }
}
