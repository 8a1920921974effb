import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { readFile, statfs } from 'node:fs/promises'
import type { LookupFunction } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { DISTRIBUTIVE_LIMITS } from './limits.js'
import { CannotRunError } from './types.js'

/**
 * Where checks look. Every default is this machine; tests point each one at fixtures, so no check depends on the
 * state of the machine the tests run on.
 */
export interface HostOptions {
  /** Filesystem root for the paths named in checks and for /etc files (passwd, group, apt, pacman.conf). Default `/`. */
  root?: string
  /** Where /proc is read from. Default `<root>/proc`. */
  procRoot?: string
  /** Where /sys is read from. Default `<root>/sys`. */
  sysRoot?: string
  /** Environment for external commands (`PATH` decides which systemctl, dpkg-query, php, sensors run). */
  env?: NodeJS.ProcessEnv
  /** Name resolution for every network check; tests pin it so nothing leaves loopback. */
  lookup?: LookupFunction
  /** IPv4/IPv6 addresses per interface, as os.networkInterfaces(). */
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>
  /** Filesystem statistics (diskUsage, inodeUsage); tests give fixed numbers so usage does not depend on the disk. */
  statfs?: (path: string) => Promise<FsStats>
  /** Docker Engine API endpoint, `unix:///path` or a socket path. Default $DOCKER_HOST, then /var/run/docker.sock. */
  dockerHost?: string
}

/** The statfs fields the usage checks read. */
export interface FsStats {
  blocks: number
  bavail: number
  files: number
  ffree: number
}

export interface ExecResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  /** stdout and stderr interleaved in arrival order, as Go's CombinedOutput. */
  output: string
}

/** The machine the checks inspect. Immutable; one per run, shared by every check. */
export class Host {
  readonly root: string
  readonly procRoot: string
  readonly sysRoot: string
  readonly env: NodeJS.ProcessEnv
  readonly lookup: LookupFunction | undefined
  readonly #interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>
  readonly dockerHost: string
  /** statfs of a path already mapped into the root. */
  readonly statfs: (path: string) => Promise<FsStats>
  readonly #opts: HostOptions
  /** Tables read once per run and shared by its checks (process list, /proc/net, passwd, systemctl output). */
  readonly #memo = new Map<string, Promise<unknown>>()

  constructor(opts: HostOptions = {}) {
    this.#opts = opts
    this.root = path.resolve(opts.root ?? '/')
    this.procRoot = path.resolve(opts.procRoot ?? path.join(this.root, 'proc'))
    this.sysRoot = path.resolve(opts.sysRoot ?? path.join(this.root, 'sys'))
    this.env = opts.env ?? process.env
    this.lookup = opts.lookup
    this.#interfaces = opts.networkInterfaces ?? os.networkInterfaces
    this.statfs = opts.statfs ?? statfs
    this.dockerHost = opts.dockerHost ?? this.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock'
  }

  /** The same host with an empty per-run cache: one per run, so a table is read once per run and never reused stale. */
  forRun(): Host {
    return new Host(this.#opts)
  }

  /** Runs `load` once per key for this run; every check asking for the same table shares the answer (or the error). */
  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined
    if (!p) {
      p = load()
      this.#memo.set(key, p)
    }
    return p
  }

  /** Maps a path named in a checklist into the root (identity when the root is `/`). */
  path(p: string): string {
    const abs = path.resolve(p)
    if (abs.startsWith('/proc/') || abs === '/proc') return path.join(this.procRoot, abs.slice(5))
    if (abs.startsWith('/sys/') || abs === '/sys') return path.join(this.sysRoot, abs.slice(4))
    return this.root === '/' ? abs : path.join(this.root, abs)
  }

  proc(rel: string): string {
    return path.join(this.procRoot, rel)
  }

  sys(rel: string): string {
    return path.join(this.sysRoot, rel)
  }

  /** Reads a file under the root. */
  readText(p: string): Promise<string> {
    return readFile(this.path(p), 'utf8')
  }

  interfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]> {
    return this.#interfaces()
  }

  /**
   * Runs an executable without a shell, in its own process group so that an abort kills grandchildren too
   * (a `bash -c 'sleep 100'` must not outlive the check). A missing executable throws CannotRunError.
   */
  async exec(file: string, args: readonly string[], signal: AbortSignal): Promise<ExecResult> {
    // Loaded on the first command: checklists without one start faster.
    const { spawn } = await import('node:child_process')
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new CannotRunError('aborted'))
      const child: ChildProcessByStdio<null, Readable, Readable> = spawn(file, args, { env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      const pid = child.pid
      if (pid !== undefined) LIVE_GROUPS.add(pid)
      let stdout = ''
      let output = ''
      const keep = (chunk: Buffer, isStdout: boolean): void => {
        if (output.length >= DISTRIBUTIVE_LIMITS.commandOutputBytesMax) return
        const text = chunk.toString('utf8')
        output += text
        if (isStdout) stdout += text
      }
      child.stdout.on('data', (c: Buffer) => keep(c, true))
      child.stderr.on('data', (c: Buffer) => keep(c, false))
      const onAbort = (): void => {
        killGroup(child.pid)
        reject(new CannotRunError(`${file}: aborted`))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (pid !== undefined) LIVE_GROUPS.delete(pid)
        signal.removeEventListener('abort', onAbort)
        if (err.code === 'ENOENT') reject(new CannotRunError(`executable not found: ${file}`))
        else if (err.code === 'EACCES') reject(new CannotRunError(`permission denied running ${file}`))
        else reject(new CannotRunError(`${file}: ${err.message}`))
      })
      child.on('close', (code, sig) => {
        if (pid !== undefined) LIVE_GROUPS.delete(pid)
        signal.removeEventListener('abort', onAbort)
        resolve({ code, signal: sig, stdout, output })
      })
    })
  }
}

/** Process groups of commands still running, so that a distributive killed by its caller can take them along. */
const LIVE_GROUPS = new Set<number>()

/**
 * Kills every command a check started and that is still running. The CLI calls it on SIGTERM/SIGINT: commands run
 * in their own process groups (so a timeout can kill grandchildren), which a caller killing our group would miss.
 */
export function killRunningCommands(): void {
  for (const pid of LIVE_GROUPS) killGroup(pid)
  LIVE_GROUPS.clear()
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // Already gone: nothing to kill.
  }
}
