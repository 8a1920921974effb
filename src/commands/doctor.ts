import { Command, Flags } from '@oclif/core'
import { Chalk } from 'chalk'
import { runDoctor } from '../agent/doctor.js'
import { colourEnabled } from '../lib/colour.js'

export default class Doctor extends Command {
  static override summary = 'Check this node\'s set-up for an agent and name the fix for what is wrong (ours; Consul has no such command).'
  static override description =
    'Reads the configuration as `consul agent` would (a bad gossip key included) and checks that data_dir is writable, that every ' +
    'port the agent would listen on is free (or held by this node\'s running agent, whose servers\' clocks it then compares with this ' +
    'one), that the TLS files are readable and parse, and the open-file limit. Exits 1 when something fails, 0 otherwise (warnings too).'
  static override examples = [
    '<%= config.bin %> doctor -config-dir=/etc/consul.d',
    '<%= config.bin %> doctor -config-file=server.hcl -data-dir=/var/lib/consul -format=json',
  ]
  static override flags = {
    'config-file': Flags.string({ description: 'A config file (repeatable), as consul agent takes it.', multiple: true }),
    'config-dir': Flags.string({ description: 'A config directory (repeatable).', multiple: true }),
    'data-dir': Flags.string({ description: 'The data directory, when the files do not set it.' }),
    dev: Flags.boolean({ description: 'Check a -dev agent\'s set-up (no data_dir).' }),
    server: Flags.boolean({ description: 'The agent is a server (its RPC and WAN ports are checked too).' }),
    encrypt: Flags.string({ description: 'The gossip key, when given on the command line.' }),
    format: Flags.string({ description: 'Output format.', options: ['text', 'json'], default: 'text' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor)
    const findings = await runDoctor({ configFile: flags['config-file'], configDir: flags['config-dir'], dataDir: flags['data-dir'], dev: flags.dev, server: flags.server || undefined, encrypt: flags.encrypt })
    const failed = findings.some((f) => f.status === 'fail')
    if (flags.format === 'json') this.log(JSON.stringify(findings, null, 2))
    else {
      const c = new Chalk({ level: colourEnabled(process.stdout) ? 1 : 0 })
      const mark = { ok: c.green('ok  '), warn: c.yellow('warn'), fail: c.red('FAIL') }
      for (const f of findings) {
        this.log(`${mark[f.status]}  ${f.check.padEnd(16)} ${f.detail}`)
        if (f.fix && f.status !== 'ok') this.log(`      ${''.padEnd(16)} fix: ${f.fix}`)
      }
      this.log(failed ? c.red('\nThis node is not ready: fix what FAILed above.') : '\nThis node is ready.')
    }
    this.exit(failed ? 1 : 0)
  }
}
