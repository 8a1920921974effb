/**
 * enable_syslog: the agent's log lines to the host's syslog, as Consul's go-syslog sends them
 * (tag `consul`, the facility of syslog_facility, hclog's level mapped one step milder: debug
 * as LOG_INFO, info as LOG_NOTICE). Node has no unix datagram sockets, which is what /dev/log
 * is on systemd hosts, so the lines go through one long-lived util-linux `logger` (present on
 * every Debian) that reads them with their priority prefix; a native addon would be one more
 * thing to build for every platform. A logger that falls behind has lines dropped and counted,
 * never a slower agent.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { statSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { ConfigError } from '../lib/errors.js'
import type { LogLevel, LogLine } from './log.js'

export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  KERN: 0, USER: 1, MAIL: 2, DAEMON: 3, AUTH: 4, SYSLOG: 5, LPR: 6, NEWS: 7, UUCP: 8, CRON: 9, AUTHPRIV: 10, FTP: 11,
  LOCAL0: 16, LOCAL1: 17, LOCAL2: 18, LOCAL3: 19, LOCAL4: 20, LOCAL5: 21, LOCAL6: 22, LOCAL7: 23,
}

/** Consul's levelPriority: each hclog level one syslog severity milder than its name. */
const SEVERITY: Record<LogLevel, number> = { trace: 7, debug: 6, info: 5, warn: 4, error: 3 }

/** Where go-syslog looks for the local syslog, in its order. */
export const SYSLOG_SOCKETS = ['/dev/log', '/var/run/syslog', '/var/run/log'] as const

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket()
  } catch {
    return false
  }
}

/** The local syslog socket, or undefined when the host has none. */
export function findSyslogSocket(candidates: readonly string[] = SYSLOG_SOCKETS): string | undefined {
  return candidates.find(isSocket)
}

/**
 * The host's syslog (CONSUL_SYSLOG_SOCKET names another socket, for hosts whose syslog listens
 * elsewhere); a ConfigError when there is none, as Consul's agent refuses to start then.
 */
export function openSyslog(facility: number, report: (message: string) => void): Syslog {
  const socket = process.env.CONSUL_SYSLOG_SOCKET || findSyslogSocket()
  if (!socket || !isSocket(socket)) {
    throw new ConfigError('config', 'enable_syslog', `syslog setup failed: no syslog socket at ${socket ?? SYSLOG_SOCKETS.join(', ')} on this host`)
  }
  return new Syslog(facility, socket, report)
}

export class Syslog {
  readonly #child: ChildProcessByStdio<Writable, null, Readable>
  readonly #facility: number
  #blocked = false
  #closed = false
  dropped = 0

  /** `report` hears, once, why syslog output stopped (the logger could not run or exited). */
  constructor(facility: number, socket: string, report: (message: string) => void) {
    this.#facility = facility
    this.#child = spawn('logger', ['--prio-prefix', '--tag', 'consul', '--socket', socket], { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    this.#child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)))
    const stop = (why: string): void => {
      if (this.#closed) return
      this.#closed = true
      report(`syslog: ${why}; syslog output stopped`)
    }
    this.#child.on('error', (err) => stop(`cannot run logger (util-linux): ${err.message}`))
    this.#child.on('exit', (code, signal) => stop(`logger exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`))
    this.#child.stdin.on('error', () => {})
    this.#child.stdin.on('drain', () => {
      this.#blocked = false
      if (this.dropped === 0) return
      // Said in syslog itself, where the gap is.
      this.#child.stdin.write(`<${this.#facility * 8 + SEVERITY.warn}>agent: syslog dropped ${this.dropped} lines while the logger was behind\n`)
      this.dropped = 0
    })
    // The agent's own exit must not wait for the logger.
    this.#child.unref()
    for (const pipe of [this.#child.stdin, this.#child.stderr]) (pipe as { unref?: () => void }).unref?.()
  }

  /** One line, as Consul's SyslogWrapper writes it: without the time and level, which syslog adds. */
  write(line: LogLine, json: string | undefined): void {
    if (this.#closed) return
    if (this.#blocked) {
      this.dropped++
      return
    }
    const text = json ? json.trimEnd() : `${line.module ? `${line.module}: ` : ''}${line.message}`
    // logger reads a line per message: a message's own newlines would split it.
    const pri = this.#facility * 8 + SEVERITY[line.level]
    if (!this.#child.stdin.write(`<${pri}>${text.replaceAll('\n', ' ')}\n`)) this.#blocked = true
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#child.stdin.end()
  }
}
