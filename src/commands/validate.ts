import { statSync } from 'node:fs'
import { Command, Errors, Flags } from '@oclif/core'
import { loadConfig } from '../agent/config.js'
import { ConfigError } from '../lib/errors.js'
import { exitWithError } from '../lib/command-errors.js'

export default class Validate extends Command {
  static override summary = 'Check config files and directories as `consul agent` would read them, without starting it.'
  static override usage = 'validate [-quiet] FILE_OR_DIRECTORY...'
  static override examples = ['<%= config.bin %> validate /etc/consul.d', '<%= config.bin %> validate -quiet server.json tls.hcl']
  static override strict = false
  static override flags = {
    quiet: Flags.boolean({ description: 'Print nothing when the configuration is valid.' }),
  }

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Validate)
    const paths = argv.map(String)
    if (paths.length === 0) this.error('Must specify at least one config file or directory', { exit: 1 })
    const configFile: string[] = []
    const configDir: string[] = []
    for (const path of paths) {
      let dir: boolean
      try {
        dir = statSync(path).isDirectory()
      } catch (err) {
        throw new ConfigError(path, '', `cannot read: ${(err as Error).message}`)
      }
      ;(dir ? configDir : configFile).push(path)
    }
    // The data dir is usually given as -data-dir when the agent starts, so files without one are not invalid.
    const { warnings } = loadConfig({ configFile, configDir, dataDir: '/nonexistent/consul-validate' })
    for (const w of warnings) this.logToStderr(w)
    if (!flags.quiet) this.log('Configuration is valid!')
  }

  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    const prefix = err instanceof ConfigError ? 'Config validation failed: ' : ''
    exitWithError(this, Object.assign(err, { oclif: { exit: 1 } }), 1, prefix)
  }
}
