/**
 * Output capture shared by the runners: a tail buffer like the circular buffer Consul captures into
 * (it keeps the *last* bytes, since a failing script usually explains itself at the end), and the
 * Go-shaped error texts Consul's checks report, so users see the same words as with Consul.
 */

/** Keeps the last `max` bytes written and counts everything written. Memory stays O(max). */
export class TailBuffer {
  #chunks: Buffer[] = []
  #held = 0
  #total = 0

  constructor(readonly max: number) {}

  write(chunk: Buffer): void {
    this.#total += chunk.length
    if (this.max <= 0) return
    if (chunk.length >= this.max) {
      this.#chunks = [Buffer.from(chunk.subarray(chunk.length - this.max))]
      this.#held = this.max
      return
    }
    this.#chunks.push(chunk)
    this.#held += chunk.length
    while (this.#held - (this.#chunks[0]?.length ?? 0) >= this.max) {
      this.#held -= this.#chunks.shift()!.length
    }
  }

  get totalWritten(): number {
    return this.#total
  }

  bytes(): Buffer {
    const all = Buffer.concat(this.#chunks, this.#held)
    return all.length > this.max ? all.subarray(all.length - this.max) : all
  }

  toString(): string {
    return this.bytes().toString('utf8')
  }

  /** Consul's script/Docker form: the kept tail, prefixed with a note when bytes were dropped. */
  captured(): string {
    const kept = this.bytes()
    if (this.#total > kept.length) {
      return `Captured ${kept.length} of ${this.#total} bytes\n...\n${kept.toString('utf8')}`
    }
    return kept.toString('utf8')
  }
}

/**
 * Consul's TTL form: the first `max` bytes and a note, `<head> ... (captured N of M bytes)`.
 * Cuts on a UTF-8 character boundary so the kept text stays valid.
 */
export function truncateHead(output: string, max: number): string {
  const buf = Buffer.from(output, 'utf8')
  if (buf.length <= max) return output
  let end = Math.max(0, max)
  // Back off continuation bytes (10xxxxxx) so a multi-byte character is not split.
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--
  return `${buf.subarray(0, end).toString('utf8')} ... (captured ${max} of ${buf.length} bytes)`
}

/** strerror texts Go prints for the errnos a check commonly meets. */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EPIPE: 'broken pipe',
  ENOENT: 'no such file or directory',
}

interface SysError {
  code?: string
  syscall?: string
  address?: string
  port?: number
  hostname?: string
  message: string
}

/** The reason part of a Go net error for a Node system error: `connect: connection refused`. */
export function errnoText(err: unknown): string {
  const e = err as SysError
  const text = (e.code && ERRNO_TEXT[e.code]) ?? e.message
  return text
}

/** Go's `net.Dialer.Dial` error text: `dial tcp 127.0.0.1:1: connect: connection refused`. */
export function dialErrorText(network: 'tcp' | 'udp', target: string, err: unknown): string {
  const e = err as SysError
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return `dial ${network}: lookup ${e.hostname ?? target}: no such host`
  }
  const addr = e.address !== undefined && e.port !== undefined ? joinHostPort(e.address, e.port) : target
  if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || e.code === 'ETIMEDOUT') {
    return `dial ${network} ${addr}: connect: ${errnoText(e)}`
  }
  return `dial ${network} ${addr}: ${errnoText(e)}`
}

/** Go's net.JoinHostPort: brackets around IPv6 literals. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * Go's net.SplitHostPort, for the `tcp`/`udp` fields (`host:port`, `[v6]:port`).
 * Returns an error text in Go's words when the address has no usable port.
 */
export function splitHostPort(addr: string): { host: string; port: number } | { error: string } {
  let host: string
  let portText: string
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']')
    if (close < 0) return { error: `address ${addr}: missing ']' in address` }
    host = addr.slice(1, close)
    if (addr[close + 1] !== ':') return { error: `address ${addr}: missing port in address` }
    portText = addr.slice(close + 2)
  } else {
    const colon = addr.lastIndexOf(':')
    if (colon < 0) return { error: `address ${addr}: missing port in address` }
    host = addr.slice(0, colon)
    if (host.includes(':')) return { error: `address ${addr}: too many colons in address` }
    portText = addr.slice(colon + 1)
  }
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535) return { error: `address ${portText}: invalid port` }
  return { host: host === '' ? 'localhost' : host, port }
}
