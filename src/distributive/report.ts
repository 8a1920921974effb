import type { Checklist } from './checklist.js'
import type { RunReport } from './runner.js'
import { DISTRIBUTIVE_LIMITS } from './limits.js'
import type { Status } from './types.js'

/** Nagios plugin exit codes. */
export const EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const

/** Upstream's logrus levels; from `info` on passing checks are listed too, `debug` adds timings. */
export const VERBOSITIES = ['panic', 'fatal', 'error', 'warn', 'info', 'debug'] as const
export type Verbosity = (typeof VERBOSITIES)[number]

/** Upstream treated an invalid or empty level as warn. */
export function parseVerbosity(s: string | undefined): Verbosity {
  const v = (s ?? '').toLowerCase()
  return v === 'warning' ? 'warn' : (VERBOSITIES as readonly string[]).includes(v) ? (v as Verbosity) : 'warn'
}

/**
 * The run's exit code. Nagios: a failure is CRITICAL (2); a check that could not run makes the run UNKNOWN (3)
 * unless something failed outright; warning-severity failures alone give WARNING (1).
 * Legacy (upstream): 1 when any check failed, else 0; checks that could not run do not count.
 */
export function exitCode(report: RunReport, legacy = false): number {
  const c = report.counts
  if (legacy) return c.critical + c.warning > 0 ? 1 : 0
  if (c.critical > 0) return EXIT.critical
  if (c.unknown > 0) return EXIT.unknown
  if (c.warning > 0) return EXIT.warning
  return EXIT.ok
}

/** ANSI foreground colours (a dependency would cost more start-up time than these four numbers). */
const ANSI: Record<Status, number> = { passing: 32, warning: 33, critical: 31, unknown: 35 }

const WORD: Record<number, string> = { 0: 'OK', 1: 'WARNING', 2: 'CRITICAL', 3: 'UNKNOWN' }
const TAG: Record<Status, string> = { passing: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' }

function describe(o: RunReport['outcomes'][number]): string {
  const params = o.check.parameters.map((p) => (/\s/.test(p) || p === '' ? JSON.stringify(p) : p)).join(' ')
  const text = `${o.check.id}${params ? ' ' + params : ''}`
  return text.length > 80 ? text.slice(0, 79) + '…' : text
}

function perfdata(report: RunReport): string {
  const c = report.counts
  return `passed=${c.passed} failed=${c.critical} warning=${c.warning} unknown=${c.unknown} time=${(report.elapsedMs / 1000).toFixed(2)}s`
}

/** The Nagios status line: `DISTRIBUTIVE CRITICAL - 2 of 14 checks failed: … | passed=12 failed=2 …`. */
export function statusLine(report: RunReport, code: number): string {
  const c = report.counts
  const { outcomes } = report
  let text: string
  // "List A: check1, check2; List B: check3; and 4 more", naming each checklist once.
  const list = (status: Status): string => {
    const bad = outcomes.filter((o) => o.status === status)
    const groups: string[] = []
    let current: Checklist | undefined
    for (const o of bad.slice(0, DISTRIBUTIVE_LIMITS.statusLineFailuresMax)) {
      if (o.checklist !== current) groups.push((o.checklist.name ? `${o.checklist.name}: ` : '') + describe(o))
      else groups[groups.length - 1] += `, ${describe(o)}`
      current = o.checklist
    }
    if (bad.length > DISTRIBUTIVE_LIMITS.statusLineFailuresMax) groups.push(`and ${bad.length - DISTRIBUTIVE_LIMITS.statusLineFailuresMax} more`)
    return groups.join('; ')
  }
  if (c.critical > 0) {
    text = `${c.critical} of ${c.total} checks failed: ${list('critical')}`
    if (c.unknown > 0) text += ` (${c.unknown} could not run)`
  } else if (c.unknown > 0) text = `${c.unknown} of ${c.total} checks could not run: ${list('unknown')}`
  else if (c.warning > 0) text = `${c.warning} of ${c.total} checks warned: ${list('warning')}`
  else text = `${c.passed} of ${c.total} checks passed`
  const head = `DISTRIBUTIVE ${WORD[code] ?? WORD[c.critical > 0 ? 2 : 0]} - `
  // Perfdata must survive: cut the text, never the numbers after the bar.
  const room = DISTRIBUTIVE_LIMITS.statusLineCharsMax - head.length
  if (text.length > room) text = text.slice(0, room - 1) + '…'
  return `${head}${text.replace(/\|/g, '/')} | ${perfdata(report)}`
}

export interface FormatOptions {
  verbosity?: Verbosity
  color?: boolean
  legacyExitCodes?: boolean
}

/** Status line, then one block per reported check (failures always; passes from `info`; timings at `debug`). */
export function formatNagios(report: RunReport, opts: FormatOptions = {}): string {
  const verbosity = opts.verbosity ?? 'warn'
  const paint = (status: Status, s: string): string => (opts.color ? `\x1b[${ANSI[status]}m${s}\x1b[39m` : s)
  const code = exitCode(report, false)
  const lines = [statusLine(report, code)]
  const level = VERBOSITIES.indexOf(verbosity)
  if (level < VERBOSITIES.indexOf('warn')) return lines.join('\n') + '\n'
  for (const o of report.outcomes) {
    if (o.status === 'passing' && level < VERBOSITIES.indexOf('info')) continue
    const where = `${o.checklist.name || o.checklist.source} #${o.check.position}`
    const timing = level >= VERBOSITIES.indexOf('debug') ? ` (${o.durationMs.toFixed(1)} ms, ${o.checklist.source})` : ''
    const [first, ...rest] = (o.message || '').split('\n')
    lines.push(`${paint(o.status, `[${TAG[o.status]}]`)} ${where} ${describe(o)}${timing}${first ? ': ' + first : ''}`)
    for (const r of rest) lines.push(`    ${r.replace(/^\t/, '')}`)
  }
  return lines.join('\n') + '\n'
}

/** Machine-readable report (`--format json`). */
export function formatJson(report: RunReport, legacy = false): string {
  const code = exitCode(report, legacy)
  return (
    JSON.stringify(
      {
        status: WORD[exitCode(report, false)],
        exitCode: code,
        counts: report.counts,
        timeSeconds: Number((report.elapsedMs / 1000).toFixed(3)),
        checks: report.outcomes.map((o) => ({
          checklist: o.checklist.name,
          source: o.checklist.source,
          position: o.check.position,
          id: o.check.id,
          name: o.check.name,
          parameters: o.check.parameters,
          severity: o.check.severity,
          status: o.status,
          message: o.message,
          durationMs: Number(o.durationMs.toFixed(3)),
        })),
      },
      null,
      2,
    ) + '\n'
  )
}

/** A configuration error as Nagios output: UNKNOWN, one line. */
export function configErrorLine(message: string): string {
  return `DISTRIBUTIVE UNKNOWN - ${message.split('\n')[0]!.replace(/\|/g, '/')}\n`
}
