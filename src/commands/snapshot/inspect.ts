import { Args, Command, Flags } from '@oclif/core'
import { columnize } from '../../client/format.js'
import { inspectSnapshotFile } from '../../client/snapshot-file.js'
import { exitWithError } from '../../lib/command-errors.js'

export default class Inspect extends Command {
  static override summary = 'Show what a snapshot file holds: its ID, size, index, term, and its records by type.'
  static override examples = ['<%= config.bin %> snapshot inspect backup.snap', '<%= config.bin %> snapshot inspect -format=json backup.snap']

  static override flags = {
    format: Flags.string({ description: 'Output format.', options: ['pretty', 'json'], default: 'pretty' }),
  }

  static override args = { file: Args.string({ description: 'A snapshot written by `snapshot save`.', required: true }) }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect)
    let info: Awaited<ReturnType<typeof inspectSnapshotFile>>
    try {
      info = await inspectSnapshotFile(args.file)
    } catch (err) {
      throw Object.assign(new Error(`Error inspecting snapshot: ${(err as Error).message}`), { oclif: { exit: 1 } })
    }
    const { meta, types } = info
    if (flags.format === 'json') {
      this.log(JSON.stringify({ Meta: meta, Stats: types.map((t) => ({ Name: t.type, Count: t.count, Sum: t.bytes })), TotalSize: types.reduce((n, t) => n + t.bytes, 0) }, null, 2))
      return
    }
    this.log(columnize([['ID', meta.ID], ['Size', String(meta.Size)], ['Index', String(meta.Index)], ['Term', String(meta.Term)], ['Version', String(meta.Version)]]))
    this.log('')
    const total = types.reduce((n, t) => n + t.bytes, 0)
    this.log(columnize([['Type', 'Count', 'Size'], ['----', '----', '----'], ...types.map((t) => [t.type, String(t.count), byteSize(t.bytes)]), ['----', '----', '----'], ['Total', '', byteSize(total)]]))
  }

  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<unknown> {
    exitWithError(this, err, 1)
  }
}

/** Sizes as Consul prints them (humanize: B, KB, MB with one decimal). */
function byteSize(n: number): string {
  if (n < 1000) return `${n}B`
  if (n < 1_000_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}KB`
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}MB`
}
