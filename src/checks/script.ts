import { spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { formatDurationMs } from '../lib/duration.js'
import { deadline, type Probe, type ProbeResult } from './interval.js'
import { CHECK_LIMITS } from './limits.js'
import { TailBuffer } from './output.js'

/**
 * Runs the check command with stdout and stderr on one real pipe.
 *
 * Why a wrapper: Node's `spawn` gives a child sockets (a socketpair) for 'pipe' stdio, and on Linux
 * `/dev/stdout`/`/dev/stderr` cannot be opened on a socket (ENXIO), so a check such as
 * `curl --dump-header /dev/stderr ...` fails although the service is fine. Here `/bin/sh` runs the
 * command inside a pipeline, `{ cmd; } 2>&1 | cat`, so the command's fd 1 and 2 are the kernel pipe to
 * `cat`, and only `cat` talks to Node's socket. The pipeline's own exit status would be `cat`'s, so the
 * command's status is written to fd 3, which the command itself does not inherit (`3>&-`).
 *
 * The wrapper leads a new process group (`detached`), so a timeout kills the command and everything it
 * started, as Consul's KillCommandSubtree does.
 */
const WRAPPER = '{ "$@" 3>&-; echo $? >&3; } 2>&1 | cat'

export interface ScriptOptions {
  /** argv; a legacy `script` arrives here as ['/bin/sh', '-c', script]. */
  argv: string[]
  timeoutMs: number
  outputMaxSize: number
}

/** Exit 0 passing, 1 warning, anything else (signals included) critical; Consul's CheckMonitor rules. */
export function statusForExit(code: number | undefined): ProbeResult['status'] {
  if (code === 0) return 'passing'
  if (code === 1) return 'warning'
  return 'critical'
}

export function scriptProbe(opts: ScriptOptions): Probe {
  return (ctx) =>
    new Promise<ProbeResult>((resolve) => {
      const out = new TailBuffer(opts.outputMaxSize)
      const limit = deadline(ctx, opts.timeoutMs)
      let exitText = ''
      let settled = false
      const finish = (r: ProbeResult): void => {
        if (settled) return
        settled = true
        limit.dispose()
        resolve(r)
      }

      let child
      try {
        child = spawn('/bin/sh', ['-c', WRAPPER, 'sh', ...opts.argv], {
          stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
          detached: true,
        })
      } catch (err) {
        finish({ status: 'critical', output: (err as Error).message })
        return
      }
      const pid = child.pid
      const killGroup = (): void => {
        if (pid === undefined) return
        try {
          process.kill(-pid, 'SIGKILL')
        } catch {
          // The group is already gone: nothing left to kill.
        }
      }
      const onAbort = (): void => killGroup()
      limit.signal.addEventListener('abort', onAbort, { once: true })

      child.stdout!.on('data', (chunk: Buffer) => out.write(chunk))
      const statusPipe = child.stdio[3] as Readable
      statusPipe.on('data', (chunk: Buffer) => {
        if (exitText.length < CHECK_LIMITS.exitStatusMax) exitText += chunk.toString('latin1')
      })
      child.on('error', (err) => {
        limit.signal.removeEventListener('abort', onAbort)
        finish({ status: 'critical', output: err.message })
      })
      // 'close' waits for stdout to drain, so the output is complete when we report.
      child.on('close', () => {
        limit.signal.removeEventListener('abort', onAbort)
        if (limit.timedOut()) {
          let msg = `Timed out (${formatDurationMs(opts.timeoutMs)}) running check`
          const captured = out.captured()
          if (captured.length > 0) msg += `\n\n${captured}`
          finish({ status: 'critical', output: msg })
          return
        }
        const code = /^\d+\n?$/.test(exitText) ? Number(exitText.trim()) : undefined
        finish({ status: statusForExit(code), output: out.captured() })
      })
    })
}
