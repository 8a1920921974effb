/**
 * What the bridges' integration tests and bench share: a small cluster on loopback (one server
 * and client agents on 127.0.0.x, every agent on the same HTTP port as on real hosts), the bridges
 * as real processes, and readers for their /metrics and the catalog.
 */
import { execFile, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { ROOT, spawnBin, startAgent, tempDir, removeDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

export interface Host {
  ip: string
  name: string
  dataDir: string
  agent: RunningAgent
}

export interface Cluster {
  httpPort: number
  server: Host
  clients: Host[]
  restart(h: Host): Promise<void>
  stop(): Promise<void>
}

/** A server on `ips[0]` (DNS on) and client agents on the rest, joined. */
export async function startCluster(ips: readonly string[]): Promise<Cluster> {
  const httpPort = 20000 + Math.floor(Math.random() * 20000)
  const lanPort = httpPort + 1
  const args = (ip: string): string[] => [`-bind=${ip}`, `-client=${ip}`, `-http-port=${httpPort}`, `-serf-lan-port=${lanPort}`, `-retry-join=${ips[0]}:${lanPort}`, '-retry-interval=200ms']
  const nameOf = (ip: string, kind: string): string => `${kind}${ip.split('.').at(-1)}`
  const sdir = tempDir('bridges-server-')
  const server: Host = { ip: ips[0]!, name: nameOf(ips[0]!, 's'), dataDir: sdir, agent: await startAgent({ bootstrap: true, dns: true, dataDir: sdir, node: nameOf(ips[0]!, 's'), args: args(ips[0]!) }) }
  const clients: Host[] = []
  for (const ip of ips.slice(1)) {
    const dataDir = tempDir('bridges-client-')
    clients.push({ ip, name: nameOf(ip, 'c'), dataDir, agent: await startAgent({ client: true, dataDir, node: nameOf(ip, 'c'), args: args(ip) }) })
  }
  await until('every agent in the catalog', async () => {
    const nodes = (await (await fetch(`${server.agent.httpAddr}/v1/catalog/nodes`)).json()) as unknown[]
    return nodes.length === ips.length ? true : undefined
  })
  return {
    httpPort,
    server,
    clients,
    async restart(h: Host) {
      h.agent = await startAgent({ client: true, dataDir: h.dataDir, node: h.name, args: args(h.ip) })
    },
    async stop() {
      for (const h of [...clients, server]) {
        await h.agent.stop()
        removeDir(h.dataDir)
      }
    },
  }
}

export interface RunningBridge {
  proc: ChildProcess
  output: () => string
  /** The /health + /metrics endpoint, once the bridge logged it. */
  endpoint: () => Promise<string>
  metric: (name: string) => Promise<number>
  stop: () => Promise<number | null>
}

export function startBridge(kind: 'mesos' | 'marathon', args: string[]): RunningBridge {
  const { proc, output, exited } = spawnBin(join(ROOT, 'bin', `${kind}-consul.js`), args)
  const endpoint = (): Promise<string> => until(`${kind}-consul's endpoint in its log`, () => {
    if (proc.exitCode !== null) throw new Error(`${kind}-consul exited ${proc.exitCode}:\n${output()}`)
    const m = /(?:health and metrics on http:\/\/|listening on )(\S+?:\d+)/.exec(output())
    return m ? `http://${m[1]!.replace(/\/$/, '')}` : undefined
  })
  return {
    proc,
    output,
    endpoint,
    async metric(name: string) {
      const text = await (await fetch(`${await endpoint()}/metrics`)).text()
      let sum = 0
      for (const line of text.split('\n')) {
        const m = /^(\S+?)(\{[^}]*\})? (\S+)$/.exec(line)
        if (m && m[1] === name) sum += Number(m[3])
      }
      return sum
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      return exited
    },
  }
}

/** Every catalog instance of `service` as `ServiceID@Node Address:Port [tags]`, sorted (`prefix` filters IDs). */
export async function catalogOf(base: string, service: string, prefix = ''): Promise<string[]> {
  const res = await fetch(`${base}/v1/catalog/service/${encodeURIComponent(service)}`)
  const list = (await res.json()) as Array<{ ServiceID: string; Node: string; ServiceAddress: string; ServicePort: number; ServiceTags: string[] }>
  return list.filter((s) => s.ServiceID.startsWith(prefix)).map((s) => `${s.ServiceID}@${s.Node} ${s.ServiceAddress}:${s.ServicePort} [${s.ServiceTags.join(',')}]`).sort()
}

/** Every catalog service ID starting with `prefix`, across all services. */
export async function catalogIds(base: string, prefix: string): Promise<string[]> {
  const names = Object.keys((await (await fetch(`${base}/v1/catalog/services`)).json()) as Record<string, string[]>)
  const ids: string[] = []
  for (const n of names) {
    const list = (await (await fetch(`${base}/v1/catalog/service/${encodeURIComponent(n)}`)).json()) as Array<{ ServiceID: string }>
    for (const s of list) if (s.ServiceID.startsWith(prefix)) ids.push(s.ServiceID)
  }
  return ids.sort()
}

export function dig(server: string, port: number, name: string, type = 'SRV'): Promise<string[]> {
  return new Promise((resolve, reject) => execFile('dig', [`@${server}`, '-p', String(port), '+short', '+time=3', '+tries=1', name, type], (err, stdout) => (err ? reject(err) : resolve(stdout.trim().split('\n').filter(Boolean).sort()))))
}

export { removeDir, tempDir }
