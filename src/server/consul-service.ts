/**
 * The `consul` service, a leader duty (Consul's leader.go handleAliveMember registers it for every
 * server; member reconcile comes with gossip, so for now the leader keeps its own). It watches its
 * node's catalog entry with a blocking read and puts the service back when it is missing or changed
 * by someone else. Agents' anti-entropy leaves it alone.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { NodeInput, ServiceInput, ServiceRecord } from '../state/catalog.js'
import type { CatalogEndpoint } from './catalog-endpoint.js'
import type { InternalEndpoint } from './internal-endpoint.js'
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
  internal: InternalEndpoint
  self: () => ServerIdentity
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
  /** The highest index of our own registrations: a change at or below it is ours. */
  #ownIndex = 0
  /** Registrations made (for tests). */
  registrations = 0

  constructor(opts: ConsulServiceOptions) {
    this.#o = opts
  }

  establish(): void {
    const abort = (this.#abort = new AbortController())
    void this.#loop(abort.signal)
  }

  revoke(): void {
    this.#abort?.abort()
    this.#abort = undefined
    this.#pause?.cancel()
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const period = this.#o.periodMs ?? 60_000
    let seen = 0
    while (!signal.aborted) {
      try {
        const { node, serverPort } = this.#o.self()
        const reply = await this.#o.internal.nodeInfo({ node: node.Node, minQueryIndex: seen, maxQueryTimeMs: period }, { signal })
        if (signal.aborted) return
        seen = reply.meta.index
        const want = consulService(serverPort)
        const have = reply.value.services.find((s) => s.ID === CONSUL_SERVICE_ID)
        // A change at or below our own last write is that write (even if it did not stick): no retry loop.
        if ((!have || differs(have, want)) && seen > this.#ownIndex) {
          const { index } = await this.#o.catalog.register({ node, skipNodeUpdate: true, service: want })
          this.#ownIndex = Math.max(this.#ownIndex, index)
          this.registrations++
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
