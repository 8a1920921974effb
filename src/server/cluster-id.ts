/**
 * The cluster's identity: the first leader of a cluster names it with a random ID through the log,
 * so every server of it (and every server added later, once it has applied the log) carries the
 * same ID in its RPC handshakes, and two clusters that meet on the network (a mistyped
 * retry_join) refuse each other instead of merging.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { EndpointCore } from './core.js'
import type { LeaderDuty } from './leader.js'

export class ClusterIdDuty implements LeaderDuty {
  readonly name = 'cluster identity'
  readonly #core: EndpointCore
  readonly #clock: Clock
  #leading = false
  #retry: Timer | undefined

  constructor(core: EndpointCore, clock: Clock) {
    this.#core = core
    this.#clock = clock
  }

  establish(): void {
    this.#leading = true
    void this.#ensure()
  }

  revoke(): void {
    this.#leading = false
    this.#retry?.cancel()
  }

  async #ensure(): Promise<void> {
    if (!this.#leading || this.#core.state.clusterId !== '') return
    try {
      const { value } = await this.#core.apply<string>({ Type: 'cluster-id', ID: this.#core.newId() })
      this.#core.log('info', `server: this cluster is ${value}`)
    } catch (err) {
      this.#core.log('warn', `server: could not name the cluster yet: ${(err as Error).message}`)
      this.#retry = this.#clock.setTimeout(() => void this.#ensure(), 1000)
    }
  }
}
