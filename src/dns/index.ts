/**
 * The agent's DNS interface, assembled: a router over the live catalog, its answer cache wired
 * to catalog changes, and the listeners. The agent calls `startDns` once its HTTP listeners are
 * up and `close` on stop.
 */
import type { CatalogTables } from '../state/catalog.js'
import type { StateStore } from '../state/store.js'
import type { DnsConfig } from '../agent/config.js'
import { AnswerCache } from './cache.js'
import { DnsRouter, type CatalogView, type Resolution } from './router.js'
import { DnsHandler, DnsServer, type DnsListener } from './server.js'
import type { PreparedQuerySource } from '../state/prepared-query.js'

export { DnsRouter, type CatalogView } from './router.js'
export { DnsHandler, DnsServer } from './server.js'
export type { PreparedQuery, PreparedQuerySource } from '../state/prepared-query.js'

/** `CatalogTables` seen through the router's read-only interface. */
export function catalogView(tables: CatalogTables): CatalogView {
  return {
    node: (name) => tables.node(name),
    instances: (name) => tables.instances(name),
    instanceChecks: (svc) => tables.instanceChecks(svc),
    allNodes: () => tables.nodes.values(),
    serviceNames: () => tables.byName.keys(),
  }
}

export interface DnsService {
  listeners: DnsListener[]
  router: DnsRouter
  close: () => Promise<void>
}

export interface StartDnsOptions {
  state: StateStore
  config: () => DnsConfig
  datacenter: string
  nodeName: () => string
  addresses: readonly string[]
  port: number
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** Prepared queries, once the agent stores them (`<name>.query.consul`). */
  preparedQueries?: () => PreparedQuerySource | undefined
}

/** Builds the router over `state` and opens the UDP and TCP listeners. */
export async function startDns(opts: StartDnsOptions): Promise<DnsService> {
  const cache = new AnswerCache<Resolution>()
  // The store may swap its tables on a snapshot restore, so read them through a getter.
  const router = new DnsRouter({ catalog: () => catalogView(opts.state.catalog), config: opts.config, datacenter: opts.datacenter, nodeName: opts.nodeName, cache, preparedQueries: opts.preparedQueries })
  const detach = cache.attach(opts.state.catalogWatches, () => router.catalogChanged())
  const handler = new DnsHandler({ router, config: opts.config, log: opts.log })
  let server: DnsServer
  try {
    server = await DnsServer.start(handler, { addresses: opts.addresses, port: opts.port })
  } catch (err) {
    detach()
    throw err
  }
  return {
    listeners: server.listeners,
    router,
    close: async () => {
      detach()
      await server.close()
    },
  }
}
