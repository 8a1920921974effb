/**
 * mesos-consul's start-up: its flags (upstream's names and defaults) into a running bridge, the
 * health and metrics endpoint, and a clean stop on SIGTERM/SIGINT. Bad flags throw before anything
 * starts, naming the flag.
 */
import { Logger, parseLogLevel } from '../../lib/line-log.js'
import { VERSION } from '../../version.js'
import { agentPoolFrom, type ConsulAgentFlags } from '../agents.js'
import { Registrar } from '../registrar.js'
import { bridgeMetrics, positiveDuration, serveBridge } from '../serve.js'
import { MesosBridge, StaticMasters, type MasterSource } from './bridge.js'
import { IP_SOURCES, type HostPort, type IpSource } from './state.js'
import { ZkMasters, parseZkUrl } from './zk.js'

export interface MesosFlags extends ConsulAgentFlags {
  zk: string
  'mesos-master'?: string
  refresh: string
  'mesos-ip-order': string
  'service-name': string
  'service-tags'?: string
  'service-id-prefix': string
  healthcheck: boolean
  'healthcheck-ip': string
  'healthcheck-port': number
  whitelist?: string[]
  blacklist?: string[]
  'fw-whitelist'?: string[]
  'task-tag'?: string[]
  'shared-service-name'?: string[]
  'group-separator': string
  version: boolean
  'heartbeats-before-remove': number
  'state-timeout': string
  'log-level': string
}

function regexes(flag: string, list: readonly string[] | undefined): RegExp[] {
  return (list ?? []).map((r) => {
    try {
      return new RegExp(r)
    } catch (err) {
      throw new Error(`--${flag}=${r}: ${(err as Error).message}`)
    }
  })
}

export function parseHostPorts(flag: string, text: string, defaultPort: number): HostPort[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(s.replace(/^https?:\/\//, '').replace(/\/.*$/, ''))
    const port = m?.[3] === undefined ? defaultPort : Number(m[3])
    if (!m || !(port > 0 && port < 65536)) throw new Error(`--${flag}: bad address ${JSON.stringify(s)} (want host[:port])`)
    return { host: m[1] ?? m[2]!, port }
  })
}

/** Runs until a signal; resolves with the exit code. */
export async function runMesosBridge(f: MesosFlags): Promise<number> {
  if (f.version) {
    process.stdout.write(`mesos-consul ${VERSION} (consulate)\n`)
    return 0
  }
  const level = parseLogLevel(f['log-level'])
  const log = new Logger(level)
  const ipOrder = f['mesos-ip-order'].split(',').map((s) => s.trim().toLowerCase())
  for (const s of ipOrder) if (!(IP_SOURCES as readonly string[]).includes(s)) throw new Error(`--mesos-ip-order: ${JSON.stringify(s)} is not one of ${IP_SOURCES.join(', ')}`)
  const taskTags = (f['task-tag'] ?? []).map((tt) => {
    const i = tt.lastIndexOf(':')
    if (i <= 0 || i === tt.length - 1) throw new Error(`--task-tag=${tt}: want pattern:tag`)
    return { pattern: regexes('task-tag', [tt.slice(0, i)])[0]!, tag: tt.slice(i + 1) }
  })
  const refreshMs = positiveDuration('refresh', f.refresh)
  if (!(f['heartbeats-before-remove'] >= 1)) throw new Error('--heartbeats-before-remove: must be 1 or more')
  const source: MasterSource = f['mesos-master'] ? new StaticMasters(parseHostPorts('mesos-master', f['mesos-master'], 5050)) : new ZkMasters(parseZkUrl(f.zk), log)
  const metrics = bridgeMetrics('mesos_consul')
  const agents = agentPoolFrom(f)
  const idPrefix = f['service-id-prefix']
  const registrar = new Registrar({ api: agents, prefix: `${idPrefix}:`, log, component: 'consul' })
  const bridge = new MesosBridge({
    idPrefix,
    serviceName: f['service-name'],
    serviceTags: (f['service-tags'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    ipOrder: ipOrder as IpSource[],
    whitelist: regexes('whitelist', f.whitelist),
    blacklist: regexes('blacklist', f.blacklist),
    frameworkWhitelist: regexes('fw-whitelist', f['fw-whitelist']),
    taskTags,
    sharedNames: regexes('shared-service-name', f['shared-service-name']),
    groupSeparator: f['group-separator'],
    consulPort: f['consul-port'],
    // Three missed refreshes before Consul calls a health-checked task critical on its own.
    healthTtl: `${Math.max(30, Math.ceil((3 * refreshMs) / 1000))}s`,
    source,
    refreshMs,
    heartbeatsBeforeRemove: f['heartbeats-before-remove'],
    stateTimeoutMs: positiveDuration('state-timeout', f['state-timeout']),
    registrar,
    agents,
    log,
    metrics,
  })
  const server = f.healthcheck ? await serveBridge({ host: f['healthcheck-ip'], port: f['healthcheck-port'] }, metrics) : undefined
  if (server) {
    const a = server.address()
    log.info('mesos', `health and metrics on http://${typeof a === 'object' && a ? `${f['healthcheck-ip']}:${a.port}` : f['healthcheck-port']}/`)
  }
  log.info('mesos', `watching Mesos masters from ${source.describe()} every ${f.refresh}`)
  bridge.start()
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await bridge.stop()
  server?.close()
  agents.close()
  return 0
}
