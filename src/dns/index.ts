/**
 * The agent's DNS interface, assembled: a router over the live catalog (read through the server
 * endpoint layer's local view), its answer cache wired to catalog changes, and the listeners.
 * The agent calls `startDns` once its HTTP listeners are up and `close` on stop.
 */
import type { Metrics } from '../lib/metrics.js'
import type { DnsConfig } from '../agent/config.js'
import { systemClock } from '../lib/clock.js'
import { CatalogReplica } from '../server/catalog-replica.js'
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
  server: { readonly internal: Pick<InternalEndpoint, 'catalogReader' | 'onCatalogChange' | 'preparedQueries' | 'catalogDump'> }
  /** The ACL token DNS answers under (the agent's default token; empty: anonymous). */
  token?: () => string
  /** Whether a name's datacenter is one the servers know (its catalog is then followed for DNS). */
  knowsDatacenter?: (datacenter: string) => boolean
  /** Every datacenter known, nearest first (prepared-query failover). */
  datacenters?: () => string[]
  config: () => DnsConfig
  datacenter: string
  nodeName: () => string
  addresses: readonly string[]
  port: number
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** UDP worker processes (udp-workers.ts; `dns_config.udp_workers`); read once at start. */
  udpWorkers: number
  /** The agent's telemetry: dns.domain_query and dns.ptr_query timings of the answers this thread gives. */
  metrics?: Metrics
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
  const remotes = new Map<string, { router: DnsRouter; replica: CatalogReplica }>()
  // Another datacenter's names: a copy of its catalog, followed with stale blocking reads through the endpoint layer (started on first use).
  const remote = (dc: string): DnsRouter | undefined => {
    let r = remotes.get(dc)
    if (!r) {
      if (!opts.knowsDatacenter?.(dc) || remotes.size >= DNS_LIMITS.remoteDatacentersMax) return undefined
      const replica = new CatalogReplica({
        fetch: (minQueryIndex) => internal.catalogDump({ datacenter: dc, consistency: 'stale', minQueryIndex, maxQueryTimeMs: 5 * 60_000, token: opts.token?.() }),
        clock: systemClock,
        log,
      })
      const remoteRouter = new DnsRouter({ catalog: () => replica.catalogReader(), config: opts.config, datacenter: dc, nodeName: opts.nodeName, cache: new AnswerCache<Resolution>() })
      // This datacenter's answers may hold another's instances (a prepared query's failover): they go stale with it.
      replica.onCatalogChange(() => {
        remoteRouter.catalogChanged()
        router.catalogChanged()
      })
      replica.start()
      remotes.set(dc, (r = { router: remoteRouter, replica }))
    }
    return r.router
  }
  const router = new DnsRouter({ catalog: () => internal.catalogReader(opts.token?.()), config: opts.config, datacenter: opts.datacenter, nodeName: opts.nodeName, cache, preparedQueries: () => queries, mirror, remote, datacenters: opts.datacenters })
  const detach = internal.onCatalogChange(() => router.catalogChanged())
  const handler = new DnsHandler({ router, config: opts.config, log, metrics: opts.metrics, nodeName: opts.nodeName })
  let server: DnsServer
  try {
    server = await DnsServer.start(handler, { addresses: opts.addresses, port: opts.port })
  } catch (err) {
    detach()
    throw err
  }
  const count = Math.min(opts.udpWorkers, DNS_LIMITS.udpWorkersMax)
  if (count > 0) {
    workers = new UdpWorkers({ count, sockets: server.udpSockets, onQuery: (listener, query, port, address) => server.answerRelayed(listener, query, port, address), onTimings: (t) => handler.mergeTimings(t), log })
    log('info', `dns: ${count} UDP worker process${count === 1 ? '' : 'es'} started`)
  }
  return {
    listeners: server.listeners,
    router,
    configChanged: () => {
      router.catalogChanged()
      for (const r of remotes.values()) r.router.catalogChanged()
    },
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
      for (const r of remotes.values()) r.replica.stop()
      await workers?.close()
      await server.close()
    },
  }
}
