import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { CannotRunError, fail, mismatch, pass, ParamError, type CheckDef } from '../types.js'

/** What systemctl prints when there is no running systemd (containers, CI machines). */
const NO_SYSTEMD = /not been booted with systemd|Failed to connect to bus|System has not been booted|Host is down/i

/** Runs systemctl; a missing binary or a host without a running systemd is UNKNOWN, never a pass or a failure. */
function systemctl(host: Host, args: string[], signal: AbortSignal): Promise<string> {
  // The list-* tables are the same for every check of a run: ask systemd once.
  return host.memo(`systemctl ${args.join(' ')}`, async () => {
    const r = await host.exec('systemctl', ['--no-pager', ...args], signal)
    if (NO_SYSTEMD.test(r.output)) throw new CannotRunError(`systemd is not running on this host: ${r.output.trim().split('\n')[0]}`)
    if (r.code !== 0) throw new CannotRunError(`systemctl ${args.join(' ')} exited ${r.code}: ${r.output.trim().split('\n')[0] ?? ''}`)
    return r.stdout
  })
}

/**
 * Splits a systemctl table into rows of named columns, using the header's column offsets (values such as
 * "kobject-uevent 1" or timer dates contain spaces). Stops at the blank line before the legend.
 */
export function parseTable(text: string): Map<string, string>[] {
  const lines = text.split('\n')
  const header = lines[0] ?? ''
  const cols: { name: string; start: number }[] = []
  for (const m of header.matchAll(/\S+/g)) cols.push({ name: m[0], start: m.index })
  const rows: Map<string, string>[] = []
  for (const line of lines.slice(1)) {
    if (line.trim() === '') break
    const row = new Map<string, string>()
    cols.forEach((c, i) => row.set(c.name, line.slice(c.start, cols[i + 1]?.start ?? line.length).trim()))
    rows.push(row)
  }
  return rows
}

function unitArg(u: string | undefined): string {
  if (!u || u.startsWith('-')) throw new ParamError(`bad unit name ${JSON.stringify(u)}`)
  return u
}

function showCheck(name: string, property: 'LoadState' | 'ActiveState', want: string): CheckDef {
  return {
    names: [name],
    params: 1,
    summary: `systemctl show -p ${property} reports ${want}`,
    parse: ([u]) => {
      const unit = unitArg(u)
      return async (host, signal) => {
        const out = await systemctl(host, ['show', '-p', property, unit], signal)
        const got = /=(.*)/.exec(out.trim())?.[1] ?? ''
        return got === want ? pass() : fail(`Unit is not ${want}:\n\tUnit: ${unit}\n\t${property}: ${got}`)
      }
    },
  }
}

function socketCheck(names: string[], column: 'LISTEN' | 'UNIT'): CheckDef {
  return {
    names,
    params: 1,
    summary: column === 'LISTEN' ? 'a systemd socket listens on the path' : 'the socket unit is listed by systemctl list-sockets',
    parse: ([v]) => {
      if (!v) throw new ParamError('empty parameter')
      return async (host, signal) => {
        // systemd prints LISTEN; upstream v0.3.0 looked for LISTENING and never matched.
        const rows = parseTable(await systemctl(host, ['list-sockets', '--all', '--full'], signal))
        const found = rows.map((r) => r.get(column) ?? '')
        return found.includes(v) ? pass() : mismatch(`Socket ${column === 'LISTEN' ? 'path' : 'unit'} not found`, v, found, DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  }
}

function timerCheck(name: string, all: boolean): CheckDef {
  return {
    names: [name],
    params: 1,
    summary: all ? 'the timer is loaded (systemctl list-timers --all)' : 'the timer is active (systemctl list-timers)',
    parse: ([u]) => {
      const unit = unitArg(u)
      return async (host, signal) => {
        const rows = parseTable(await systemctl(host, ['list-timers', '--full', ...(all ? ['--all'] : [])], signal))
        const found = rows.map((r) => r.get('UNIT') ?? '')
        return found.includes(unit) ? pass() : mismatch('Timer not found', unit, found, DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  }
}

export const systemdChecks: CheckDef[] = [
  showCheck('systemctlLoaded', 'LoadState', 'loaded'),
  showCheck('systemctlActive', 'ActiveState', 'active'),
  socketCheck(['systemctlSockPath', 'systemctlSockListening', 'systemctlSock'], 'LISTEN'),
  socketCheck(['systemctlSockUnit'], 'UNIT'),
  timerCheck('systemctlTimer', false),
  timerCheck('systemctlTimerLoaded', true),
  {
    names: ['systemctlUnitFileStatus'],
    params: 2,
    summary: 'the unit file state (static, enabled, disabled, masked…) in systemctl list-unit-files',
    parse: ([u, state]) => {
      const unit = unitArg(u)
      if (!state) throw new ParamError('empty unit file state')
      return async (host, signal) => {
        const out = await systemctl(host, ['--no-legend', 'list-unit-files', '--full'], signal)
        const line = out.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === unit)
        if (!line) return fail(`Unit file not found: ${unit}`)
        return line[1] === state ? pass() : fail(`Unit file has the wrong state:\n\tUnit: ${unit}\n\tSpecified: ${state}\n\tActual: ${line[1]}`)
      }
    },
  },
]
