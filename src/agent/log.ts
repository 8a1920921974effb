import chalk from 'chalk'
import { colourEnabled } from '../lib/colour.js'
import type { LogFile } from './log-file.js'
import type { Syslog } from './syslog.js'
import { LOG_LEVELS, type LogLevel } from '../lib/log-level.js'

export { LOG_LEVELS, parseLogLevel, type LogLevel } from '../lib/log-level.js'

const COLOURS: Record<LogLevel, (s: string) => string> = {
  trace: chalk.gray,
  debug: chalk.gray,
  info: chalk.green,
  warn: chalk.yellow,
  error: chalk.red,
}

/** Where log lines go: a stream, or anything that takes lines the same way (the start-up gate). */
export interface LogSink {
  write(chunk: string): unknown
  isTTY?: boolean
}

/** One log event, formatted lazily per sink. */
export interface LogLine {
  level: LogLevel
  time: Date
  /** The subsystem (`agent`, `raft`, `agent.http`): the message's `name:` prefix, as hclog's named loggers. */
  module: string
  message: string
}

/** A live reader of the log (GET /v1/agent/monitor): its own level and format. */
export interface LogSubscriber {
  level: LogLevel
  write(line: LogLine): void
}

const MODULE = /^([a-z][a-z0-9_.-]*): /

/** hclog's text line: `2024-01-02T03:04:05.678Z [INFO]  agent: message`. */
export function formatText(l: LogLine, colour = false): string {
  const tag = `[${l.level.toUpperCase()}]`.padEnd(7)
  const module = l.module ? `${l.module}: ` : ''
  return `${l.time.toISOString()} ${colour ? COLOURS[l.level](tag) : tag} ${module}${l.message}\n`
}

/** hclog's JSON line (`log_json`): `@level`, `@message`, `@module`, `@timestamp`. */
export function formatJson(l: LogLine): string {
  const o: Record<string, string> = { '@level': l.level, '@message': l.message }
  if (l.module) o['@module'] = l.module
  o['@timestamp'] = l.time.toISOString()
  return `${JSON.stringify(o)}\n`
}

/**
 * The agent's logger: Consul's line format (`<time> [INFO]  agent: message`), colour on a
 * TTY, plain in pipes, or JSON (`log_json`); a copy to `log_file` with rotation; and live
 * readers that may ask for more detail than the console gets. The level can change on reload.
 */
export class Logger {
  #level: number
  readonly #colour: boolean
  #json = false
  #file: LogFile | undefined
  #syslog: Syslog | undefined
  readonly #subscribers = new Set<LogSubscriber>()
  /** The lowest level anyone reads: below it a line costs one comparison. */
  #floor: number

  constructor(
    level: LogLevel = 'info',
    readonly out: LogSink = process.stderr,
  ) {
    this.#level = LOG_LEVELS.indexOf(level)
    this.#floor = this.#level
    this.#colour = colourEnabled(out) && chalk.level > 0
  }

  setLevel(level: LogLevel): void {
    this.#level = LOG_LEVELS.indexOf(level)
    this.#refloor()
  }

  /** log_json, the log_file copy and syslog (closing the ones before). */
  configure(opts: { json: boolean; file?: LogFile; syslog?: Syslog }): void {
    this.#json = opts.json
    if (this.#file !== opts.file) this.#file?.close()
    this.#file = opts.file
    if (this.#syslog !== opts.syslog) this.#syslog?.close()
    this.#syslog = opts.syslog
  }

  /** Adds a live reader; returns its removal. */
  subscribe(s: LogSubscriber): () => void {
    this.#subscribers.add(s)
    this.#refloor()
    return () => {
      this.#subscribers.delete(s)
      this.#refloor()
    }
  }

  #refloor(): void {
    let floor = this.#level
    for (const s of this.#subscribers) floor = Math.min(floor, LOG_LEVELS.indexOf(s.level))
    this.#floor = floor
  }

  /** Whether a line at `level` would go anywhere: callers skip building costly messages otherwise. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#floor
  }

  log(level: LogLevel, message: string): void {
    const rank = LOG_LEVELS.indexOf(level)
    if (rank < this.#floor) return
    const m = MODULE.exec(message)
    const line: LogLine = { level, time: new Date(), module: m ? m[1]! : '', message: m ? message.slice(m[0].length) : message }
    if (rank >= this.#level) {
      const text = this.#json ? formatJson(line) : undefined
      this.out.write(text ?? formatText(line, this.#colour))
      this.#file?.write(text ?? formatText(line))
      this.#syslog?.write(line, text)
    }
    for (const s of this.#subscribers) if (rank >= LOG_LEVELS.indexOf(s.level)) s.write(line)
  }

  close(): void {
    this.#file?.close()
    this.#file = undefined
    this.#syslog?.close()
    this.#syslog = undefined
  }

  readonly trace = (m: string): void => this.log('trace', m)
  readonly debug = (m: string): void => this.log('debug', m)
  readonly info = (m: string): void => this.log('info', m)
  readonly warn = (m: string): void => this.log('warn', m)
  readonly error = (m: string): void => this.log('error', m)
}
