/**
 * Log lines on stderr as consul-template (and the bridges) print them: `2026-01-01T00:00:00.000Z [WARN] (runner) message`, filtered
 * by -log-level (trace, debug, info, warn, err; default warn).
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'err'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function parseLogLevel(s: string): LogLevel {
  const l = s.toLowerCase()
  if (l === 'error') return 'err'
  if (l === 'warning') return 'warn'
  if ((LOG_LEVELS as readonly string[]).includes(l)) return l as LogLevel
  throw new Error(`invalid log level ${JSON.stringify(s)}: valid levels are trace, debug, info, warn, err`)
}

export class Logger {
  #min: number
  readonly #sinks: ((line: string) => void)[] = []
  readonly #warned = new Set<string>()
  constructor(
    level: LogLevel = 'warn',
    readonly write: (line: string) => void = (l) => process.stderr.write(l),
  ) {
    this.#min = LOG_LEVELS.indexOf(level)
  }

  /** Another destination for every line (the -log-file). */
  addSink(sink: (line: string) => void): void {
    this.#sinks.push(sink)
  }

  setLevel(level: LogLevel): void {
    this.#min = LOG_LEVELS.indexOf(level)
  }

  #log(level: LogLevel, component: string, msg: string): void {
    if (LOG_LEVELS.indexOf(level) < this.#min) return
    const tag = level === 'err' ? 'ERR' : level.toUpperCase()
    const line = `${new Date().toISOString()} [${tag}] (${component}) ${msg}\n`
    this.write(line)
    for (const sink of this.#sinks) sink(line)
  }

  trace(c: string, m: string): void {
    this.#log('trace', c, m)
  }
  debug(c: string, m: string): void {
    this.#log('debug', c, m)
  }
  info(c: string, m: string): void {
    this.#log('info', c, m)
  }
  warn(c: string, m: string): void {
    this.#log('warn', c, m)
  }
  /** A warning said once; the same message again (the same bad task every poll) goes to debug. */
  warnOnce(c: string, m: string): void {
    if (this.#warned.has(m)) return this.#log('debug', c, m)
    this.#warned.add(m)
    this.#log('warn', c, m)
  }
  err(c: string, m: string): void {
    this.#log('err', c, m)
  }
}
