import dgram from 'node:dgram'
import { lookup as dnsLookup } from 'node:dns'
import { readFile, stat } from 'node:fs/promises'
import http from 'node:http'
import net, { isIP } from 'node:net'
import type { Host } from '../host.js'
import { DISTRIBUTIVE_LIMITS } from '../limits.js'
import { parseDuration, parseHostPort, parsePort, parseRegex } from '../params.js'
import { fail, mismatch, pass, ParamError, unknown, type CheckDef, type CheckResult } from '../types.js'

/** /proc/net/tcp state of a listening socket; UDP sockets show 07 (closed) when merely bound. */
const TCP_LISTEN = '0A'
const UDP_BOUND = '07'
/** IFF_UP in /sys/class/net/<if>/flags. */
const IFF_UP = 0x1
/** How often a UDP probe is resent while waiting for the kernel's ICMP port-unreachable. */
const UDP_RESEND_MS = 50

// ---------- /proc/net readers ----------

function listeningPorts(host: Host, proto: 'tcp' | 'udp'): Promise<Set<number>> {
  return host.memo(`ports:${proto}`, async () => {
    const ports = new Set<number>()
    // A missing table means no IPv6, or no such protocol in this kernel.
    const texts = await Promise.all([proto, `${proto}6`].map((f) => readFile(host.proc(`net/${f}`), 'utf8').catch(() => '')))
    for (const line of texts.join('\n').split('\n')) {
      const f = line.trim().split(/\s+/)
      if (f.length < 4) continue
      const port = parseInt(f[1]!.split(':')[1] ?? '', 16)
      if (f[3] === (proto === 'tcp' ? TCP_LISTEN : UDP_BOUND)) ports.add(port)
    }
    return ports
  })
}

export interface Route {
  iface: string
  destination: string
  gateway: string
}

/** /proc/net/route: hex little-endian IPv4 words. */
function hexToIp(hex: string): string {
  const n = parseInt(hex, 16)
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.')
}

export function routes(host: Host): Promise<Route[]> {
  return host.memo('routes', async () => parseRoutes(await readFile(host.proc('net/route'), 'utf8')))
}

function parseRoutes(text: string): Route[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3)
    .map((f) => ({ iface: f[0]!, destination: hexToIp(f[1]!), gateway: hexToIp(f[2]!) }))
}

/** Expands an IPv6 address to 32 hex digits, as /proc/net/if_inet6 prints it. */
function ipv6Hex(ip: string): string | undefined {
  if (isIP(ip) !== 6) return undefined
  const [head, tail] = ip.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase()
}

// ---------- sockets ----------

function lookupFor(host: Host): net.LookupFunction {
  return host.lookup ?? (dnsLookup as unknown as net.LookupFunction)
}

function tcpConnect(host: Host, target: { host: string; port: number }, timeoutMs: number | undefined, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: target.host, port: target.port, lookup: lookupFor(host), signal })
    let timer: NodeJS.Timeout | undefined
    const done = (r: CheckResult): void => {
      clearTimeout(timer)
      sock.destroy()
      resolve(r)
    }
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => done(fail(`Could not connect over TCP within ${timeoutMs} ms: ${target.host}:${target.port}`)), timeoutMs)
    }
    sock.once('connect', () => done(pass()))
    sock.once('error', (err) => done(fail(`Could not connect over TCP: ${target.host}:${target.port}: ${err.message}`)))
  })
}

/**
 * A UDP check that can fail: upstream "dialled" UDP, which never sends anything and so always succeeds. This one
 * sends empty datagrams and fails when the kernel reports ICMP port-unreachable (ECONNREFUSED on the connected
 * socket). A reply passes at once; silence for the whole window passes too, since an open UDP port need not answer.
 */
function udpProbe(host: Host, target: { host: string; port: number }, waitMs: number, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    // An address needs no lookup (and a pinned test resolver need not understand one).
    const resolve4or6: net.LookupFunction = isIP(target.host) ? (h, _o, cb) => (cb as (e: null, a: string, f: number) => void)(null, h, isIP(h)) : lookupFor(host)
    resolve4or6(target.host, {}, (err, address, family) => {
      if (err) return resolve(fail(`Could not resolve ${target.host}: ${err.message}`))
      const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4')
      let interval: NodeJS.Timeout | undefined
      let timer: NodeJS.Timeout | undefined
      let settled = false
      const done = (r: CheckResult): void => {
        if (settled) return
        settled = true
        clearInterval(interval)
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        sock.close()
        resolve(r)
      }
      const onAbort = (): void => done(unknown('aborted'))
      signal.addEventListener('abort', onAbort, { once: true })
      const send = (): void =>
        sock.send(Buffer.alloc(0), (e) => {
          if (e) done(fail(`UDP port unreachable: ${target.host}:${target.port} (${(e as NodeJS.ErrnoException).code ?? e.message})`))
        })
      // Linux reports the ICMP error on the next send, or on the receive path as an 'error' event.
      sock.on('error', (e: NodeJS.ErrnoException) =>
        done(fail(e.code === 'ECONNREFUSED' ? `UDP port unreachable: ${target.host}:${target.port} (ECONNREFUSED)` : `UDP error: ${target.host}:${target.port}: ${e.message}`)),
      )
      sock.on('message', () => done(pass()))
      sock.connect(target.port, address as string, () => {
        send()
        interval = setInterval(send, UDP_RESEND_MS)
        timer = setTimeout(() => done(pass()), waitMs)
      })
    })
  })
}

