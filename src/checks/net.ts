import dgram from 'node:dgram'
import { lookup } from 'node:dns/promises'
import net from 'node:net'
import { deadline, type Probe, type ProbeResult } from './interval.js'
import { dialErrorText, errnoText, joinHostPort, splitHostPort } from './output.js'

/**
 * TCP check, as Consul's CheckTCP: a connection that is accepted within the timeout is passing
 * (`TCP connect <addr>: Success`), anything else critical with Go's dial error text.
 */
export function tcpProbe(addr: string, timeoutMs: number): Probe {
  return (ctx) =>
    new Promise<ProbeResult>((resolve) => {
      const parsed = splitHostPort(addr)
      if ('error' in parsed) {
        resolve({ status: 'critical', output: `dial tcp: ${parsed.error}` })
        return
      }
      const limit = deadline(ctx, timeoutMs)
      const sock = net.connect({ host: parsed.host, port: parsed.port })
      const finish = (r: ProbeResult): void => {
        limit.dispose()
        limit.signal.removeEventListener('abort', onAbort)
        sock.destroy()
        resolve(r)
      }
      const onAbort = (): void => {
        const target = sock.remoteAddress ? joinHostPort(sock.remoteAddress, parsed.port) : addr
        finish({ status: 'critical', output: `dial tcp ${target}: i/o timeout` })
      }
      limit.signal.addEventListener('abort', onAbort, { once: true })
      sock.once('connect', () => finish({ status: 'passing', output: `TCP connect ${addr}: Success` }))
      sock.once('error', (err) => finish({ status: 'critical', output: dialErrorText('tcp', addr, err) }))
    })
}

/**
 * UDP check, as Consul's CheckUDP: send a datagram on a connected socket and read. A reply, or no reply
 * before the timeout, is passing (`UDP connect <addr>: Success`): UDP has no handshake, so silence is
 * the normal answer of a live service. An error on the socket, above all ECONNREFUSED (the ICMP
 * port-unreachable the kernel reports on a connected socket), is critical.
 */
export function udpProbe(addr: string, timeoutMs: number): Probe {
  return async (ctx) => {
    const parsed = splitHostPort(addr)
    if ('error' in parsed) return { status: 'critical', output: `dial udp: ${parsed.error}` }
    let resolved: { address: string; family: number }
    try {
      resolved = await lookup(parsed.host)
    } catch (err) {
      return { status: 'critical', output: dialErrorText('udp', addr, err) }
    }
    const success: ProbeResult = { status: 'passing', output: `UDP connect ${addr}: Success` }
    return new Promise<ProbeResult>((resolve) => {
      const limit = deadline(ctx, timeoutMs)
      const sock = dgram.createSocket(resolved.family === 6 ? 'udp6' : 'udp4')
      let settled = false
      const finish = (r: ProbeResult): void => {
        if (settled) return
        settled = true
        limit.dispose()
        limit.signal.removeEventListener('abort', onAbort)
        try {
          sock.close()
        } catch {
          // Already closed by an error path.
        }
        resolve(r)
      }
      const onAbort = (): void => finish(success)
      limit.signal.addEventListener('abort', onAbort, { once: true })
      const remote = joinHostPort(resolved.address, parsed.port)
      const local = (): string => {
        try {
          const a = sock.address()
          return joinHostPort(a.address, a.port)
        } catch {
          return ''
        }
      }
      sock.on('error', (err) => {
        const op = (err as { syscall?: string }).syscall === 'connect' ? 'dial' : 'read'
        const text =
          op === 'dial'
            ? dialErrorText('udp', addr, err)
            : `read udp ${local()}->${remote}: read: ${errnoText(err)}`
        finish({ status: 'critical', output: text })
      })
      sock.on('message', () => finish(success))
      sock.connect(parsed.port, resolved.address, () => {
        // Consul writes its (empty) message; an empty datagram is enough to draw an ICMP error.
        sock.send(Buffer.alloc(0), (err) => {
          if (err) finish({ status: 'critical', output: `write udp ${local()}->${remote}: ${errnoText(err)}` })
        })
      })
    })
  }
}
