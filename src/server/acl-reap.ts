/**
 * A leader duty when ACLs are on (Consul's token reaping): tokens past their ExpirationTime are
 * deleted through raft, in batches. An expired token already counts as deleted everywhere (the
 * resolver and every list skip it); reaping keeps the tables from growing with dead ones.
 */
import type { Clock } from '../lib/clock.js'
import { isExpired } from '../state/acl.js'
import type { EndpointCore } from './core.js'
import { ReconcilingDuty } from './leader.js'

/** Tokens deleted per raft command (Consul's aclBatchDeleteSize is 4096; smaller keeps each apply short). */
export const REAP_BATCH = 1024

export class AclReapDuty extends ReconcilingDuty {
  readonly name = 'acl token reaping'
  readonly #core: EndpointCore

  constructor(core: EndpointCore, clock: Clock, intervalMs = 10_000) {
    // No subscription: expiry is a matter of time, looked at every interval.
    super(() => () => {}, clock, intervalMs)
    this.#core = core
  }

  protected async pass(): Promise<void> {
    const core = this.#core
    while (this.leading) {
      const now = core.clock.now()
      const expired: string[] = []
      for (const t of core.state.acl.tokens.values()) {
        if (isExpired(t, now)) expired.push(t.AccessorID)
        if (expired.length === REAP_BATCH) break
      }
      if (expired.length === 0) return
      try {
        const { value } = await core.apply<number>({ Type: 'acl', Op: 'token-reap', AccessorIDs: expired, Now: now })
        core.log('info', `acl: reaped ${value} expired token${value === 1 ? '' : 's'}`)
      } catch (err) {
        core.log('warn', `acl: reaping expired tokens failed: ${(err as Error).message}; trying again later`)
        return
      }
      if (expired.length < REAP_BATCH) return
    }
  }
}
