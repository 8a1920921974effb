import chalk from 'chalk'
import { colourEnabled } from '../lib/colour.js'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

const COLOURS: Record<LogLevel, (s: string) => string> = {
  trace: chalk.gray,
  debug: chalk.gray,
  info: chalk.green,
  warn: chalk.yellow,
  error: chalk.red,
}

/** Accepts Consul's spellings (`WARN`, `warning`, `err`). */
export function parseLogLevel(text: string): LogLevel | undefined {
  const t = text.trim().toLowerCase()
  if (t === 'warning') return 'warn'
  if (t === 'err') return 'error'
  return (LOG_LEVELS as readonly string[]).includes(t) ? (t as LogLevel) : undefined
}

/** Where log lines go: a stream, or anything that takes lines the same way (the start-up gate). */
export interface LogSink {
  write(chunk: string): unknown
  isTTY?: boolean
}

/**
 * The agent's logger: Consul's line format (`<time> [INFO]  agent: message`), colour on a
 * TTY, plain in pipes; the level can change on reload.
 */
export class Logger {
  #level: number
  readonly #colour: boolean

  constructor(
    level: LogLevel = 'info',
    readonly out: LogSink = process.stderr,
  ) {
    this.#level = LOG_LEVELS.indexOf(level)
    this.#colour = colourEnabled(out) && chalk.level > 0
  }

  setLevel(level: LogLevel): void {
    this.#level = LOG_LEVELS.indexOf(level)
  }

  log(level: LogLevel, message: string): void {
    if (LOG_LEVELS.indexOf(level) < this.#level) return
    const tag = `[${level.toUpperCase()}]`.padEnd(7)
    const line = `${new Date().toISOString()} ${this.#colour ? COLOURS[level](tag) : tag} ${message}\n`
    this.out.write(line)
  }

  readonly trace = (m: string): void => this.log('trace', m)
  readonly debug = (m: string): void => this.log('debug', m)
  readonly info = (m: string): void => this.log('info', m)
  readonly warn = (m: string): void => this.log('warn', m)
  readonly error = (m: string): void => this.log('error', m)
}
