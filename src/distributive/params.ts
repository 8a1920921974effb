import { DurationError, parseDurationMs } from '../lib/duration.js'
import { ParamError } from './types.js'
import { compileRe2 } from '../lib/re2.js'

/** A checklist's Go RE2 pattern as a RegExp (src/lib/re2.ts); a bad one is a ParamError naming it. */
export function parseRegex(pattern: string): RegExp {
  try {
    return compileRe2(pattern)
  } catch (err) {
    throw new ParamError(`bad regular expression ${JSON.stringify(pattern)}: ${(err as Error).message.replace(/^error parsing regexp: /, '')}`)
  }
}

/** A percentage threshold: `90` or `90%`, 0 to 100. */
export function parsePercent(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(s)
  const n = m ? Number(m[1]) : NaN
  if (!(n >= 0 && n <= 100)) throw new ParamError(`not a percentage (0-100): ${JSON.stringify(s)}`)
  return n
}

/** A non-negative integer (ports, uids, gids). */
export function parseUint(s: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(s.trim())) throw new ParamError(`${what} is not a non-negative integer: ${JSON.stringify(s)}`)
  const n = Number(s.trim())
  if (n > max) throw new ParamError(`${what} out of range (max ${max}): ${s}`)
  return n
}

export function parsePort(s: string): number {
  const n = parseUint(s, 'port', 65535)
  return n
}

/** A Go duration (`5s`, `20ms`, `1ns`) in milliseconds. */
export function parseDuration(s: string): number {
  try {
    const ms = parseDurationMs(s.trim())
    if (ms < 0) throw new ParamError(`negative duration: ${s}`)
    return ms
  } catch (err) {
    if (err instanceof DurationError) throw new ParamError(`bad duration ${JSON.stringify(s)} (Go syntax, e.g. 5s, 250ms)`)
    throw err
  }
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }

/**
 * A size such as `10mb`, `1gb`, `3TB`, `20kib`, `512`, `2 kilobytes`. Upstream did not tell kb from kib; we read
 * both as powers of 1024, as `free` and /proc/meminfo count in KiB.
 */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?|(?:ilo|ega|iga|era|eta)?bytes?)?\s*$/i.exec(s)
  if (!m) throw new ParamError(`bad size ${JSON.stringify(s)} (e.g. 10mb, 1gb, 20kib)`)
  const unit = (m[2] ?? '').toLowerCase() || 'b'
  return Number(m[1]) * SIZE_UNITS[unit]!
}

/** `host:port` for tcp/udp checks (`[::1]:80` for IPv6). */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]*):(\d+)$/.exec(s)
  if (!m) throw new ParamError(`expected host:port, got ${JSON.stringify(s)}`)
  return { host: m[1] || 'localhost', port: parsePort(m[2]!) }
}

/** A path that must be absolute, as every upstream sample's. */
export function parsePath(s: string): string {
  if (s.trim() === '') throw new ParamError('empty path')
  return s
}

/** Formats a byte count for messages. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}
