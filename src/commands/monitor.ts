import chalk from 'chalk'
import { Flags } from '@oclif/core'
import { ApiCommand } from '../client/api-command.js'
import { colourEnabled } from '../lib/colour.js'

const TAG_COLOURS: Record<string, (s: string) => string> = { TRACE: chalk.gray, DEBUG: chalk.gray, INFO: chalk.green, WARN: chalk.yellow, ERROR: chalk.red }

export default class Monitor extends ApiCommand<typeof Monitor> {
  static override summary = 'Stream the log of a running agent (GET /v1/agent/monitor) until interrupted.'
  static override examples = ['<%= config.bin %> monitor', '<%= config.bin %> monitor -log-level=debug', '<%= config.bin %> monitor -log-json | jq .']
  static override flags = {
    'log-level': Flags.string({ description: 'Lowest level to show: trace, debug, info, warn or error (default: info). May be below the agent\'s own.' }),
    'log-json': Flags.boolean({ description: 'JSON lines (@level, @message, @module, @timestamp), as log_json.' }),
  }

  async run(): Promise<void> {
    const stop = new AbortController()
    process.once('SIGINT', () => stop.abort())
    process.once('SIGTERM', () => stop.abort())
    const colour = !this.flags['log-json'] && colourEnabled(process.stdout) && chalk.level > 0
    const paint = (text: string): string => text.replace(/ \[(TRACE|DEBUG|INFO|WARN|ERROR)\]/g, (m, tag: string) => ` ${TAG_COLOURS[tag]!(`[${tag}]`)}`)
    try {
      await this.client.call('GET', '/v1/agent/monitor', {
        query: { loglevel: this.flags['log-level'] ?? 'info', logjson: this.flags['log-json'] || undefined },
        signal: stop.signal,
        onData: (chunk) => process.stdout.write(colour ? paint(chunk.toString('utf8')) : chunk),
      })
    } catch (err) {
      if (stop.signal.aborted) return
      throw err
    }
    if (stop.signal.aborted) return
    this.error('Remote side ended the monitor! This usually means that the remote side has exited or crashed.', { exit: 1 })
  }
}
