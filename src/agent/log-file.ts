/**
 * `log_file` with Consul's rotation: the active file keeps the configured name; past
 * `log_rotate_bytes` or `log_rotate_duration` it is renamed `<name>-<unix ms>.<ext>` and a new one
 * opened; `log_rotate_max_files` archives are kept (0: all, -1: none), the oldest removed first.
 * A write that fails (a full disk) drops the line and is counted: logging never stops the agent.
 */
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'

export interface LogFileOptions {
  /** log_file: a file, or a directory (ending in `/`) for `consul.log` in it. */
  path: string
  rotateBytes: number
  rotateDurationMs: number
  maxFiles: number
  now?: () => number
}

export class LogFile {
  readonly file: string
  readonly #o: Required<Omit<LogFileOptions, 'path'>>
  #fd: number
  #bytes = 0
  #openedAt: number
  dropped = 0

  constructor(o: LogFileOptions) {
    this.file = o.path.endsWith('/') ? join(o.path, 'consul.log') : o.path
    this.#o = { rotateBytes: o.rotateBytes, rotateDurationMs: o.rotateDurationMs, maxFiles: o.maxFiles, now: o.now ?? Date.now }
    mkdirSync(dirname(this.file), { recursive: true })
    this.#fd = openSync(this.file, 'a')
    this.#bytes = statSync(this.file).size
    this.#openedAt = this.#o.now()
  }

  write(line: string): void {
    const o = this.#o
    const size = Buffer.byteLength(line)
    if (this.#bytes > 0 && ((o.rotateBytes > 0 && this.#bytes + size > o.rotateBytes) || (o.rotateDurationMs > 0 && o.now() - this.#openedAt >= o.rotateDurationMs))) this.#rotate()
    try {
      writeSync(this.#fd, line)
      this.#bytes += size
    } catch {
      this.dropped++
    }
  }

  #rotate(): void {
    try {
      closeSync(this.#fd)
      const ext = extname(this.file)
      renameSync(this.file, `${this.file.slice(0, this.file.length - ext.length)}-${this.#o.now()}${ext}`)
      this.#prune()
    } catch {
      // Rotation failed (the directory went away, a full disk): keep writing where we can.
    }
    this.#fd = openSync(this.file, 'a')
    this.#bytes = 0
    this.#openedAt = this.#o.now()
  }

  /** The archives of this file, oldest first. */
  archives(): string[] {
    const ext = extname(this.file)
    const stem = basename(this.file, ext)
    const pattern = new RegExp(`^${escape(stem)}-(\\d+)${escape(ext)}$`)
    return readdirSync(dirname(this.file))
      .map((f) => ({ f, at: Number(pattern.exec(f)?.[1] ?? NaN) }))
      .filter((x) => !Number.isNaN(x.at))
      .sort((a, b) => a.at - b.at)
      .map((x) => join(dirname(this.file), x.f))
  }

  #prune(): void {
    const keep = this.#o.maxFiles
    if (keep === 0) return
    const archives = this.archives()
    const excess = keep < 0 ? archives.length : archives.length - keep
    for (const f of archives.slice(0, Math.max(0, excess))) rmSync(f, { force: true })
  }

  close(): void {
    try {
      closeSync(this.#fd)
    } catch {
      // Already closed.
    }
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
