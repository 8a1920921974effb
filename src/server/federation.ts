/**
 * Several datacenters (Consul's forwardDC): a request whose `datacenter` names another one goes
 * to a server of that datacenter, found in the WAN pool, which runs it through its own endpoints
 * (so that datacenter's leader decides consistency and takes writes). Each remote datacenter is
 * called as a client agent calls its servers (ClientEndpoints: one server kept while it answers,
 * the next one when it cannot be reached). An unknown datacenter is Consul's "No path to
 * datacenter". The local endpoints answer everything else.
 */
import type { Clock } from '../lib/clock.js'
import { ClientEndpoints } from './client-endpoints.js'
import type { Log } from './core.js'
import type { AgentEndpoints } from './endpoints.js'
import { NoPathToDatacenterError } from './errors.js'
import type { RemoteCall } from './forward.js'

export interface FederationOptions {
  local: AgentEndpoints
  /** The alive servers of each datacenter the WAN pool knows (addresses its calls go to), this one's included. */
  servers: () => ReadonlyMap<string, readonly string[]>
  /** The median estimated round trip to a datacenter's servers (seconds), when coordinates know it. */
  rtt?: (datacenter: string) => number | undefined
  call: RemoteCall
  clock: Clock
  log: Log
}

/** The endpoint groups whose calls may name a datacenter (the others are this agent's own views). */
const GROUPS = ['kvs', 'txn', 'catalog', 'health', 'session', 'preparedQuery', 'status', 'operator', 'internal', 'snapshot', 'coordinate', 'acl'] as const

export class Federation {
  readonly #o: FederationOptions
  readonly #remotes = new Map<string, ClientEndpoints>()
  /** The local endpoints with every call that names another datacenter sent there. */
  readonly endpoints: AgentEndpoints

  constructor(o: FederationOptions) {
    this.#o = o
    const local = o.local
    const wrapped: Record<string, unknown> = {}
    for (const group of GROUPS) {
      const target = local[group] as unknown as Record<string, (...a: unknown[]) => unknown>
      const out: Record<string, unknown> = {}
      for (const method of methodNames(target)) {
        const own = target[method]!
        out[method] = (req: unknown, ...rest: unknown[]) => {
          const dc = datacenterOf(req)
          if (dc === undefined || dc === local.datacenter) return own.apply(target, [req, ...rest])
          const remote = this.#remoteFor(dc)[group] as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>
          const call = remote[method]
          // This agent's own views (the catalog DNS reads) have no remote counterpart.
          if (!call) throw new NoPathToDatacenterError()
          return call(req, ...rest)
        }
      }
      wrapped[group] = out
    }
    this.endpoints = {
      ...(wrapped as Pick<AgentEndpoints, (typeof GROUPS)[number]>),
      datacenter: local.datacenter,
      clock: local.clock,
      queryDeadline: (ms: number) => local.queryDeadline(ms),
      localRead: (opts, call, query) => local.localRead(opts, call, query),
    }
  }

  /**
   * Every datacenter the WAN pool knows, nearest first: this one, then the others by the median
   * estimated round trip to their servers, then by name. (Consul sorts this one by its distance
   * too: first as well, except where another datacenter's servers look nearer.)
   */
  datacenters(): string[] {
    const here = this.#o.local.datacenter
    const rtt = (dc: string): number => this.#o.rtt?.(dc) ?? Infinity
    const others = [...this.#o.servers().keys()]
      .filter((dc) => dc !== here)
      .map((dc) => ({ dc, d: rtt(dc) }))
      .sort((a, b) => a.d - b.d || (a.dc < b.dc ? -1 : a.dc > b.dc ? 1 : 0))
      .map((x) => x.dc)
    return [here, ...others]
  }

  knows(datacenter: string): boolean {
    return datacenter === this.#o.local.datacenter || this.#o.servers().has(datacenter)
  }

  #remoteFor(dc: string): ClientEndpoints {
    if (!this.#o.servers().has(dc)) throw new NoPathToDatacenterError()
    return this.#remote(dc)
  }

  #remote(dc: string): ClientEndpoints {
    let r = this.#remotes.get(dc)
    if (!r) {
      r = new ClientEndpoints({ datacenter: dc, clock: this.#o.clock, log: this.#o.log, servers: () => [...(this.#o.servers().get(dc) ?? [])], call: this.#o.call })
      this.#remotes.set(dc, r)
    }
    return r
  }
}

/** The methods of an endpoint group: its own functions and its class's (bound where they are called). */
function methodNames(obj: object): string[] {
  const names = new Set<string>()
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor' && typeof (obj as Record<string, unknown>)[k] === 'function') names.add(k)
  }
  return [...names]
}

function datacenterOf(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return undefined
  const dc = (req as { datacenter?: unknown }).datacenter
  return typeof dc === 'string' && dc !== '' ? dc : undefined
}
