/**
 * What both bridges share: services registered on the Consul agent of each task's host, owned by an
 * ID prefix. A sync compares what should be registered on every agent with what the agent holds
 * under the prefix, registers the missing or changed and deregisters the rest. An agent that does
 * not answer keeps its entries in a pending set and is swept again at every sync until it answers,
 * so a host whose agent was down is cleaned up when it comes back (upstream leaked those entries).
 *
 * The agents are reached through an injected AgentApi; the bridges' runners give it ConsulClients.
 */
import * as crypto from 'node:crypto'
import type { Logger } from '../lib/line-log.js'
import { eachLimited } from '../lib/pool.js'

export { eachLimited }

/** One registration, in /v1/agent/service/register's shape. */
export interface BridgeService {
  ID: string
  Name: string
  Tags: string[]
  Port?: number
  Address?: string
  Meta: Record<string, string>
  Check?: Record<string, unknown>
}

/** An entry of GET /v1/agent/services, the fields a sync compares. */
export interface AgentServiceView {
  ID: string
  Service: string
  Tags?: string[] | null
  Port?: number
  Address?: string
  Meta?: Record<string, string> | null
}

export interface AgentApi {
  services(agent: string): Promise<Record<string, AgentServiceView>>
  register(agent: string, svc: BridgeService): Promise<void>
  deregister(agent: string, id: string): Promise<void>
}

/** Meta keys every registration carries: Consul's own `external-source`, and a digest of the definition. */
export const META_SOURCE = 'external-source'
export const META_DIGEST = 'bridge-digest'

/** crypto.hash is one-shot and cheaper; Node before 20.12 has only createHash. */
const sha1 = (text: string): string => (typeof crypto.hash === 'function' ? crypto.hash('sha1', text) : crypto.createHash('sha1').update(text).digest('hex'))

/**
 * Adds the digest of everything but itself (the check too, which /v1/agent/services does not show).
 * Every poll seals every registration, so the text hashed is joined by hand (NUL-separated fields,
 * no JSON but the rare check) and hashed one-shot: a few microseconds each at 10,000 tasks.
 */
export function sealed(svc: Omit<BridgeService, 'Meta'> & { Meta?: Record<string, string> }): BridgeService {
  const meta: Record<string, string> = {}
  let metaText = ''
  for (const k of Object.keys(svc.Meta ?? {}).sort()) {
    if (k === META_DIGEST) continue
    meta[k] = svc.Meta![k]!
    metaText += `${k}\u0001${meta[k]}\u0002`
  }
  const body = `${svc.ID}\u0000${svc.Name}\u0000${svc.Tags.join('\u0001')}\u0000${svc.Port ?? 0}\u0000${svc.Address ?? ''}\u0000${metaText}\u0000${svc.Check ? JSON.stringify(svc.Check) : ''}`
  meta[META_DIGEST] = sha1(body).slice(0, 12)
  return { ...svc, Meta: meta }
}

/** A DNS-safe service name, as Consul's DNS can answer for it. */
export function cleanName(name: string, groupSeparator = ''): string {
  const n = groupSeparator ? name.replaceAll('_', groupSeparator) : name
  return n.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '')
}

export interface SyncReport {
  agents: number
  registered: number
  deregistered: number
  unchanged: number
  /** Agents that did not answer: retried at the next sync. */
  unreachable: string[]
  failed: number
}

export interface RegistrarOptions {
  api: AgentApi
  /** Every ID this bridge owns starts with it (`mesos-consul:`, `marathon-consul:`). */
  prefix: string
  log: Logger
  component: string
  /** Agents contacted at once. */
  concurrency?: number
}

/** Requests in flight to one agent during a sync. */
const PER_AGENT = 8

export class Registrar {
  readonly #o: RegistrarOptions
  /** Agents that may hold our entries: every agent synced with something of ours, and every one that failed. */
  readonly #known = new Set<string>()
  /** What each agent held under the prefix at its last sync (event-driven updates keep it current). */
  readonly #held = new Map<string, Map<string, string>>()
  /** Agents whose last sync failed. */
  readonly #down = new Set<string>()

