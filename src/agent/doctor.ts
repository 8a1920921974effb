/**
 * `consul doctor` (ours): checks a node's set-up before (or while) the agent runs and names the fix
 * for what is wrong: the configuration as the agent reads it (a bad gossip key included), data_dir
 * writable, every port it would listen on free (or held by this node's running agent), the TLS
 * files readable and parseable, the open-file limit, and the clock against the servers.
 */
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { dirname, join } from 'node:path'
import { loadConfig, type AgentFlags, type RuntimeConfig } from './config.js'
import { ConfigError } from '../lib/errors.js'

export interface Finding {
  check: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
  fix?: string
}

/** Binds one port briefly: undefined when free, else the reason. */
async function portTaken(host: string, port: number, proto: 'tcp' | 'udp'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const done = (err?: NodeJS.ErrnoException): void => resolve(err ? err.code ?? err.message : undefined)
    if (proto === 'tcp') {
      const s = createServer()
      s.once('error', done)
      s.listen({ host, port, exclusive: true }, () => s.close(() => done()))
    } else {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4')
      s.once('error', (e) => {
        s.close()
        done(e)
      })
      s.bind({ address: host, port, exclusive: true }, () => s.close(() => done()))
    }
  })
}

function dataDirFinding(dir: string | undefined): Finding {
  if (!dir) return { check: 'data_dir', status: 'ok', detail: 'none (a -dev agent keeps everything in memory)' }
  let probeDir = dir
  try {
    if (!statSync(dir).isDirectory()) return { check: 'data_dir', status: 'fail', detail: `${dir} is not a directory`, fix: `point data_dir at a directory, or remove ${dir}` }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { check: 'data_dir', status: 'fail', detail: `${dir}: ${(err as Error).message}`, fix: `make it a directory the agent's user owns: install -d -o consul -g consul ${dir} (its parents must be directories)` }
    probeDir = dirname(dir)
  }
  const probe = join(probeDir, `.consul-doctor-${process.pid}`)
  try {
    if (probeDir !== dir) mkdirSync(probeDir, { recursive: true })
    writeFileSync(probe, 'x')
    rmSync(probe)
    return { check: 'data_dir', status: 'ok', detail: probeDir === dir ? `${dir} is writable` : `${dir} does not exist yet; the agent can create it` }
  } catch (err) {
    return { check: 'data_dir', status: 'fail', detail: `${dir} is not writable: ${(err as Error).message}`, fix: `create it for the agent's user: install -d -o consul -g consul ${dir}` }
  }
}

function tlsFindings(cfg: RuntimeConfig): Finding[] {
  const out: Finding[] = []
  const files = new Map<string, 'ca' | 'cert' | 'key'>()
  for (const t of [cfg.tls, cfg.rpcTls]) {
    if (t.caFile) files.set(t.caFile, 'ca')
    if (t.certFile) files.set(t.certFile, 'cert')
    if (t.keyFile) files.set(t.keyFile, 'key')
  }
  for (const [file, kind] of files) {
    try {
      accessSync(file, constants.R_OK)
      const pem = readFileSync(file)
      if (kind === 'key') createPrivateKey(pem)
      else new X509Certificate(pem)
      out.push({ check: 'tls', status: 'ok', detail: `${file} (${kind}) is readable` })
    } catch (err) {
      out.push({ check: 'tls', status: 'fail', detail: `${file} (${kind}): ${(err as Error).message}`, fix: `check the path and that the agent's user can read it; \`consul tls cert create\` makes a ${kind === 'key' ? 'key and certificate' : 'certificate'}` })
    }
  }
  return out
}

function fdFinding(): Finding {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const soft = Number(line?.split(/\s{2,}/)[1])
    if (!(soft > 0)) return { check: 'file descriptors', status: 'ok', detail: 'limit not known here' }
    if (soft < 4096) return { check: 'file descriptors', status: 'warn', detail: `the open-file limit is ${soft}; an agent with many connections, checks and watches needs more`, fix: 'LimitNOFILE=65536 in the systemd unit, or ulimit -n 65536' }
    return { check: 'file descriptors', status: 'ok', detail: `the open-file limit is ${soft}` }
  } catch {
    return { check: 'file descriptors', status: 'ok', detail: 'limit not known here' }
  }
}

/** The agent this configuration describes, when one answers on its HTTP address. */
async function runningAgent(cfg: RuntimeConfig): Promise<{ base: string; self: Record<string, any> } | undefined> {
  if (cfg.ports.http < 0) return undefined
  const host = cfg.httpAddrs[0] ?? cfg.clientAddrs[0] ?? '127.0.0.1'
  const base = `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${cfg.ports.http}`
  try {
    const res = await fetch(`${base}/v1/agent/self`, { signal: AbortSignal.timeout(1500) })
    return res.ok ? { base, self: (await res.json()) as Record<string, any> } : undefined
  } catch {
    return undefined
  }
}

