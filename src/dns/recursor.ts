/**
 * Forwarding of names outside our domains to the configured `recursors`. The query goes out as
 * the client sent it and the upstream's answer comes back byte for byte, so its TTLs survive
 * (Consul rewrites them to 0, hashicorp/consul#14703). Recursors are tried in order (or in a
 * random order with `recursor_strategy: random`), each for `recursor_timeout`; when all fail
 * the client gets SERVFAIL.
 */
import dgram from 'node:dgram'
import net, { isIP } from 'node:net'
import { DNS_LIMITS } from './limits.js'

export interface RecursorTarget {
  host: string
  port: number
}

const DEFAULT_DNS_PORT = 53

/** `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` → host and port; undefined when malformed. */
export function parseRecursor(text: string): RecursorTarget | undefined {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (bracket) return target(bracket[1]!, bracket[2])
  if (isIP(text) === 6) return target(text, undefined)
  const colon = text.lastIndexOf(':')
  if (colon > 0) return target(text.slice(0, colon), text.slice(colon + 1))
  return target(text, undefined)
}

function target(host: string, port: string | undefined): RecursorTarget | undefined {
  const p = port === undefined ? DEFAULT_DNS_PORT : Number(port)
  if (!Number.isInteger(p) || p < 1 || p > 65535 || isIP(host) === 0) return undefined
  return { host, port: p }
}

export class Recursor {
  #inFlight = 0

  /**
   * Sends `query` to each recursor in turn until one answers; resolves to its raw answer, or
   * undefined when none did in time (or too many forwards are already waiting).
   */
  async forward(query: Buffer, opts: { recursors: readonly string[]; timeoutMs: number; strategy: 'sequential' | 'random'; transport?: 'udp' | 'tcp' }): Promise<Buffer | undefined> {
    if (this.#inFlight >= DNS_LIMITS.recursorMaxInFlight) return undefined
    const targets = opts.recursors.map(parseRecursor).filter((t): t is RecursorTarget => t !== undefined)
    if (opts.strategy === 'random') {
      for (let i = targets.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1))
        ;[targets[i], targets[j]] = [targets[j]!, targets[i]!]
      }
    }
    this.#inFlight++
    try {
      for (const t of targets) {
        // A TCP client may take more than a datagram holds, so it is forwarded over TCP.
        const answer = opts.transport === 'tcp' ? await exchangeTcp(query, t, opts.timeoutMs) : await exchange(query, t, opts.timeoutMs)
        if (answer) return answer
      }
      return undefined
    } finally {
      this.#inFlight--
    }
  }
}

/** One UDP round trip; only an answer with the query's ID from the target counts. */
function exchange(query: Buffer, t: RecursorTarget, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIP(t.host) === 6 ? 'udp6' : 'udp4')
    let done = false
    const finish = (value: Buffer | undefined): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.close()
      resolve(value)
    }
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    socket.on('error', () => finish(undefined))
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== t.port || msg.length < 12 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return
      finish(msg)
    })
    socket.send(query, t.port, t.host, (err) => {
      if (err) finish(undefined)
    })
  })
}

/** One TCP round trip (RFC 1035 4.2.2 framing), bounded by the same timeout. */
function exchangeTcp(query: Buffer, t: RecursorTarget, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const conn = net.connect({ host: t.host, port: t.port })
    let buffered: Buffer = Buffer.alloc(0)
    let done = false
    const finish = (value: Buffer | undefined): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      conn.destroy()
      resolve(value)
    }
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    conn.on('error', () => finish(undefined))
    conn.on('close', () => finish(undefined))
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 2) return
      const len = buffered.readUInt16BE(0)
      if (buffered.length < 2 + len) return
      const msg = buffered.subarray(2, 2 + len)
      finish(msg.length >= 12 && msg.readUInt16BE(0) === query.readUInt16BE(0) ? Buffer.from(msg) : undefined)
    })
    const frame = Buffer.alloc(2 + query.length)
    frame.writeUInt16BE(query.length, 0)
    query.copy(frame, 2)
    conn.write(frame)
  })
}
