import type { Host } from './host.js'

/** A check's outcome. `unknown` means the check could not run here (no systemd, no Docker, timeout), never a pass. */
export type Status = 'passing' | 'warning' | 'critical' | 'unknown'

export interface CheckResult {
  status: Status
  message: string
}

/** A parsed check, ready to run against a host. Built once per checklist entry by its definition's `parse`. */
export type CheckRun = (host: Host, signal: AbortSignal) => Promise<CheckResult>

/** One check type: its names (all aliases of the three upstream versions) and how to parse its parameters. */
export interface CheckDef {
  names: readonly string[]
  /** Parameter count: exact, or [min, max] (max Infinity for variadic checks such as ZooKeeperRUOK). */
  params: number | readonly [number, number]
  /** One-line summary for `--help` and docs. */
  summary: string
  /** Validates and converts the string parameters; throws ParamError on bad input. */
  parse(params: readonly string[]): CheckRun
}

/** A parameter that does not parse: becomes a configuration error naming the file and the check. */
export class ParamError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ParamError'
  }
}

/** A checklist that cannot be used: exit 3 with this message (which already names the source and check). */
export class ChecklistError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ChecklistError'
  }
}

/** A check could not run on this host (missing executable, no daemon): reported as UNKNOWN with the reason. */
export class CannotRunError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CannotRunError'
  }
}

export const pass = (message = ''): CheckResult => ({ status: 'passing', message })
export const fail = (message: string): CheckResult => ({ status: 'critical', message })
export const unknown = (message: string): CheckResult => ({ status: 'unknown', message })

/** Upstream's GenericError shape: what was asked for and (up to a limit) what was found. */
export function mismatch(what: string, specified: string, actual: readonly string[], limit: number): CheckResult {
  const shown = actual.slice(0, limit).join(', ')
  const more = actual.length > limit ? `, … (${actual.length - limit} more)` : ''
  return fail(`${what}:\n\tSpecified: ${specified}\n\tActual: ${shown}${more}`)
}
