import { preparedQueryView } from '../../src/server/internal-endpoint.js'
/**
 * A catalog built through the real FSM, a router over it, and helpers that send a query through
 * the wire format both ways (so what the tests read is what a client would decode).
 */
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import type { CheckInput, ServiceInput } from '../../src/state/catalog.js'
import { buildRuntime, type ConfigDoc, type DnsConfig } from '../../src/agent/config.js'
import { AnswerCache } from '../../src/dns/cache.js'
import { DnsRouter, type Resolution } from '../../src/dns/router.js'
import { catalogReader } from '../../src/server/internal-endpoint.js'
import { DnsHandler } from '../../src/dns/server.js'
import type { PreparedQuery } from '../../src/state/prepared-query.js'
import { mulberry32 } from '../../src/lib/prng.js'

/** A seeded PRNG: the same seed gives the same shuffles and fuzz inputs. */
export const rand = mulberry32

export interface ServiceSpec {
  id?: string
  name: string
  port?: number
  address?: string
  tags?: string[]
  weights?: { Passing: number; Warning: number }
  /** Status of one service check, and of one node check. */
  status?: 'passing' | 'warning' | 'critical'
  nodeStatus?: 'passing' | 'warning' | 'critical'
  maintenance?: boolean
}

export class World {
  readonly state = new StateStore()
  readonly fsm = new Fsm(this.state)
  readonly cache = new AnswerCache<Resolution>()
  #index = 1
  config: DnsConfig
  readonly router: DnsRouter
  readonly handler: DnsHandler
  /** Prepared queries the router sees; `setQueries` bumps the generation. */
  queries: PreparedQuery[] = []
  #generation = 0

  /** `cache: false` gives a router without caches, so every query takes the full path. */
  constructor(doc: ConfigDoc = {}, seed = 1, opts: { cache?: boolean } = {}) {
    this.config = buildRuntime(doc, true).dns
    this.router = new DnsRouter({
      catalog: () => catalogReader(this.state.catalog),
      config: () => this.config,
      datacenter: 'dc1',
      nodeName: () => 'server-1',
      nowSeconds: () => 1_700_000_000,
      random: rand(seed),
      cache: opts.cache === false ? undefined : this.cache,
      preparedQueries: () => preparedQueryView({ generation: () => this.#generation, list: () => this.queries }),
    })
    this.cache.attach(this.state.catalogWatches, () => this.router.catalogChanged())
    this.handler = new DnsHandler({ router: this.router, config: () => this.config })
    this.node('server-1', '10.0.0.1')
  }

  setQueries(queries: PreparedQuery[]): void {
    this.queries = queries
    this.#generation++
  }

  node(name: string, address: string, meta: Record<string, string> = {}): void {
    this.fsm.applyCommand(++this.#index, {
      Type: 'register',
      Node: { ID: '', Node: name, Address: address, Datacenter: 'dc1', TaggedAddresses: {}, Meta: meta },
    })
  }

  service(node: string, address: string, s: ServiceSpec): void {
    const id = s.id ?? s.name
    const service: ServiceInput = {
      ID: id,
      Service: s.name,
      Tags: s.tags ?? [],
      Address: s.address ?? '',
      TaggedAddresses: {},
      Meta: {},
      Port: s.port ?? 80,
      Weights: s.weights ?? { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Kind: '',
    }
    const checks: CheckInput[] = []
    if (s.status) checks.push(check(`service:${id}`, s.status, id))
    if (s.nodeStatus) checks.push(check('serfHealth', s.nodeStatus, ''))
    if (s.maintenance) checks.push({ ...check(`_service_maintenance:${id}`, 'critical', id), Type: 'maintenance' })
    this.fsm.applyCommand(++this.#index, {
      Type: 'register',
      Node: { ID: '', Node: node, Address: address, Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} },
      SkipNodeUpdate: true,
      Service: service,
      Checks: checks,
    })
  }

  setCheck(node: string, checkId: string, status: 'passing' | 'warning' | 'critical', serviceId = ''): void {
    this.fsm.applyCommand(++this.#index, {
      Type: 'register',
      Node: { ID: '', Node: node, Address: '', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} },
      SkipNodeUpdate: true,
      Checks: [check(checkId, status, serviceId)],
    })
  }

  /** Sends a question through the wire format and back. */
  ask(name: string, type: RecordType | string, opts: { transport?: 'udp' | 'tcp'; edns?: number; id?: number; klass?: string } = {}): DecodedPacket & { rcode: string } {
    const wire = dnsPacket.encode({
      type: 'query',
      id: opts.id ?? 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type: type as RecordType, class: (opts.klass ?? 'IN') as 'IN' }],
      additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    })
    // Through the handler, as the server does: repeated questions take the wire fast path.
    const bytes = this.handler.answerNow(wire, opts.transport ?? 'tcp')
    if (!(bytes instanceof Buffer)) throw new Error(`no answer for ${name} ${type}`)
    const decoded = dnsPacket.decode(bytes) as DecodedPacket & { rcode: string }
    ;(decoded as unknown as { size: number }).size = bytes.length
    return decoded
  }
}

function check(id: string, status: 'passing' | 'warning' | 'critical', serviceId: string): CheckInput {
  return { CheckID: id, Name: id, Status: status, Notes: '', Output: '', ServiceID: serviceId, Type: 'ttl', Interval: '', Timeout: '', ExposedPort: 0, Definition: {} }
}

/** `data` of each answer of one type, as strings, sorted. */
export function datas(records: Answer[] | undefined, type: string): string[] {
  return (records ?? [])
    .filter((r) => r.type === type)
    .map((r) => {
      const d = (r as { data: unknown }).data
      if (type === 'SRV') {
        const s = d as { priority: number; weight: number; port: number; target: string }
        return `${s.priority} ${s.weight} ${s.port} ${s.target}`
      }
      if (type === 'TXT') return (d as Buffer[]).map((b) => b.toString()).join('')
      if (type === 'SOA') {
        const s = d as { mname: string; rname: string }
        return `${s.mname} ${s.rname}`
      }
      return String(d)
    })
    .sort()
}
