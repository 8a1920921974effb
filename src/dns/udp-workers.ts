/**
 * UDP workers: extra processes that answer DNS queries on the agent's own UDP sockets.
 *
 * A Node process spends about 6.5 µs of kernel and runtime work per datagram whatever it
 * answers, so one event loop tops out near 100k queries/s. The agent hands each bound UDP socket
 * to `count` child processes (the handle passing Node's cluster module uses), so the kernel
 * delivers queries to whichever process reads first. A worker answers only from the whole answers
 * the agent mirrors to it (fast-path.ts) and relays everything else back over IPC, so every
 * decision (routing, recursion, errors) stays in the agent. Catalog and config changes reach the
 * workers as a `clear` message sent while the change is applied; a worker may answer from the
 * previous state for the time that message takes to arrive (well under a millisecond when idle),
 * the same kind of staleness Consul allows with `allow_stale`.
 *
 * Workers exit when the agent's IPC channel closes, so they never outlive it, even after kill -9.
 */
import { fork, type ChildProcess } from 'node:child_process'
import type dgram from 'node:dgram'
import { fileURLToPath } from 'node:url'
import type { WholeAnswer } from './fast-path.js'
import type { SampleBatch } from '../lib/metrics.js'
import type { WholeAnswerMirror } from './router.js'

/** Messages from the agent to a worker. */
export type ToWorker =
  | { type: 'socket'; listener: number }
  | { type: 'put'; key: string; entry: WholeAnswer }
  | { type: 'clear' }

/** Messages from a worker to the agent. */
export type FromWorker =
  | { type: 'query'; listener: number; query: Uint8Array; port: number; address: string }
  | { type: 'stats'; answered: number; relayed: number; timings: WorkerTimings }

/** The answer times (ms) a worker gathered since its last report, for dns.domain_query and dns.ptr_query. */
export interface WorkerTimings {
  domain?: SampleBatch
  ptr?: SampleBatch
}

const WORKER_ENTRY = fileURLToPath(new URL('./udp-worker.js', import.meta.url))
/** How long a worker gets to exit after its channel closes before it is killed. */
const EXIT_GRACE_MS = 1000

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void

export interface UdpWorkerOptions {
  count: number
  sockets: readonly dgram.Socket[]
  /** A query a worker could not answer from its copy: the agent answers it on socket `listener`. */
  onQuery: (listener: number, query: Buffer, port: number, address: string) => void
  /** A worker's answer times since its last report (about once a second). */
  onTimings?: (t: WorkerTimings) => void
  log: Log
}

export class UdpWorkers implements WholeAnswerMirror {
  readonly #children = new Set<ChildProcess>()
  readonly #stats = new Map<ChildProcess, { answered: number; relayed: number }>()
  #closing = false

  constructor(readonly opts: UdpWorkerOptions) {
    for (let i = 0; i < opts.count; i++) this.#spawn(i)
  }

  #spawn(n: number): void {
    const child = fork(WORKER_ENTRY, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] })
    this.#children.add(child)
    child.on('error', (err) => this.opts.log('warn', `dns: udp worker ${n}: ${err.message}`))
    child.on('exit', (code, signal) => {
      this.#children.delete(child)
      if (!this.#closing) this.opts.log('warn', `dns: udp worker ${n} exited (${signal ?? `code ${code}`}); ${this.#children.size} left, the agent still answers on its own`)
    })
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'query') {
        const q = msg.query
        this.opts.onQuery(msg.listener, Buffer.isBuffer(q) ? q : Buffer.from(q.buffer, q.byteOffset, q.byteLength), msg.port, msg.address)
      } else if (msg.type === 'stats') {
        this.#stats.set(child, { answered: msg.answered, relayed: msg.relayed })
        if (msg.timings.domain || msg.timings.ptr) this.opts.onTimings?.(msg.timings)
      }
    })
    this.opts.sockets.forEach((socket, listener) => this.#send(child, { type: 'socket', listener }, socket))
  }

  #send(child: ChildProcess, msg: ToWorker, handle?: dgram.Socket): void {
    if (!child.connected) return
    // A worker that died between the check and the write: its exit is logged; nothing to do here.
    child.send(msg, handle, {}, () => undefined)
  }

  #broadcast(msg: ToWorker): void {
    for (const child of this.#children) this.#send(child, msg)
  }

  /** Mirrors a whole answer: only its wire parts cross the process boundary. */
  put(key: string, entry: WholeAnswer): void {
    if (this.#children.size === 0) return
    const groups = entry.groups.map((g) => ({ answerWire: g.answerWire, answerCount: g.answerCount, additionalWire: g.additionalWire, additionalKeys: g.additionalKeys }))
    this.#broadcast({ type: 'put', key, entry: { ...entry, groups } })
  }

  clear(): void {
    this.#broadcast({ type: 'clear' })
  }

  /** Running workers, and the queries they answered or relayed (as last reported, about once a second). */
  stats(): { workers: number; answered: number; relayed: number } {
    let answered = 0
    let relayed = 0
    for (const s of this.#stats.values()) {
      answered += s.answered
      relayed += s.relayed
    }
    return { workers: this.#children.size, answered, relayed }
  }

  async close(): Promise<void> {
    this.#closing = true
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
            child.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
            if (child.connected) child.disconnect()
            else child.kill('SIGTERM')
          }),
      ),
    )
  }
}