  constructor(o: RegistrarOptions) {
    this.#o = o
  }

  get known(): ReadonlySet<string> {
    return this.#known
  }

  /** Makes every agent hold exactly `desired` (agent -> services) under the prefix. */
  async sync(desired: ReadonlyMap<string, readonly BridgeService[]>): Promise<SyncReport> {
    const report: SyncReport = { agents: 0, registered: 0, deregistered: 0, unchanged: 0, unreachable: [], failed: 0 }
    const agents = [...new Set([...desired.keys(), ...this.#known])]
    report.agents = agents.length
    await eachLimited(agents, this.#o.concurrency ?? 16, async (agent) => {
      const want = desired.get(agent) ?? []
      let have: Record<string, AgentServiceView>
      try {
        have = await this.#o.api.services(agent)
      } catch (err) {
        report.unreachable.push(agent)
        this.#known.add(agent)
        // Said once when it goes; a host that stays down is counted in every sync's summary, not logged each time.
        const msg = `agent ${agent} unreachable, will retry: ${(err as Error).message}`
        if (this.#down.has(agent)) this.#o.log.debug(this.#o.component, msg)
        else this.#o.log.warn(this.#o.component, msg)
        this.#down.add(agent)
        return
      }
      if (this.#down.delete(agent)) this.#o.log.info(this.#o.component, `agent ${agent} answers again; sweeping it`)
      const held = new Map<string, string>()
      for (const s of Object.values(have)) if (s.ID.startsWith(this.#o.prefix)) held.set(s.ID, s.Meta?.[META_DIGEST] ?? '')
      const wanted = new Set(want.map((svc) => svc.ID))
      const changed = want.filter((svc) => held.get(svc.ID) !== svc.Meta[META_DIGEST])
      report.unchanged += want.length - changed.length
      // Several requests in flight per agent: a deploy of hundreds of tasks on one host is not serial.
      await eachLimited(changed, PER_AGENT, async (svc) => {
        try {
          await this.#o.api.register(agent, svc)
          held.set(svc.ID, svc.Meta[META_DIGEST]!)
          report.registered++
          this.#o.log.info(this.#o.component, `registered ${svc.ID} (${svc.Name}) on ${agent}`)
        } catch (err) {
          report.failed++
          this.#o.log.err(this.#o.component, `registering ${svc.ID} on ${agent}: ${(err as Error).message}`)
        }
      })
      await eachLimited([...held.keys()].filter((id) => !wanted.has(id)), PER_AGENT, async (id) => {
        try {
          await this.#o.api.deregister(agent, id)
          held.delete(id)
          report.deregistered++
          this.#o.log.info(this.#o.component, `deregistered ${id} from ${agent}`)
        } catch (err) {
          report.failed++
          this.#o.log.err(this.#o.component, `deregistering ${id} from ${agent}: ${(err as Error).message}`)
        }
      })
      this.#held.set(agent, held)
      if (held.size === 0 && !desired.has(agent)) {
        this.#known.delete(agent)
        this.#held.delete(agent)
      } else this.#known.add(agent)
    })
    return report
  }

  /** One registration now (an event), skipped when the agent already holds the same definition. */
  async register(agent: string, svc: BridgeService): Promise<boolean> {
    this.#known.add(agent)
    const held = this.#held.get(agent) ?? new Map<string, string>()
    if (held.get(svc.ID) === svc.Meta[META_DIGEST]) return false
    await this.#o.api.register(agent, svc)
    held.set(svc.ID, svc.Meta[META_DIGEST]!)
    this.#held.set(agent, held)
    return true
  }

  /** One deregistration now (an event); an unreachable agent is left to the next sync's sweep. */
  async deregister(agent: string, id: string): Promise<void> {
    this.#known.add(agent)
    await this.#o.api.deregister(agent, id)
    this.#held.get(agent)?.delete(id)
  }
}
