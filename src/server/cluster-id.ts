/**
 * The cluster's identity: the first leader of a cluster names it with a random ID through the log,
 * so every server of it (and every server added later, once it has applied the log) carries the
 * same ID in its RPC handshakes, and two clusters that meet on the network (a mistyped
 * retry_join) refuse each other instead of merging.
 */
import type { Clock } from '../lib/clock.js'
import type { EndpointCore } from './core.js'
import { EnsureDuty } from './leader.js'

export class ClusterIdDuty extends EnsureDuty {
  readonly name = 'cluster identity'
  protected readonly notYet = 'server: could not name the cluster yet'
  readonly #core: EndpointCore

  constructor(core: EndpointCore, clock: Clock) {
    super(clock, core.log)
    this.#core = core
  }

  protected missing(): boolean {
    return this.#core.state.clusterId === ''
  }

  protected async create(): Promise<void> {
    const { value } = await this.#core.apply<string>({ Type: 'cluster-id', ID: this.#core.newId() })
    this.#core.log('info', `server: this cluster is ${value}`)
  }
}
