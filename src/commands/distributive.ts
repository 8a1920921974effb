import { Command, Errors, Flags } from '@oclif/core'
import { parseDurationMs } from '../lib/duration.js'
import { VERSION } from '../version.js'
import { killRunningCommands } from '../distributive/host.js'
import { runDistributive } from '../distributive/index.js'
import { DISTRIBUTIVE_LIMITS } from '../distributive/limits.js'
import { EXIT, parseVerbosity, configErrorLine } from '../distributive/report.js'
import { colourEnabled } from '../lib/colour.js'

/** `--timeout`: a Go duration (`10s`, `500ms`) or bare seconds (`10`), as Nagios plugins take `-t 10`. */
function parseTimeout(s: string): number {
  const ms = /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : parseDurationMs(s)
  if (!(ms > 0)) throw new Error(`bad --timeout ${JSON.stringify(s)}: must be positive`)
  return ms
}

export default class DistributiveCommand extends Command {
  static override summary = 'Verify this node’s configuration from checklists and report as a Nagios plugin.'
  static override description =
    'Reads Distributive checklists (v0.1–v0.2.1 JSON with "Check", v0.2.2–v0.2.5 JSON with "ID", v0.3 YAML with "id"), ' +
    'runs every check concurrently with a per-check timeout, prints one Nagios status line on stdout followed by the ' +
    'failing checks, and exits 0 (all passed), 1 (only warnings), 2 (a check failed) or 3 (bad checklist, or a check ' +
    'could not run). Also installed as `distributive`.'
  static override examples = [
    '<%= config.bin %> distributive -f /etc/distributive.d/consul-node.json',
    '<%= config.bin %> distributive -d /etc/distributive.d/ --verbosity=info',
    'cat checklist.yml | <%= config.bin %> distributive -s --format json',
    '<%= config.bin %> distributive -u https://example.com/checks.json --no-cache',
  ]
  static override flags = {
    file: Flags.string({ char: 'f', description: 'Read a checklist from a file (.json, .yml, .yaml).' }),
    directory: Flags.string({ char: 'd', description: 'Read every *.yaml, *.yml and *.json checklist in this directory (default /etc/distributive.d/).' }),
    url: Flags.string({ char: 'u', description: 'Read a checklist from a URL (cached; see --no-cache).' }),
    stdin: Flags.boolean({ char: 's', description: 'Read a checklist from stdin.' }),
    'no-cache': Flags.boolean({ description: 'Fetch --url even when a cached copy exists.' }),
    timeout: Flags.string({ char: 't', description: 'Per-check timeout, a duration (10s, 500ms) or seconds.', default: `${DISTRIBUTIVE_LIMITS.checkTimeoutMsDefault / 1000}s` }),
    format: Flags.string({ description: 'Output format.', options: ['nagios', 'json'], default: 'nagios' }),
    verbosity: Flags.string({ description: 'panic|fatal|error: status line only; warn: and failures; info: every check; debug: timings.', default: 'warn' }),
    version: Flags.boolean({ char: 'v', description: 'Print the version and exit (upstream printed v0.2.5 here).' }),
    'legacy-exit-codes': Flags.boolean({ description: 'Upstream exit codes: 1 when anything failed or the checklist is bad, else 0.' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(DistributiveCommand)
    // Killed by Nagios/Consul at their timeout: take the checks' commands along (they run in their own groups).
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        killRunningCommands()
        process.exit(EXIT.unknown)
      })
    }
    if (flags.version) {
      this.log(`distributive ${VERSION} (consulate; reads Distributive v0.1–v0.3 checklists)`)
      return
    }
    const result = await runDistributive({
      file: flags.file,
      directory: flags.directory,
      url: flags.url,
      stdin: flags.stdin,
      noCache: flags['no-cache'],
      timeoutMs: parseTimeout(flags.timeout),
      format: flags.format as 'nagios' | 'json',
      verbosity: parseVerbosity(flags.verbosity),
      legacyExitCodes: flags['legacy-exit-codes'],
      color: colourEnabled(process.stdout),
    })
    process.stdout.write(result.stdout)
    this.exit(result.exitCode)
  }

  /** Bad flags are a configuration error too: one UNKNOWN line and exit 3, never a stack trace. */
  protected override async catch(err: Error & { oclif?: { exit?: number | false } }): Promise<void> {
    if (err instanceof Errors.ExitError) throw err
    process.stdout.write(configErrorLine(err.message.split('\n').find((l) => l.trim()) ?? err.message))
    this.exit(EXIT.unknown)
  }
}
