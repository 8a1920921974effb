import http from 'node:http'
import { formatDurationMs } from '../lib/duration.js'
import { deadline, type Probe, type ProbeResult } from './interval.js'
import { CHECK_LIMITS } from './limits.js'
import { TailBuffer } from './output.js'
import { statusForExit } from './script.js'

export interface DockerOptions {
  socketPath: string
  containerId: string
  /** The command run inside the container. */
  cmd: string[]
  timeoutMs: number
  outputMaxSize: number
}

interface Answer {
  status: number
  body: TailBuffer
}

/** One Docker Engine API call over the unix socket; the body is kept up to `max` bytes (its tail). */
interface CallOptions {
  socketPath: string
  method: 'GET' | 'POST'
  payload?: unknown
  /** Bytes of the answer kept (its tail). */
  max: number
  signal: AbortSignal
  /** Receives the body of a 2xx answer instead of the buffer (the exec output stream). */
  sink?: (chunk: Buffer) => void
}

function call(path: string, opts: CallOptions): Promise<Answer> {
  const { socketPath, method, payload, max, signal, sink } = opts
  return new Promise((resolve, reject) => {
    const data = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload))
    const req = http.request({
      socketPath,
      method,
      path,
      // Any host will do over a unix socket; Docker's own client sends "docker".
      headers: { Host: 'docker', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) },
      agent: false,
      signal,
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const body = new TailBuffer(max)
      // A 2xx answer with a sink streams there (the exec output); error bodies are kept for the message.
      const ok = (res.statusCode ?? 0) < 300
      res.on('data', (chunk: Buffer) => (sink && ok ? sink(chunk) : body.write(chunk)))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.end(data)
  })
}

/**
 * Splits the exec output stream. Without a TTY Docker multiplexes stdout and stderr into frames of
 * [stream, 0, 0, 0, size (4 bytes, big-endian)] + payload; the payloads are joined in arrival order, which
 * is what a script writing both to one pipe would have produced. A stream whose first bytes are not a
 * frame header (a TTY exec) is passed through unchanged. Works across chunk boundaries.
 */
export class DockerStreamDemuxer {
  #mode: 'unknown' | 'framed' | 'raw' = 'unknown'
  #header = Buffer.alloc(0)
  #remaining = 0

  constructor(readonly sink: (payload: Buffer) => void) {}

  write(chunk: Buffer): void {
    let data = chunk
    while (data.length > 0) {
      if (this.#mode === 'raw') {
        this.sink(data)
        return
      }
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, data.length)
        this.sink(data.subarray(0, take))
        this.#remaining -= take
        data = data.subarray(take)
        continue
      }
      const need = 8 - this.#header.length
      this.#header = Buffer.concat([this.#header, data.subarray(0, need)])
      data = data.subarray(Math.min(need, data.length))
      if (this.#header.length < 8) return
      const h = this.#header
      const framed = h[0]! <= 2 && h[1] === 0 && h[2] === 0 && h[3] === 0
      if (!framed && this.#mode === 'unknown') {
        this.#mode = 'raw'
        this.#header = Buffer.alloc(0)
        this.sink(h)
        continue
      }
      this.#mode = 'framed'
      this.#remaining = h.readUInt32BE(4)
      this.#header = Buffer.alloc(0)
    }
  }

  /** At the end of the stream: a raw stream shorter than one header is still output. */
  end(): void {
    if (this.#mode !== 'framed' && this.#header.length > 0) this.sink(this.#header)
    this.#header = Buffer.alloc(0)
  }
}

/**
 * A Docker check, as Consul's CheckDocker: create an exec of the command in the container, start it
 * attached and collect its output, then inspect the exec for the exit code (0 passing, 1 warning, else
 * critical). The errors carry Consul's texts. Unlike Consul, the whole run has a deadline (the script
 * default, 30s), so a hung command or daemon cannot stall the check forever.
 */
