/** Go's time.Duration in JavaScript: parse and print exactly as Go does, in milliseconds. */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
}

export class DurationError extends Error {
  constructor(readonly input: string) {
    super(`time: invalid duration "${input}"`)
    this.name = 'DurationError'
  }
}

/**
 * Parses Go duration syntax (`"300ms"`, `"-1.5h"`, `"2h45m"`) into nanoseconds.
 * Throws DurationError with Go's message on bad input. A bare `"0"` is allowed, as in Go.
 */
export function parseDurationNs(input: string): number {
  let s = input
  let sign = 1
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1
    s = s.slice(1)
  }
  if (s === '0') return 0
  if (s === '') throw new DurationError(input)
  let total = 0
  const re = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/
  while (s.length > 0) {
    const m = re.exec(s)
    if (!m || m[1] === '' || m[1] === '.') throw new DurationError(input)
    total += Number(m[1]) * UNIT_NS[m[2]!]!
    s = s.slice(m[0].length)
  }
  if (!Number.isFinite(total) || total > 2 ** 63) throw new DurationError(input)
  return sign * Math.round(total)
}

/** Parses a Go duration into milliseconds (fractions kept). */
export function parseDurationMs(input: string): number {
  return parseDurationNs(input) / 1e6
}

/** Formats nanoseconds the way Go's Duration.String() does: `1h2m3.5s`, `150ms`, `0s`. */
export function formatDurationNs(ns: number): string {
  if (ns === 0) return '0s'
  const neg = ns < 0
  let u = Math.abs(Math.round(ns))
  let out: string
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6]
    out = trimFraction(u / (div as number)) + unit
  } else {
    const h = Math.floor(u / 3600e9)
    u -= h * 3600e9
    const m = Math.floor(u / 60e9)
    u -= m * 60e9
    out = `${trimFraction(u / 1e9)}s`
    if (h > 0) out = `${h}h${m}m${out}`
    else if (m > 0) out = `${m}m${out}`
  }
  return neg ? `-${out}` : out
}

function trimFraction(n: number): string {
  return Number(n.toFixed(9)).toString()
}

export function formatDurationMs(ms: number): string {
  return formatDurationNs(ms * 1e6)
}
