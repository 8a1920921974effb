/**
 * marathon-consul's start-up: flags (allegro/marathon-consul's names) into a running bridge, the
 * `--listen` endpoint (`/health`, `/metrics`, and `/events` for Marathon's callbacks), and a clean
 * stop on SIGTERM/SIGINT. Bad flags throw before anything starts, naming the flag.
 */
import { hostname } from 'node:os'
import { ConsulClient } from '../../client/client.js'
import { Logger, parseLogLevel } from '../../lib/line-log.js'
import { VERSION } from '../../version.js'
import { agentPoolFrom, type ConsulAgentFlags } from '../agents.js'
import { Registrar } from '../registrar.js'
import { bridgeMetrics, parseListen, positiveDuration, serveBridge } from '../serve.js'
import { MarathonBridge } from './bridge.js'

export interface MarathonFlags extends ConsulAgentFlags {
  'marathon-location': string
  'marathon-protocol': string
  'marathon-username'?: string
  'marathon-password'?: string
  'marathon-timeout': string
  events: string
  listen: string
  'callback-url'?: string
  'sync-interval': string
  'consul-timeout': string
  'consul-tag': string
  'consul-name-separator': string
  'service-id-prefix': string
  kv: boolean
  'kv-prefix': string
  consul?: string
  'log-level': string
  version: boolean
}

export async function runMarathonBridge(f: MarathonFlags): Promise<number> {
  if (f.version) {
    process.stdout.write(`marathon-consul ${VERSION} (consulate)\n`)
    return 0
  }
  const log = new Logger(parseLogLevel(f['log-level']))
  if (!['http', 'https'].includes(f['marathon-protocol'])) throw new Error(`--marathon-protocol=${f['marathon-protocol']}: want http or https`)
  const marathons = f['marathon-location'].split(',').map((s) => s.trim()).filter(Boolean).map((s) => (/^https?:\/\//.test(s) ? s : `${f['marathon-protocol']}://${s}`).replace(/\/+$/, ''))
  if (marathons.length === 0) throw new Error('--marathon-location: name at least one Marathon (host:port)')
  const listen = parseListen(f.listen)
  const metrics = bridgeMetrics('marathon_consul')
  const agents = agentPoolFrom(f, positiveDuration('consul-timeout', f['consul-timeout']))
  const idPrefix = f['service-id-prefix']
  const registrar = new Registrar({ api: agents, prefix: `${idPrefix}:`, log, component: 'consul' })
  const kvClient = f.kv ? new ConsulClient(agents.options(f.consul ?? `127.0.0.1:${f['consul-port']}`)) : undefined
  const events = f.events === 'callback' ? 'callback' : 'sse'
  const auth = f['marathon-username'] ? `${f['marathon-username']}:${f['marathon-password'] ?? ''}` : undefined
  const bridge = new MarathonBridge({
    idPrefix,
    consulTag: f['consul-tag'],
    consulPort: f['consul-port'],
    nameSeparator: f['consul-name-separator'],
    marathons,
    auth,
    timeoutMs: positiveDuration('marathon-timeout', f['marathon-timeout']),
    syncIntervalMs: positiveDuration('sync-interval', f['sync-interval']),
    events,
    registrar,
    ...(kvClient ? { kv: { client: kvClient, prefix: f['kv-prefix'].replace(/\/+$/, '') } } : {}),
    log,
    metrics,
  })
  // /events only where Marathon posts to it: in stream mode nobody may feed the bridge events.
  const server = await serveBridge(listen, metrics, events === 'callback' ? {
    '/events': async (req, body) => {
      if (req.method !== 'POST') return { status: 405, body: 'POST events here\n' }
      await bridge.handle(undefined, body.toString('utf8'))
      return { status: 200, body: 'OK\n' }
    },
  } : {})
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : listen.port
  log.info('marathon', `listening on ${listen.host}:${port} (/health, /metrics${events === 'callback' ? ', /events' : ''})`)
  if (events === 'callback') bridge.setCallbackUrl(f['callback-url'] ?? `http://${listen.host === '0.0.0.0' || listen.host === '::' ? hostname() : listen.host}:${port}/events`)
  log.info('marathon', `following ${marathons.join(', ')} (${events === 'sse' ? 'event stream' : 'event callbacks'}), full sync every ${f['sync-interval']}`)
  bridge.start()
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await bridge.stop()
  server.close()
  agents.close()
  kvClient?.close()
  return 0
}
