/**
 * The `consul` service, a leader duty (Consul's leader.go handleAliveMember registers it for every
 * server): the leader keeps one on each server's node, its own and every server membership knows.
 * It watches the service's catalog entries with a blocking read (cut short when the servers
 * change) and puts an entry back when it is missing or changed by someone else. Agents'
 * anti-entropy leaves it alone.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { NodeInput, ServiceInput, ServiceRecord } from '../state/catalog.js'
import type { CatalogEndpoint } from './catalog-endpoint.js'
import type { LeaderDuty } from './leader.js'

export const CONSUL_SERVICE_ID = 'consul'

/** The service every server has in the catalog. */
export function consulService(port: number): ServiceInput {
  return {
    ID: CONSUL_SERVICE_ID,
    Service: 'consul',
    Tags: [],
    Address: '',
    TaggedAddresses: {},
    Meta: { 'non_voter': 'false', 'raft_version': '3', 'read_replica': 'false', 'serf_protocol_current': '2', 'serf_protocol_max': '5', 'serf_protocol_min': '1', version: '1.20.0' },
    Port: port,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    Kind: '',
  }
}

/** This server as the catalog holds it. */
export interface ServerIdentity {
  node: NodeInput
  /** Its server RPC port. */
  serverPort: number
}

export interface ConsulServiceOptions {
  catalog: CatalogEndpoint
  self: () => ServerIdentity
  /** The other servers of this datacenter (membership's alive ones); none for a lone server. */
  others?: () => ServerIdentity[]
  /** Subscribes to changes of `others`; returns the unsubscribe. */
  onOthersChange?: (fn: () => void) => () => void
  clock: Clock
  log: (level: 'info' | 'warn', message: string) => void
  /** The longest wait of each watch, and the pause after a failure. */
  periodMs?: number
}

export class ConsulServiceDuty implements LeaderDuty {
  readonly name = 'consul service'
  readonly #o: ConsulServiceOptions
  #abort: AbortController | undefined
  #pause: Timer | undefined
  /** The index of our own last registration, by node: a change at or below it is ours. */
  readonly #ownIndex = new Map<string, number>()
  /** Registrations made (for tests). */
  registrations = 0

  constructor(opts: ConsulServiceOptions) {
    this.#o = opts
  }

  establish(): void {
    const abort = (this.#abort = new AbortController())
    this.#unsubscribe = this.#o.onOthersChange?.(() => this.#kick?.abort())
    void this.#loop(abort.signal)
  }

  revoke(): void {
    this.#abort?.abort()
    this.#abort = undefined
    this.#kick?.abort()
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#pause?.cancel()
  }

  #kick: AbortController | undefined
  #unsubscribe: (() => void) | undefined

  async #loop(signal: AbortSignal): Promise<void> {
    const period = this.#o.periodMs ?? 60_000
    let seen = 0
    while (!signal.aborted) {
      try {
        const kick = (this.#kick = new AbortController())
        const stop = AbortSignal.any([signal, kick.signal])
        const reply = await this.#o.catalog.serviceNodes({ service: 'consul', minQueryIndex: seen, maxQueryTimeMs: period, token: this.#o.catalog.core.acl.internal }, { signal: stop })
        if (signal.aborted) return
        seen = reply.meta.index
        const have = new Map(reply.value.map((row) => [row.node.Node, row.service]))
        for (const { node, serverPort } of [this.#o.self(), ...(this.#o.others?.() ?? [])]) {
          const want = consulService(serverPort)
          const entry = have.get(node.Node)
          // A change at or below our own last write is that write (even if it did not stick): no retry loop.
          if ((!entry || differs(entry, want)) && seen > (this.#ownIndex.get(node.Node) ?? 0)) {
            const { index } = await this.#o.catalog.register({ node, skipNodeUpdate: true, service: want, token: this.#o.catalog.core.acl.internal })
            this.#ownIndex.set(node.Node, index)
            this.registrations++
          }
        }
      } catch (err) {
        if (signal.aborted) return
        this.#o.log('warn', `server: registering the consul service: ${(err as Error).message}`)
        await new Promise<void>((resolve) => (this.#pause = this.#o.clock.setTimeout(resolve, period)))
      }
    }
  }
}

function differs(have: ServiceRecord, want: ServiceInput): boolean {
  return have.Service !== want.Service || have.Port !== want.Port || have.Address !== want.Address || have.Tags.length > 0 || JSON.stringify(have.Meta) !== JSON.stringify(want.Meta)
}
