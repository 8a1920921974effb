/**
 * The agent's DNS interface, assembled: a router over the live catalog (read through the server
 * endpoint layer's local view), its answer cache wired to catalog changes, and the listeners.
 * The agent calls `startDns` once its HTTP listeners are up and `close` on stop.
 */
import type { DnsConfig } from '../agent/config.js'
import type { InternalEndpoint } from '../server/internal-endpoint.js'
import { AnswerCache } from './cache.js'
import { DnsRouter, type Resolution, type WholeAnswerMirror } from './router.js'
import { UdpWorkers } from './udp-workers.js'
import { DNS_LIMITS } from './limits.js'
import { DnsHandler, DnsServer, type DnsListener } from './server.js'

export { DnsRouter, type CatalogView } from './router.js'
export { DnsHandler, DnsServer } from './server.js'

export interface DnsService {
  listeners: DnsListener[]
  router: DnsRouter
  /** Call after a config reload: cached answers (here and in the UDP workers) carry the old settings. */
  configChanged: () => void
  /** Counters for /v1/agent/self `Stats.dns`. */
  stats: () => Record<string, string>
  close: () => Promise<void>
}

export interface StartDnsOptions {
  /** The server endpoint layer (its Internal endpoint: this server's catalog and prepared queries, stale as Consul's DNS allows). */
  server: { readonly internal: Pick<InternalEndpoint, 'catalogReader' | 'onCatalogChange' | 'preparedQueries'> }
  config: () => DnsConfig
  datacenter: string
  nodeName: () => string
  addresses: readonly string[]
  port: number
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** UDP worker processes (udp-workers.ts; `dns_config.udp_workers`); read once at start. */
  udpWorkers: number
}

/** Builds the router over the server's catalog and opens the UDP and TCP listeners, and the UDP workers. */
export async function startDns(opts: StartDnsOptions): Promise<DnsService> {
  const cache = new AnswerCache<Resolution>()
  const log = opts.log ?? (() => undefined)
  // The workers need the bound sockets, the router needs the workers as its mirror: late binding.
  let workers: UdpWorkers | undefined
  const mirror: WholeAnswerMirror = { put: (key, entry) => workers?.put(key, entry), clear: () => workers?.clear() }
  // The store may swap its tables on a snapshot restore, so the catalog is read through a getter.
  const internal = opts.server.internal
  const queries = internal.preparedQueries()
  const router = new DnsRouter({ catalog: () => internal.catalogReader(), config: opts.config, datacenter: opts.datacenter, nodeName: opts.nodeName, cache, preparedQueries: () => queries, mirror })
  const detach = internal.onCatalogChange(() => router.catalogChanged())
  const handler = new DnsHandler({ router, config: opts.config, log })
  let server: DnsServer
  try {
    server = await DnsServer.start(handler, { addresses: opts.addresses, port: opts.port })
  } catch (err) {
    detach()
    throw err
  }
  const count = Math.min(opts.udpWorkers, DNS_LIMITS.udpWorkersMax)
  if (count > 0) {
    workers = new UdpWorkers({ count, sockets: server.udpSockets, onQuery: (listener, query, port, address) => server.answerRelayed(listener, query, port, address), log })
    log('info', `dns: ${count} UDP worker process${count === 1 ? '' : 'es'} started`)
  }
  return {
    listeners: server.listeners,
    router,
    configChanged: () => router.catalogChanged(),
    stats: () => {
      const w = workers?.stats()
      return {
        fast_path_answers: String(router.fastPathHits),
        udp_workers: String(w?.workers ?? 0),
        udp_worker_answers: String(w?.answered ?? 0),
        udp_worker_relays: String(w?.relayed ?? 0),
      }
    },
    close: async () => {
      detach()
      await workers?.close()
      await server.close()
    },
  }
}