async function portFindings(cfg: RuntimeConfig): Promise<Finding[]> {
  const wanted: Array<{ name: string; key: string; host: string; port: number; protos: Array<'tcp' | 'udp'> }> = []
  for (const h of cfg.httpAddrs.length ? cfg.httpAddrs : cfg.clientAddrs) if (cfg.ports.http >= 0) wanted.push({ name: 'HTTP API', key: 'ports.http', host: h, port: cfg.ports.http, protos: ['tcp'] })
  for (const h of cfg.httpsAddrs.length ? cfg.httpsAddrs : cfg.clientAddrs) if (cfg.ports.https > 0) wanted.push({ name: 'HTTPS API', key: 'ports.https', host: h, port: cfg.ports.https, protos: ['tcp'] })
  for (const h of cfg.dnsAddrs) if (cfg.ports.dns > 0) wanted.push({ name: 'DNS', key: 'ports.dns', host: h, port: cfg.ports.dns, protos: ['udp', 'tcp'] })
  if (cfg.ports.serfLan > 0) wanted.push({ name: 'LAN gossip', key: 'ports.serf_lan', host: cfg.bindAddr, port: cfg.ports.serfLan, protos: ['tcp', 'udp'] })
  if (cfg.server && cfg.ports.serfWan > 0) wanted.push({ name: 'WAN gossip', key: 'ports.serf_wan', host: cfg.bindAddr, port: cfg.ports.serfWan, protos: ['tcp', 'udp'] })
  if (cfg.server && cfg.ports.server > 0) wanted.push({ name: 'server RPC', key: 'ports.server', host: cfg.bindAddr, port: cfg.ports.server, protos: ['tcp'] })
  const out: Finding[] = []
  for (const w of wanted) {
    for (const proto of w.protos) {
      const why = await portTaken(w.host, w.port, proto)
      const where = `${w.host}:${w.port}/${proto}`
      if (!why) out.push({ check: 'ports', status: 'ok', detail: `${w.name} ${where} is free` })
      else if (why === 'EADDRINUSE') out.push({ check: 'ports', status: 'fail', detail: `${w.name} ${where} is taken by another process`, fix: `stop it (ss -lnp 'sport = :${w.port}' names it) or set ${w.key} to a free port` })
      else if (why === 'EACCES') out.push({ check: 'ports', status: 'fail', detail: `${w.name} ${where} needs privileges`, fix: `use a port above 1023, or give the agent CAP_NET_BIND_SERVICE (AmbientCapabilities= in the unit)` })
      else if (why === 'EADDRNOTAVAIL') out.push({ check: 'ports', status: 'fail', detail: `${w.name}: ${w.host} is not an address of this host`, fix: `set bind_addr / client_addr / addresses to one of this host's addresses (ip -br addr)` })
      else out.push({ check: 'ports', status: 'fail', detail: `${w.name} ${where}: ${why}` })
    }
  }
  return out
}

/** The servers' clocks against ours, from the Date header of their HTTP API (on our HTTP port). */
async function clockFindings(agent: { base: string }, httpPort: number): Promise<Finding[]> {
  let peers: string[] = []
  try {
    peers = (await (await fetch(`${agent.base}/v1/status/peers`, { signal: AbortSignal.timeout(1500) })).json()) as string[]
  } catch {
    return []
  }
  const out: Finding[] = []
  for (const p of peers) {
    const host = p.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
    try {
      const t0 = Date.now()
      const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${httpPort}/v1/status/leader`, { signal: AbortSignal.timeout(1500) })
      const date = Date.parse(res.headers.get('date') ?? '')
      if (Number.isNaN(date)) continue
      // The header has whole seconds: anything within 2 s is the resolution, not skew.
      const skew = Math.abs(date + 500 - (t0 + Date.now()) / 2)
      out.push(skew > 2000 ? { check: 'clock', status: 'warn', detail: `server ${host} is ${(skew / 1000).toFixed(0)} s off this host's clock`, fix: 'run an NTP client (chrony, systemd-timesyncd) on every node' } : { check: 'clock', status: 'ok', detail: `server ${host} agrees with this clock` })
    } catch {
      // A server whose HTTP API is not on our port or not reachable from here says nothing about clocks.
    }
  }
  return out
}

export async function runDoctor(flags: AgentFlags): Promise<Finding[]> {
  let cfg: RuntimeConfig
  const findings: Finding[] = []
  try {
    const loaded = loadConfig(flags)
    cfg = loaded.config
    findings.push({ check: 'config', status: 'ok', detail: loaded.files.length ? `${loaded.files.length} file(s) read: ${loaded.files.join(', ')}` : 'flags only' })
    for (const w of loaded.warnings) findings.push({ check: 'config', status: 'warn', detail: w })
  } catch (err) {
    const key = err instanceof ConfigError ? err.key : ''
    const fix = key === 'encrypt' ? 'generate a key with `consul keygen` and put it in encrypt (the same on every agent)' : key === 'data_dir' ? 'set data_dir in a config file or give -data-dir' : 'correct the key named; `consul validate` checks the files again'
    return [{ check: 'config', status: 'fail', detail: (err as Error).message, fix }]
  }
  if (cfg.encrypt) findings.push({ check: 'gossip key', status: 'ok', detail: 'encrypt is a valid key' })
  findings.push(dataDirFinding(cfg.dataDir))
  const agent = await runningAgent(cfg)
  if (agent) {
    findings.push({ check: 'ports', status: 'ok', detail: `an agent (${String(agent.self.Config?.NodeName ?? '?')}) answers on ${agent.base}; the ports are its own` })
    findings.push(...(await clockFindings(agent, cfg.ports.http)))
  } else findings.push(...(await portFindings(cfg)))
  findings.push(...tlsFindings(cfg))
  findings.push(fdFinding())
  return findings
}
