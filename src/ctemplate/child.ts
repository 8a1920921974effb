/**
 * Processes consul-template starts: template commands (run to completion with a timeout) and the
 * exec-mode child (supervised: reload signal or restart, kill signal then SIGKILL after a timeout,
 * signals forwarded, its exit reported).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Logger } from '../lib/line-log.js'

/** Shell syntax that needs the shell to stay around (lists, pipes, redirections, subshells). */
const COMPOUND = /[;&|<>()`\n]/

/**
 * How a command string or list becomes argv: a string with spaces runs through `sh -c` (as upstream).
 * A simple command is run as `exec CMD` so the shell becomes the program: signals then reach it
 * rather than a shell that would die of SIGHUP and orphan it.
 */
export function commandArgv(cmd: string | string[]): { file: string; args: string[]; shell: boolean } {
  if (Array.isArray(cmd)) {
    if (cmd.length === 1 && /\s/.test(cmd[0])) return commandArgv(cmd[0])
    return { file: cmd[0], args: cmd.slice(1), shell: false }
  }
  // `VAR=x cmd` cannot take an `exec` in front (sh would look for a program named `VAR=x`).
  const simple = !COMPOUND.test(cmd) && !/^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(cmd)
  if (/\s/.test(cmd.trim())) return { file: '/bin/sh', args: ['-c', simple ? `exec ${cmd.trim()}` : cmd], shell: true }
  return { file: cmd, args: [], shell: false }
}

export const commandText = (cmd: string | string[]): string => (Array.isArray(cmd) ? cmd.join(' ') : cmd)

/** Runs a template command; resolves when it exits 0, rejects on failure or timeout (the process group is killed). */
export function runCommand(cmd: string | string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<void> {
  const { file, args } = commandArgv(cmd)
  return new Promise((resolve, reject) => {
    let child: ChildProcess
    try {
      child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'], env, detached: true })
    } catch (err) {
      reject(err as Error)
      return
    }
    let timedOut = false
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true
            try {
              process.kill(-child.pid!, 'SIGKILL')
            } catch {
              child.kill('SIGKILL')
            }
          }, timeoutMs)
        : undefined
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`child: ${err.message}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) reject(new Error(`command did not finish within ${timeoutMs / 1000}s (timeout)`))
      else if (code === 0) resolve()
      else reject(new Error(`command exited with a non-zero exit status (${code ?? signal})`))
    })
  })
}

export interface ChildOptions {
  command: string | string[]
  env: NodeJS.ProcessEnv
  reloadSignal: string
  killSignal: string
  killTimeoutMs: number
  splayMs: number
  log: Logger
  /** Called when the child exits on its own (not stopped or restarted by us). */
  onExit: (code: number) => void
}

export class Child {
  #proc: ChildProcess | undefined
  #group = false
  #stopping = false

  constructor(readonly opts: ChildOptions) {}

  get pid(): number | undefined {
    return this.#proc?.pid
  }

  start(): void {
    const { file, args, shell } = commandArgv(this.opts.command)
    this.#stopping = false
    this.#group = shell
    this.opts.log.info('child', `spawning: ${[file, ...args].join(' ')}`)
    const proc = spawn(file, args, { stdio: 'inherit', env: this.opts.env, detached: shell })
    this.#proc = proc
    proc.once('error', (err) => {
      this.opts.log.err('child', `${file}: ${err.message}`)
      if (this.#proc === proc && !this.#stopping) this.opts.onExit(127)
    })
    proc.once('exit', (code, signal) => {
      if (this.#proc !== proc || this.#stopping) return
      this.#proc = undefined
      // A child killed by a signal reports 128+n as a shell would.
      const n = code ?? 128 + (signal ? signalNumber(signal) : 0)
      this.opts.onExit(n)
    })
  }

  /** Sends a signal to the child (its process group when it runs under sh). */
  signal(sig: string): void {
    const p = this.#proc
    if (!p?.pid || p.exitCode !== null) return
    try {
      if (this.#group) process.kill(-p.pid, sig as NodeJS.Signals)
      else p.kill(sig as NodeJS.Signals)
    } catch {
      // exited in between
    }
  }

  async #splay(): Promise<void> {
    if (this.opts.splayMs > 0) await new Promise((r) => setTimeout(r, Math.random() * this.opts.splayMs))
  }

  /** A template changed: the reload signal, or a restart when none is set. */
  async reload(): Promise<void> {
    if (this.opts.reloadSignal) {
      await this.#splay()
      this.opts.log.info('child', `sending ${this.opts.reloadSignal}`)
      this.signal(this.opts.reloadSignal)
      return
    }
    await this.stop()
    this.start()
  }

  /** kill_signal, then SIGKILL after kill_timeout. */
  async stop(): Promise<void> {
    const p = this.#proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return
    this.#stopping = true
    await this.#splay()
    const exited = new Promise<void>((r) => p.once('exit', () => r()))
    this.signal(this.opts.killSignal || 'SIGTERM')
    const timer = setTimeout(() => this.signal('SIGKILL'), this.opts.killTimeoutMs)
    await exited
    clearTimeout(timer)
    this.#proc = undefined
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 }
function signalNumber(sig: string): number {
  return SIGNAL_NUMBERS[sig] ?? 0
}
