/**
 * distributive: verify a node's configuration from checklists (CiscoCloud Distributive's formats and checks),
 * reporting as a Nagios plugin. See README.md beside this file for the differences from upstream.
 */
import { Host, type HostOptions } from './host.js'
import { exitCode, EXIT, configErrorLine, formatJson, formatNagios, type Verbosity } from './report.js'
import { runChecklists, type RunReport } from './runner.js'
import { loadChecklists, type SourceOptions } from './sources.js'
import { ChecklistError } from './types.js'

export { Host, killRunningCommands, type HostOptions } from './host.js'
export { parseChecklist, type Checklist, type CheckSpec } from './checklist.js'
export { checkNames, lookupCheck, CHECK_DOMAINS } from './registry.js'
export { runChecklists, type RunReport, type CheckOutcome } from './runner.js'
export { exitCode, formatJson, formatNagios, parseVerbosity, statusLine, EXIT } from './report.js'
export { loadChecklists, type SourceOptions } from './sources.js'
export { ChecklistError } from './types.js'

export interface DistributiveOptions extends SourceOptions {
  /** Per-check timeout in milliseconds (default 10 s). */
  timeoutMs?: number
  format?: 'nagios' | 'json'
  verbosity?: Verbosity
  legacyExitCodes?: boolean
  color?: boolean
  /** Where checks look (root, /proc, PATH, DNS); default this machine. */
  host?: Host | HostOptions
  signal?: AbortSignal
}

export interface DistributiveResult {
  exitCode: number
  /** What goes to stdout: the status line and the report. */
  stdout: string
  report?: RunReport
  /** Set when the checklists could not be loaded (exit 3, or 1 with legacy exit codes). */
  configError?: string
}

/** Loads the checklists, runs them and formats the result. Never throws for bad input: that is exit 3. */
export async function runDistributive(opts: DistributiveOptions): Promise<DistributiveResult> {
  const host = opts.host instanceof Host ? opts.host : new Host(opts.host)
  let lists
  try {
    lists = await loadChecklists(opts)
  } catch (err) {
    if (!(err instanceof ChecklistError)) throw err
    const code = opts.legacyExitCodes ? 1 : EXIT.unknown
    const stdout = opts.format === 'json' ? JSON.stringify({ status: 'UNKNOWN', exitCode: code, error: err.message }, null, 2) + '\n' : configErrorLine(err.message)
    return { exitCode: code, stdout, configError: err.message }
  }
  const report = await runChecklists(lists, host, { timeoutMs: opts.timeoutMs, signal: opts.signal })
  const code = exitCode(report, opts.legacyExitCodes)
  const stdout =
    opts.format === 'json'
      ? formatJson(report, opts.legacyExitCodes)
      : formatNagios(report, { verbosity: opts.verbosity, color: opts.color, legacyExitCodes: opts.legacyExitCodes })
  return { exitCode: code, stdout, report }
}

/** Consul's check states, as the agent stores them. */
export type ConsulCheckStatus = 'passing' | 'warning' | 'critical'

/**
 * The agent's native check type (`"distributive": "/path/checklist.json"`): runs a checklist in-process and maps
 * the exit code as Consul maps a script check's (0 passing, 1 warning, anything else critical), with the report
 * as the check's Output.
 */
export async function runDistributiveCheck(file: string, opts: { timeoutMs?: number; signal?: AbortSignal; host?: Host | HostOptions } = {}): Promise<{ status: ConsulCheckStatus; output: string }> {
  const r = await runDistributive({ file, timeoutMs: opts.timeoutMs, signal: opts.signal, host: opts.host, verbosity: 'warn' })
  const status: ConsulCheckStatus = r.exitCode === 0 ? 'passing' : r.exitCode === 1 ? 'warning' : 'critical'
  return { status, output: r.stdout }
}