/** Redirects followed by responseMatches, as Go's http.Get (which upstream used) follows at most 10. */
const HTTP_REDIRECTS_MAX = 10

/** GETs the body (whatever the status, as upstream), following redirects. */
async function httpGet(host: Host, url: URL, insecure: boolean, signal: AbortSignal): Promise<string> {
  let current = url
  for (let hop = 0; ; hop++) {
    const r = await httpGetOnce(host, current, insecure, signal)
    if (r.location === undefined) return r.body
    if (hop >= HTTP_REDIRECTS_MAX) throw new Error(`stopped after ${HTTP_REDIRECTS_MAX} redirects`)
    current = new URL(r.location, current)
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new Error(`redirect to ${current.protocol} URL`)
  }
}

async function httpGetOnce(host: Host, url: URL, insecure: boolean, signal: AbortSignal): Promise<{ body: string; location?: string }> {
  // node:https (TLS) is loaded only by a run that needs it: it is a good part of start-up otherwise.
  const mod = url.protocol === 'https:' ? await import('node:https') : http
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { lookup: lookupFor(host), rejectUnauthorized: !insecure, signal }, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume()
        return resolve({ body: '', location: res.headers.location })
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        // Read at most the limit; the rest is not matched (a check body is not a download).
        if (size < DISTRIBUTIVE_LIMITS.httpBodyBytesMax) chunks.push(c)
        size += c.length
      })
      res.on('end', () => resolve({ body: Buffer.concat(chunks).subarray(0, DISTRIBUTIVE_LIMITS.httpBodyBytesMax).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

// ---------- definitions ----------

function portCheck(name: string, protos: ('tcp' | 'udp')[]): CheckDef {
  return {
    names: [name],
    params: 1,
    summary: `something is listening on the local ${protos.join(' or ').toUpperCase()} port (from /proc/net)`,
    parse: ([p]) => {
      const port = parsePort(p!)
      return async (host) => {
        for (const proto of protos) if ((await listeningPorts(host, proto)).has(port)) return pass()
        return fail(`Port not open: ${port} (${protos.join('/')})`)
      }
    },
  }
}

function routeCheck(name: string, field: keyof Route, isIp: boolean): CheckDef {
  return {
    names: [name],
    params: 1,
    summary: `the value is in the ${field} column of the IPv4 routing table`,
    parse: ([v]) => {
      if (!v) throw new ParamError('empty parameter')
      return async (host) => {
        const found = (await routes(host)).map((r) => r[field])
        if (isIp && isIP(v) !== 4) return fail(`Not an IPv4 address: ${v}`)
        return found.includes(v) ? pass() : mismatch(`Not found in routing table ${field} column`, v, [...new Set(found)], DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  }
}

function ipCheck(names: string[], family: 4 | 6): CheckDef {
  return {
    names,
    params: 2,
    summary: `the interface has this IPv${family} address`,
    parse: ([iface, ip]) => {
      if (!iface) throw new ParamError('empty interface name')
      return async (host) => {
        // Not a config error: upstream's samples pass "failme" here and expect a failing check.
        if (isIP(ip!) !== family) return fail(`Not an IPv${family} address: ${JSON.stringify(ip)}`)
        let found: string[]
        if (family === 6) {
          // /proc/net/if_inet6 keeps this check under the configurable /proc root.
          let text = ''
          try {
            text = await readFile(host.proc('net/if_inet6'), 'utf8')
          } catch {
            return fail(`No IPv6 on this host (no /proc/net/if_inet6); wanted ${ip} on ${iface}`)
          }
          const rows = text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[5] === iface)
          found = rows.map((f) => f[0]!)
          return found.includes(ipv6Hex(ip!)!) ? pass() : mismatch(`Interface does not have IP`, `${iface} ${ip}`, found, DISTRIBUTIVE_LIMITS.actualItemsMax)
        }
        found = (host.interfaces()[iface!] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address)
        return found.includes(ip!) ? pass() : mismatch(`Interface does not have IP`, `${iface} ${ip}`, found, DISTRIBUTIVE_LIMITS.actualItemsMax)
      }
    },
  }
}

function responseCheck(name: string, insecure: boolean): CheckDef {
  return {
    names: [name],
    params: 2,
    summary: `an HTTP GET body matches the regex${insecure ? ' (TLS not verified)' : ''}`,
    parse: ([u, pattern]) => {
      let url: URL
      try {
        url = new URL(u!)
      } catch {
        throw new ParamError(`bad URL ${JSON.stringify(u)}`)
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ParamError(`not an http(s) URL: ${u}`)
      const re = parseRegex(pattern!)
      return async (host, signal) => {
        let body: string
        try {
          body = await httpGet(host, url, insecure, signal)
        } catch (err) {
          // One unreachable URL fails this check only (upstream stopped the whole run).
          return fail(`Could not fetch ${u}: ${(err as Error).message}`)
        }
        return re.test(body) ? pass() : fail(`Response does not match regexp:\n\tURL: ${u}\n\tRegexp: ${pattern}`)
      }
    },
  }
}

export const networkChecks: CheckDef[] = [
  portCheck('port', ['tcp', 'udp']),
  portCheck('portTCP', ['tcp']),
  portCheck('portUDP', ['udp']),
  {
    names: ['interfaceExists', 'interface'],
    params: 1,
    summary: 'the network interface exists (/sys/class/net)',
    parse: ([iface]) => {
      if (!iface || iface.includes('/')) throw new ParamError(`bad interface name ${JSON.stringify(iface)}`)
      return async (host) => {
        try {
          await stat(host.sys(`class/net/${iface}`))
          return pass()
        } catch {
          return fail(`Interface does not exist: ${iface}`)
        }
      }
    },
  },
  {
    names: ['up'],
    params: 1,
    summary: 'the network interface is up (IFF_UP)',
    parse: ([iface]) => {
      if (!iface || iface.includes('/')) throw new ParamError(`bad interface name ${JSON.stringify(iface)}`)
      return async (host) => {
        let flags: number
        try {
          flags = parseInt((await readFile(host.sys(`class/net/${iface}/flags`), 'utf8')).trim(), 16)
        } catch {
          return fail(`Interface does not exist: ${iface}`)
        }
        return flags & IFF_UP ? pass() : fail(`Interface is not up: ${iface}`)
      }
    },
  },
  ipCheck(['ip4', 'IP'], 4),
  ipCheck(['ip6'], 6),
  {
    names: ['gateway'],
    params: 1,
    summary: 'the default gateway (first non-zero gateway in the routing table) is this IPv4 address',
    parse: ([ip]) => async (host) => {
      const gw = (await routes(host)).find((r) => r.gateway !== '0.0.0.0')
      return gw?.gateway === ip ? pass() : fail(`Gateway does not match:\n\tSpecified: ${ip}\n\tActual: ${gw?.gateway ?? 'none'}`)
    },
  },
  {
    names: ['gatewayInterface'],
    params: 1,
    summary: 'the default gateway is reached through this interface',
    parse: ([iface]) => async (host) => {
      const gw = (await routes(host)).find((r) => r.gateway !== '0.0.0.0')
      return gw?.iface === iface ? pass() : fail(`Gateway interface does not match:\n\tSpecified: ${iface}\n\tActual: ${gw?.iface ?? 'none'}`)
    },
  },
  routeCheck('routingTableDestination', 'destination', true),
  routeCheck('routingTableInterface', 'iface', false),
  routeCheck('routingTableGateway', 'gateway', true),
  {
    names: ['host'],
    params: 1,
    summary: 'the host name resolves',
    parse: ([name]) => {
      if (!name) throw new ParamError('empty host name')
      return (host) =>
        new Promise((resolve) =>
          lookupFor(host)(name, {}, (err) => resolve(err ? fail(`Host cannot be resolved: ${name}: ${err.message}`) : pass())),
        )
    },
  },
  {
    names: ['tcp'],
    params: 1,
    summary: 'a TCP connection to host:port succeeds (within the check timeout)',
    parse: ([hp]) => {
      const target = parseHostPort(hp!)
      return (host, signal) => tcpConnect(host, target, undefined, signal)
    },
  },
  {
    names: ['tcpTimeout'],
    params: 2,
    summary: 'a TCP connection to host:port succeeds within the Go duration (upstream v0.3 dialled UDP here)',
    parse: ([hp, d]) => {
      const target = parseHostPort(hp!)
      const ms = parseDuration(d!)
      return (host, signal) => tcpConnect(host, target, ms, signal)
    },
  },
  {
    names: ['udp'],
    params: 1,
    summary: 'a UDP datagram to host:port is not refused (ICMP port unreachable)',
    parse: ([hp]) => {
      const target = parseHostPort(hp!)
      return (host, signal) => udpProbe(host, target, DISTRIBUTIVE_LIMITS.udpProbeWaitMs, signal)
    },
  },
  {
    names: ['udpTimeout'],
    params: 2,
    summary: 'a UDP datagram to host:port is not refused within the Go duration',
    parse: ([hp, d]) => {
      const target = parseHostPort(hp!)
      const ms = parseDuration(d!)
      return (host, signal) => udpProbe(host, target, ms, signal)
    },
  },
  responseCheck('responseMatches', false),
  responseCheck('responseMatchesInsecure', true),
]
