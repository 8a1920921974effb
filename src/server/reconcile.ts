/**
 * The leader keeps the raft configuration in step with the servers membership knows (Consul's
 * leader.go reconcile / joinConsulServer): an alive server of this datacenter that is not in the
 * configuration is added (as a non-voter first; the driver promotes it once it has caught up); a
 * server that left is removed; and a failed server is removed when a new one has just been added in
 * its place (autopilot's cleanup_dead_servers), never more of them than were added.
 */
import type { Clock } from '../lib/clock.js'
import type { RaftServer } from '../raft/types.js'
import { ReconcilingDuty } from './leader.js'

/** A server as membership sees it: its raft id and server RPC address. */
export interface ServerMember {
  id: string
  name: string
  address: string
  status: 'alive' | 'leaving' | 'left' | 'failed'
}

export interface RaftMembership {
  servers(): RaftServer[]
  addServer(id: string, address: string): Promise<unknown>
  removeServer(id: string): Promise<unknown>
}

export interface ReconcileOptions {
  raft: RaftMembership
  members: () => ServerMember[]
  /** Subscribes to membership changes; returns the unsubscribe. */
  onChange: (fn: () => void) => () => void
  clock: Clock
  log: (level: 'info' | 'warn' | 'error', message: string) => void
  /** Consul's reconcile_interval: a pass even without a change (60 s there; members change rarely). */
  intervalMs?: number
}

export class ReconcileDuty extends ReconcilingDuty {
  readonly name = 'reconcile servers'
  readonly #o: ReconcileOptions

  constructor(o: ReconcileOptions) {
    super(o.onChange, o.clock, o.intervalMs ?? 5000)
    this.#o = o
  }

  protected async pass(): Promise<void> {
    const inConfig = new Set(this.#o.raft.servers().map((s) => s.id))
    const members = this.#o.members()
    let added = 0
    for (const m of members) {
      if (!this.leading) return
      if (m.status !== 'alive' || inConfig.has(m.id)) continue
      this.#o.log('info', `server: adding server ${m.name} (${m.id}, ${m.address}) to the raft configuration`)
      if (await this.#change(() => this.#o.raft.addServer(m.id, m.address), `adding server ${m.name}`)) added++
    }
    for (const m of members) {
      if (!this.leading) return
      if (!inConfig.has(m.id) || (m.status !== 'left' && !(m.status === 'failed' && added > 0))) continue
      if (m.status === 'failed') added--
      this.#o.log('info', `server: removing ${m.status} server ${m.name} (${m.id}) from the raft configuration`)
      await this.#change(() => this.#o.raft.removeServer(m.id), `removing server ${m.name}`)
    }
  }

  async #change(fn: () => Promise<unknown>, what: string): Promise<boolean> {
    try {
      await fn()
      return true
    } catch (err) {
      this.#o.log('warn', `server: ${what} failed: ${(err as Error).message}`)
      return false
    }
  }
}
