/**
 * The leader puts LAN membership into the catalog (Consul's leader.go reconcileMember and
 * reconcileReaped): an alive member's node has `serfHealth` passing, a failed one's critical (so
 * its services leave DNS and `?passing`, and sessions tied to the check are invalidated), one that
 * left is deregistered, and a node with a `serfHealth` check that membership no longer knows (reaped
 * after reconnect_timeout, or pruned) is deregistered too. Writes go through the catalog endpoint.
 */
import type { Clock } from '../lib/clock.js'
import type { CheckInput, CheckRecord, NodeRecord } from '../state/catalog.js'
import type { CatalogEndpoint, HealthEndpoint } from './catalog-endpoint.js'
import { ReconcilingDuty } from './leader.js'

export const SERF_CHECK_ID = 'serfHealth'

/** The node health check gossip owns, in Consul's words. */
export function serfHealthCheck(alive: boolean): CheckInput {
  return {
    CheckID: SERF_CHECK_ID,
    Name: 'Serf Health Status',
    Status: alive ? 'passing' : 'critical',
    Notes: '',
    Output: alive ? 'Agent alive and reachable' : 'Agent not live or unreachable',
    ServiceID: '',
    Type: '',
    Interval: '',
    Timeout: '',
    ExposedPort: 0,
    Definition: {},
  }
}

/** A LAN member as this duty needs it. */
export interface LanMember {
  name: string
  /** The node ID its tags carry. */
  id: string
  addr: string
  status: 'alive' | 'leaving' | 'left' | 'failed'
}

export interface MemberCatalogOptions {
  catalog: CatalogEndpoint
  health: HealthEndpoint
  datacenter: string
  /** The members of this datacenter's LAN pool, this server included. */
  members: () => LanMember[]
  selfName: () => string
  /** Whether membership has settled enough that a node it does not know was really reaped. */
  knowsEveryone: () => boolean
  onChange: (fn: () => void) => () => void
  clock: Clock
  log: (level: 'info' | 'warn' | 'error', message: string) => void
  /** Consul's reconcile_interval: a full pass even without a change. */
  intervalMs?: number
  /**
   * How long a node must stay unknown to this server's membership before it counts as reaped: a
   * push-pull interval, in which a member this server has not heard of yet (one that joined
   * through another server after this one's own join) reaches it. Default 30 s.
   */
  reapGraceMs?: number
}

export class MemberCatalogDuty extends ReconcilingDuty {
  readonly name = 'reconcile members'
  readonly #o: MemberCatalogOptions
  /** Catalog writes made (for tests and stats). */
  writes = 0
  /** When each catalog node with a serfHealth check was first found unknown to membership, this term of leadership. */
  readonly #unknownSince = new Map<string, number>()

  constructor(o: MemberCatalogOptions) {
    super(o.onChange, o.clock, o.intervalMs ?? 30_000)
    this.#o = o
  }

  override establish(): void {
    this.#unknownSince.clear()
    super.establish()
  }

  protected async pass(): Promise<void> {
    try {
      await this.#pass()
    } catch (err) {
      if (this.leading) this.#o.log('warn', `server: reconciling members into the catalog: ${(err as Error).message}`)
    }
  }

  async #pass(): Promise<void> {
    const [nodes, checks] = await Promise.all([this.#o.catalog.listNodes({ token: this.#token }), this.#o.health.checksInState({ state: 'any', token: this.#token })])
    const nodeByName = new Map<string, NodeRecord>(nodes.value.map((n) => [n.Node, n]))
    const serf = new Map<string, CheckRecord>(checks.value.filter((c) => c.CheckID === SERF_CHECK_ID && c.ServiceID === '').map((c) => [c.Node, c]))
    const members = this.#o.members()
    const known = new Set(members.map((m) => m.name))
    const self = this.#o.selfName()
    for (const m of members) {
      if (!this.leading) return
      const node = nodeByName.get(m.name)
      if (m.status === 'left') {
        if (node && m.name !== self) await this.#deregister(m.name, 'left')
        continue
      }
      const alive = m.status === 'alive' || m.status === 'leaving'
      const want = alive ? 'passing' : 'critical'
      if (serf.get(m.name)?.Status === want) continue
      // A node the agent registered keeps its record; one never seen gets what membership knows.
      await this.#o.catalog.register({
        token: this.#token,
        node: node ? { ID: node.ID, Node: node.Node, Address: node.Address, Datacenter: this.#o.datacenter, TaggedAddresses: node.TaggedAddresses, Meta: node.Meta } : { ID: m.id, Node: m.name, Address: m.addr, Datacenter: this.#o.datacenter, TaggedAddresses: { lan: m.addr, lan_ipv4: m.addr, wan: m.addr, wan_ipv4: m.addr }, Meta: {} },
        skipNodeUpdate: node !== undefined,
        checks: [serfHealthCheck(alive)],
      })
      this.writes++
      if (!alive) this.#o.log('info', `server: member ${m.name} failed, marking its health critical`)
    }
    if (!this.#o.knowsEveryone()) return
    // Deregistering a live node destroys its sessions and releases its locks: a node is reaped only
    // once it has stayed unknown for a grace period, not the moment a new leader has not heard of it.
    const now = this.#o.clock.now()
    for (const name of this.#unknownSince.keys()) if (known.has(name) || !serf.has(name)) this.#unknownSince.delete(name)
    for (const name of serf.keys()) {
      if (!this.leading) return
      if (known.has(name) || name === self) continue
      const since = this.#unknownSince.get(name)
      if (since === undefined) this.#unknownSince.set(name, now)
      else if (now - since >= (this.#o.reapGraceMs ?? 30_000)) {
        this.#unknownSince.delete(name)
        await this.#deregister(name, 'reaped')
      }
    }
  }

  /** This server's own secret: the duty writes what membership says, whatever the ACLs. */
  get #token(): string {
    return this.#o.catalog.core.acl.internal
  }

  async #deregister(node: string, why: string): Promise<void> {
    this.#o.log('info', `server: deregistering member ${node} (${why})`)
    await this.#o.catalog.deregister({ node, token: this.#token })
    this.writes++
  }
}
