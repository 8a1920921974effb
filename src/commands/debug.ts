import { existsSync } from 'node:fs'
import { Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'
import { archive, capture, CAPTURE_TARGETS, type CaptureTarget } from '../client/debug-capture.js'
import { parseDurationMs } from '../lib/duration.js'

export default class Debug extends ApiCommand<typeof Debug> {
  static override summary = 'Capture a running agent\'s state, metrics, log and profiles for a bug report (a .tar.gz, secrets redacted).'
  static override examples = [
    '<%= config.bin %> debug',
    '<%= config.bin %> debug -duration=30s -interval=10s -output=/tmp/bundle',
    '<%= config.bin %> debug -capture=metrics -capture=logs',
  ]
  static override flags = {
    duration: Flags.string({ description: 'How long to capture (default: 2m).' }),
    interval: Flags.string({ description: 'How often to take the metrics (default: 30s, at most the duration).' }),
    output: Flags.string({ description: 'Path of the bundle, without .tar.gz (default: consul-debug-<unix seconds>).' }),
    capture: Flags.string({ description: `Parts to capture; repeatable: ${CAPTURE_TARGETS.join(', ')} (default: all).`, multiple: true }),
    archive: Flags.boolean({ description: 'Write a .tar.gz of the capture (default); --no-archive keeps the directory.', default: true, allowNo: true }),
  }

  async run(): Promise<void> {
    const duration = this.#duration('duration', this.flags.duration ?? '2m')
    const interval = Math.min(duration, this.#duration('interval', this.flags.interval ?? '30s'))
    const targets = (this.flags.capture ?? [...CAPTURE_TARGETS]) as CaptureTarget[]
    const bad = targets.find((t) => !CAPTURE_TARGETS.includes(t))
    if (bad) this.error(`Error: unknown -capture target "${bad}": the targets are ${CAPTURE_TARGETS.join(', ')}`, { exit: 1 })
    const dir = this.flags.output ?? `consul-debug-${Math.floor(Date.now() / 1000)}`
    if (existsSync(dir) || existsSync(`${dir}.tar.gz`)) this.error(`Error: output ${dir} already exists`, { exit: 1 })
    const stop = new AbortController()
    process.once('SIGINT', () => stop.abort(new Error('interrupted')))
    this.log(`==> Starting debugger and capturing static information...\n    Capture: ${targets.join(', ')}, for ${duration / 1000}s every ${interval / 1000}s`)
    const report = await this.attempt('Error capturing: ', () => capture({ client: this.client, dir, durationMs: duration, intervalMs: interval, targets, signal: stop.signal, progress: (l) => this.log(`    ${l}`) }))
    for (const s of report.skipped) this.logToStderr(`==> Not captured: ${s}`)
    const out = this.flags.archive ? await archive(dir) : dir
    this.log(report.partial ? `==> Interrupted: partial capture saved to ${out}` : `==> Saved debug archive: ${out}`)
  }

  #duration(flag: string, text: string): number {
    try {
      const ms = parseDurationMs(text)
      if (ms < 1000) throw new Error('at least 1s')
      return ms
    } catch (err) {
      return this.error(`Error: invalid -${flag} "${text}": ${(err as Error).message}`, { exit: 1 })
    }
  }
}