export function dockerProbe(opts: DockerOptions): Probe {
  const id = opts.containerId
  return async (ctx) => {
    const limit = deadline(ctx, opts.timeoutMs)
    const timedOut = (): ProbeResult => ({
      status: 'critical',
      output: `Timed out (${formatDurationMs(opts.timeoutMs)}) running check`,
    })
    try {
      let created: Answer
      try {
        created = await call(`/containers/${encodeURIComponent(id)}/exec`, {
          socketPath: opts.socketPath,
          method: 'POST',
          payload: { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: opts.cmd },
          max: CHECK_LIMITS.dockerJsonMax,
          signal: limit.signal,
        })
      } catch (err) {
        if (limit.timedOut()) return timedOut()
        return { status: 'critical', output: `create exec failed for container ${id}: ${(err as Error).message}` }
      }
      let execId: string
      switch (created.status) {
        case 201: {
          try {
            const parsed = JSON.parse(created.body.toString()) as { Id?: unknown }
            if (typeof parsed.Id !== 'string') throw new Error('no Id in the answer')
            execId = parsed.Id
          } catch (err) {
            return {
              status: 'critical',
              output: `create exec response for container ${id} cannot be parsed: ${(err as Error).message}`,
            }
          }
          break
        }
        case 404:
          return { status: 'critical', output: `create exec failed for unknown container ${id}` }
        case 409:
          return { status: 'critical', output: `create exec failed since container ${id} is paused or stopped` }
        default:
          return {
            status: 'critical',
            output: `create exec failed for container ${id} with status ${created.status}: ${created.body.toString()}`,
          }
      }

      const out = new TailBuffer(opts.outputMaxSize)
      const demux = new DockerStreamDemuxer((payload) => out.write(payload))
      let started: Answer
      try {
        started = await call(`/exec/${encodeURIComponent(execId)}/start`, {
          socketPath: opts.socketPath,
          method: 'POST',
          payload: { Detach: false, Tty: false },
          max: CHECK_LIMITS.dockerJsonMax,
          signal: limit.signal,
          sink: (chunk) => demux.write(chunk),
        })
      } catch (err) {
        if (limit.timedOut()) return timedOut()
        return { status: 'critical', output: `start exec failed for container ${id}: ${(err as Error).message}` }
      }
      if (started.status === 404) {
        return { status: 'critical', output: `start exec failed for container ${id}: invalid exec id ${execId}` }
      }
      if (started.status === 409) {
        return { status: 'critical', output: `start exec failed since container ${id} is paused or stopped` }
      }
      if (started.status !== 200) {
        return {
          status: 'critical',
          output: `start exec failed for container ${id} with status ${started.status}: body: ${started.body.toString()} err: <nil>`,
        }
      }
      demux.end()
      const captured = out.captured()

      let inspected: Answer
      try {
        inspected = await call(`/exec/${encodeURIComponent(execId)}/json`, {
          socketPath: opts.socketPath,
          method: 'GET',
          max: CHECK_LIMITS.dockerJsonMax,
          signal: limit.signal,
        })
      } catch (err) {
        if (limit.timedOut()) return timedOut()
        return { status: 'critical', output: `inspect exec failed for container ${id}: ${(err as Error).message}` }
      }
      if (inspected.status === 404) {
        return { status: 'critical', output: `inspect exec failed for container ${id}: invalid exec id ${execId}` }
      }
      if (inspected.status !== 200) {
        return {
          status: 'critical',
          output: `inspect exec failed for container ${id} with status ${inspected.status}: ${inspected.body.toString()}`,
        }
      }
      let exitCode: number | undefined
      try {
        const parsed = JSON.parse(inspected.body.toString()) as { ExitCode?: unknown }
        exitCode = typeof parsed.ExitCode === 'number' ? parsed.ExitCode : undefined
      } catch (err) {
        return {
          status: 'critical',
          output: `inspect exec response for container ${id} cannot be parsed: ${(err as Error).message}`,
        }
      }
      return { status: statusForExit(exitCode), output: captured }
    } finally {
      limit.dispose()
    }
  }
}
