/**
 * The DNS router: one query packet in, one response packet out, over a read-only view of the
 * catalog. No sockets and no clocks of its own (both are injected), so tests and the fuzzer call
 * `handleRequest` directly; `server.ts` is the thin adapter around it (STYLE principle 12, as
 * Consul's `agent/dns/router.go` HandleRequest with ServeDNS around it).
 *
 * Work is split in two: `resolve` turns a question into record groups, each record encoded once
 * (cached per name and type until the catalog or the config changes), and `answer` does the
 * per-query part: shuffle, record limits, size fitting and the header. `handleRequest` is
 * `answer` decoded, for callers that want a packet object.
 */
import { isIP } from 'node:net'
import dnsPacket, { type Answer, type Packet, type Question, type DecodedPacket, type OptAnswer } from 'dns-packet'
import type { CheckRecord, NodeRecord, ServiceRecord } from '../state/catalog.js'
import type { DnsConfig } from '../agent/config.js'
import { AnswerCache } from './cache.js'
import { encodeRecord, fitGroups, makeGroup, type RecordGroup } from './truncate.js'
import { fitsWhole, pickGroups, renderWhole, type WholeAnswer } from './fast-path.js'
import { DNS_LIMITS } from './limits.js'
import { parseDurationMs } from '../lib/duration.js'
import type { PreparedQueryView } from '../server/internal-endpoint.js'

/** What the router reads from the catalog; `CatalogTables` has this shape. */
export interface CatalogView {
  node(name: string): NodeRecord | undefined
  instances(serviceName: string): ServiceRecord[]
  instanceChecks(svc: ServiceRecord): CheckRecord[]
  /** Every node, in any order (for case-insensitive lookups and reverse lookups). */
  allNodes(): Iterable<NodeRecord>
  /** Every service name that has at least one instance. */
  serviceNames(): Iterable<string>
}

export interface RouterOptions {
  catalog: () => CatalogView
  /** Read on every query, so a reload takes effect without a new router. */
  config: () => DnsConfig
  datacenter: string
  /** The server(s) named in NS answers: this agent's node. */
  nodeName: () => string
  /** Unix time in seconds for SOA serials. */
  nowSeconds?: () => number
  /** [0, 1) source for the per-query shuffle. */
  random?: () => number
  cache?: AnswerCache<Resolution>
  /** Prepared queries for `<name>.query.<domain>`; without it those names are unknown. */
  preparedQueries?: () => PreparedQueryView | undefined
  /** Told of every whole UDP answer kept for the fast path and of every clear (the UDP workers' copy). */
  mirror?: WholeAnswerMirror
  /** The router of another datacenter a name may end in (`web.service.dc2.consul`); undefined for an unknown one. */
  remote?: (datacenter: string) => DnsRouter | undefined
  /** Every datacenter known, nearest first (a prepared query's failover order). */
  datacenters?: () => string[]
}

export interface WholeAnswerMirror {
  put(wireKey: string, entry: WholeAnswer): void
  clear(): void
}

export interface RequestContext {
  transport: 'udp' | 'tcp'
  /** The query's `wireQuestionKey`, when it has one: a whole answer is then kept under it for the fast path. */
  wireKey?: string
}

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED'
const RCODE: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 }

/** The records for one question, before the per-query shuffle and size fitting. */
export interface Resolution {
  rcode: Rcode
  /** The domain the answer speaks for (the primary or alt domain, as the query used). */
  domain: string
  groups: RecordGroup[]
  /** Shuffle groups per query (service answers); node answers keep their order. */
  shuffle: boolean
  /** Whether `a_record_limit` / `udp_answer_limit` apply (address and SRV answers of services). */
  limited: boolean
  /** Put the SOA in the Answer section (SOA questions). */
  soaAnswer: boolean
  /** Put the SOA in the Authority section (NXDOMAIN and NODATA). */
  soaAuthority: boolean
  /** NS records for the Authority section (SOA questions). */
  authorities: Answer[]
  /** Encoded header and question per class and flags, filled by the first query that needs one. */
  heads?: Map<string, Buffer>
  /** `fitsWhole` per size budget and group limit, so answers too big to cache are not re-measured per query. */
  wholeFits?: Map<string, { fits: boolean; sharedGlue: boolean }>
}

/** Zone-transfer and other meta types we do not implement. */
const NOT_IMPLEMENTED_TYPES = new Set(['AXFR', 'IXFR', 'MAILA', 'MAILB'])
const TYPE_LABELS = new Set(['service', 'node', 'query', 'addr', 'connect', 'ingress', 'virtual'])
const OPCODE_QUERY = 0

interface NameIndex {
  nodes: Map<string, string>
  services: Map<string, string>
  /** Canonical IP → owners for PTR answers. */
  byIp: Map<string, Array<{ kind: 'node' | 'service'; name: string }>>
}

export class DnsRouter {
  readonly #opts: RouterOptions
  readonly #now: () => number
  readonly #random: () => number
  #index: NameIndex | undefined
  #configSeen: DnsConfig | undefined
  /** Whole answers by wire key (see fast-path.ts); only with a cache, whose owner reports catalog changes. */
  readonly #whole: AnswerCache<WholeAnswer> | undefined

  constructor(opts: RouterOptions) {
    this.#opts = opts
    this.#now = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000))
    this.#random = opts.random ?? Math.random
    this.#whole = opts.cache ? new AnswerCache<WholeAnswer>() : undefined
  }

  /** Queries answered by the wire fast path. */
  get fastPathHits(): number {
    return this.#whole?.hits ?? 0
  }

  /** Drops everything derived from the catalog; call on every catalog change. */
  catalogChanged(): void {
    this.#index = undefined
    this.#opts.cache?.clear()
    this.#whole?.clear()
    this.#opts.mirror?.clear()
  }

  /**
   * The answer to query `id` when its question (`wireKey`) was answered whole since the last
   * change; undefined otherwise, and the caller takes the full path (`answer`).
   */
  answerCached(wireKey: string, id: number): Buffer | undefined {
    if (!this.#whole || this.#opts.config() !== this.#configSeen) return undefined
    const entry = this.#whole.peek(wireKey)
    if (!entry || entry.generation !== this.#generation()) return undefined
    return renderWhole(entry, id, this.#random)
  }

  #generation(): number {
    return this.#opts.preparedQueries?.()?.generation() ?? 0
  }

  /**
   * The domain a name belongs to (primary, alt, or the primary for reverse names), or
   * undefined when the name is someone else's and goes to the recursors.
   */
  domainOf(name: string): string | undefined {
    const n = canonical(name)
    const cfg = this.#opts.config()
    const primary = cfg.domain.slice(0, -1)
    const alt = cfg.altDomain?.slice(0, -1)
    if (inZone(n, primary)) return primary
    if (alt && inZone(n, alt)) return alt
    if (inZone(n, 'in-addr.arpa') || inZone(n, 'ip6.arpa')) return primary
    return undefined
  }

  /**
   * Answers one query. Never throws for any decoded packet: bad input gives FORMERR/NOTIMP, a
   * name outside our domains gives REFUSED (the server forwards those first when it has recursors).
   */
  handleRequest(query: Packet, ctx: RequestContext): Packet {
    return dnsPacket.decode(this.answer(query, ctx))
  }

  /** `handleRequest` in wire form: what the server sends. */
  answer(query: Packet, ctx: RequestContext): Buffer {
    const cfg = this.#opts.config()
    // A reload hands out a new config object: cached answers carry the old TTLs and filters.
    if (cfg !== this.#configSeen) {
      if (this.#configSeen !== undefined) this.catalogChanged()
      this.#configSeen = cfg
    }
    const flagsIn = query.flags ?? 0
    const opcode = (flagsIn >> 11) & 0xf
    const q = (query.questions ?? [])[0]
    const opt = (query.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT')
    const optWire = opt ? optRecord(opt) : undefined
    const ra = cfg.recursors.length > 0
    const head = (rcode: Rcode, opts: { aa?: boolean; tc?: boolean; question?: boolean } = {}): Buffer =>
      dnsPacket.encode({
        id: query.id ?? 0,
        type: 'response',
        flags:
          (opcode << 11) |
          (flagsIn & dnsPacket.RECURSION_DESIRED) |
          (ra ? dnsPacket.RECURSION_AVAILABLE : 0) |
          (opts.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
          (opts.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) |
          RCODE[rcode],
        questions: q && opts.question !== false ? [{ name: canonical(q.name), type: q.type, class: q.class ?? 'IN' }] : [],
      })
    const error = (rcode: Rcode, question = true): Buffer => assemble(head(rcode, { question }), [], 0, [], optWire ? [optWire] : [])
    if (opcode !== OPCODE_QUERY) return error('NOTIMP')
    // A missing question, or a name that would not encode back (dns-packet decodes some invalid
    // names to text that does not re-encode): FORMERR, without echoing it.
    if (!q || typeof q.name !== 'string' || !encodableName(q.name)) return error('FORMERR', false)
    const klass = q.class ?? 'IN'
    if (klass !== 'IN' && klass !== 'ANY') return error('NOTIMP')
    if (NOT_IMPLEMENTED_TYPES.has(q.type)) return error('NOTIMP')
    const domain = this.domainOf(q.name)
    if (domain === undefined) return error('REFUSED')
    // Another datacenter's name: its router answers, from its own copy of that catalog (never kept for the fast path here).
    const dc = this.#opts.remote ? datacenterLabel(canonical(q.name), domain) : undefined
    if (dc !== undefined && dc !== this.#opts.datacenter.toLowerCase()) {
      const remote = this.#opts.remote!(dc)
      if (remote) return remote.answer(query, { transport: ctx.transport })
    }

    // Prepared queries change without a catalog write: their names carry the source's generation.
    const generation = this.#generation()
    const key = `${q.type}|${canonical(q.name)}|${generation}`
    const res = this.#opts.cache ? this.#opts.cache.get(key, () => this.resolve(q)) : this.resolve(q)

    const fixedAnswers: Buffer[] = []
    const authorities: Buffer[] = []
    if (res.soaAnswer || res.soaAuthority) {
      const soa = encodeRecord(this.#soa(res.domain, cfg))
      ;(res.soaAnswer ? fixedAnswers : authorities).push(soa)
    }
    for (const a of res.authorities) authorities.push(encodeRecord(a))

    const limit = this.#answerLimit(res, cfg, ctx.transport, opt)
    const groups = pickGroups(res.groups, res.shuffle, limit, this.#random)
    let header = this.#header(res, q, flagsIn, query.id ?? 0, () => head(res.rcode, { aa: true }))
    const maxSize = ctx.transport === 'tcp' ? DNS_LIMITS.tcpMaxSize : udpSize(opt)
    const fixed = header.length + byteSum(fixedAnswers) + byteSum(authorities) + (optWire?.length ?? 0)
    if (ctx.wireKey !== undefined && this.#whole && fixedAnswers.length === 0 && authorities.length === 0) {
      const fitKey = `${maxSize - fixed}|${limit}`
      const fits = (res.wholeFits ??= new Map())
      let whole = fits.get(fitKey)
      if (!whole) fits.set(fitKey, (whole = fitsWhole(res.groups, maxSize - fixed, limit)))
      if (whole.fits) {
        const entry: WholeAnswer = { head: header, groups: res.groups, shuffle: res.shuffle, limit, opt: optWire, generation, sharedGlue: whole.sharedGlue }
        this.#whole.put(ctx.wireKey, entry)
        // The mirror is the UDP workers': TCP answers stay here.
        if (ctx.transport === 'udp') this.#opts.mirror?.put(ctx.wireKey, entry)
      }
    }
    const fitted = fitGroups(groups, maxSize - fixed)
    if (fitted.truncated) header = head(res.rcode, { aa: true, tc: true })
    return assemble(header, [...fixedAnswers, ...fitted.answers], fixedAnswers.length + fitted.answerCount, authorities, optWire ? [...fitted.additionals, optWire] : fitted.additionals)
  }

  /** How many groups one answer keeps: `a_record_limit`, and `udp_answer_limit` for 512-byte UDP clients. */
  #answerLimit(res: Resolution, cfg: DnsConfig, transport: 'udp' | 'tcp', opt: OptAnswer | undefined): number {
    if (!res.limited) return Infinity
    let limit = cfg.aRecordLimit > 0 ? cfg.aRecordLimit : Infinity
    // Consul's cap for UDP clients that did not say they take more than 512 bytes.
    if (transport === 'udp' && udpSize(opt) === DNS_LIMITS.udpDefaultSize && cfg.udpAnswerLimit > 0) limit = Math.min(limit, cfg.udpAnswerLimit)
    return limit
  }

  /**
   * The header and question of an answer, copied from one dns-packet encoded per cached answer,
   * question class and flag set: only the ID differs between such queries, so only it is set.
   */
  #header(res: Resolution, q: Question, flagsIn: number, id: number, head: () => Buffer): Buffer {
    const key = `${q.class ?? 'IN'}|${flagsIn & dnsPacket.RECURSION_DESIRED}|${this.#opts.config().recursors.length > 0}`
    const templates = (res.heads ??= new Map())
    let template = templates.get(key)
    if (!template) {
      template = head()
      templates.set(key, template)
    }
    const out = Buffer.from(template)
    out.writeUInt16BE(id, 0)
    return out
  }

  /** The records for one question (in our domain), uncached. Pure given the catalog and config. */
  resolve(q: Question): Resolution {
    const cfg = this.#opts.config()
    const name = canonical(q.name)
    const domain = this.domainOf(name) ?? cfg.domain.slice(0, -1)
    const res = (rcode: Rcode, groups: RecordGroup[] = [], more: Partial<Resolution> = {}): Resolution => ({
      rcode,
      domain,
      groups,
      shuffle: false,
      limited: false,
      soaAnswer: false,
      soaAuthority: rcode === 'NXDOMAIN' || (rcode === 'NOERROR' && groups.length === 0 && !more.soaAnswer),
      authorities: [],
      ...more,
    })
    // SOA and NS questions are about the zone, whatever name they carry (as Consul answers them).
    if (q.type === 'SOA') return res('NOERROR', [], { soaAnswer: true, soaAuthority: false, authorities: this.#nsRecords(domain, cfg), groups: [] })
    if (q.type === 'NS') return res('NOERROR', this.#nsGroups(domain, cfg))

    if (inZone(name, 'in-addr.arpa') || inZone(name, 'ip6.arpa')) return this.#reverse(name, q.type, domain, cfg, res)
    const labels = name === domain ? [] : name.slice(0, -(domain.length + 1)).split('.')
    if (labels.length === 0) return res('NOERROR')
    const split = splitLabels(labels)
    if (!split) return res('NXDOMAIN')
    const { kind, before, after } = split
    if (after.length > 1) return res('NXDOMAIN')
    // Another datacenter this router does not answer for (an unknown one, to Consul): NXDOMAIN.
    if (after.length === 1 && after[0] !== this.#opts.datacenter.toLowerCase()) return res('NXDOMAIN')
    if (before.length === 0) return res('NXDOMAIN')

    switch (kind) {
      case 'node':
        return this.#node(name, before.join('.'), q.type, cfg, res)
      case 'service': {
        let service: string
        let tag: string | undefined
        if (before.length === 2 && before[0]!.startsWith('_') && before[1]!.startsWith('_')) {
          service = before[0]!.slice(1)
          tag = before[1] === '_tcp' ? undefined : before[1]!.slice(1)
        } else if (before.length === 1) {
          service = before[0]!
        } else if (before.length === 2) {
          tag = before[0]
          service = before[1]!
        } else {
          return res('NXDOMAIN')
        }
        const real = this.#names().services.get(service)
        if (real === undefined) return res('NXDOMAIN')
        const match = tag === undefined ? undefined : (svc: ServiceRecord): boolean => svc.Tags.some((t) => t.toLowerCase() === tag)
        return this.#service(name, real, { match, onlyPassing: cfg.onlyPassing, ttlMs: serviceTtl(cfg, real) }, q.type, domain, cfg, res)
      }
      case 'query': {
        const source = this.#opts.preparedQueries?.()
        const pq = source && before.length === 1 ? source.find(before[0]!) : undefined
        if (!pq) return res('NXDOMAIN')
        const service = pq.Service.Service.toLowerCase()
        let ttlMs = serviceTtl(cfg, this.#names().services.get(service) ?? service)
        if (pq.DNS?.TTL) {
          try {
            ttlMs = parseDurationMs(pq.DNS.TTL)
          } catch {
            // A bad TTL in a stored query falls back to the configured one rather than failing the lookup.
          }
        }
        const filter: InstanceFilter = { match: (svc, node) => source!.matches(pq, svc, node.Meta), onlyPassing: pq.Service.OnlyPassing === true, ignore: new Set(pq.Service.IgnoreCheckIDs ?? []), ttlMs }
        const real = this.#names().services.get(service)
        const local = real === undefined ? res('NXDOMAIN') : this.#service(name, real, filter, q.type, domain, cfg, res)
        if (local.rcode !== 'NXDOMAIN') return local
        // No healthy instance here: the query's failover datacenters in turn, from their catalog copies (Consul's queryFailover).
        for (const dc of source!.failoverOrder(pq, this.#opts.datacenter, this.#opts.datacenters?.() ?? [])) {
          const remote = this.#opts.remote?.(dc)
          const theirs = remote ? remote.#names().services.get(service) : undefined
          if (!remote || theirs === undefined) continue
          const answer = remote.#service(name, theirs, filter, q.type, domain, cfg, res)
          if (answer.rcode !== 'NXDOMAIN') return answer
        }
        return local
      }
      case 'addr':
        return this.#addr(name, before, q.type, cfg, res)
      default:
        // Mesh names (connect, ingress, virtual) are not served: unknown.
        return res('NXDOMAIN')
    }
  }

  #node(qname: string, nodeName: string, type: string, cfg: DnsConfig, res: ResFn): Resolution {
    const real = this.#names().nodes.get(nodeName)
    const node = real === undefined ? undefined : this.#opts.catalog().node(real)
    if (!node) return res('NXDOMAIN')
    const ttl = seconds(cfg.nodeTtlMs)
    const answers: Answer[] = []
    const additionals: Answer[] = []
    if (type === 'A' || type === 'AAAA' || type === 'ANY' || type === 'CNAME') answers.push(...addressRecords(qname, node.Address, type, ttl))
    if (type === 'TXT' || type === 'ANY') answers.push(...metaTxt(qname, node.Meta, ttl))
    else if (answers.length > 0 && cfg.enableAdditionalNodeMetaTxt) additionals.push(...metaTxt(qname, node.Meta, ttl))
    if (answers.length === 0) return res('NOERROR')
    return res('NOERROR', [group(answers, additionals)])
  }

  /** Healthy instances of `real` (a catalog service name) that `filter` accepts, as A/AAAA/CNAME or SRV answers. */
  #service(qname: string, real: string, filter: InstanceFilter, type: string, domain: string, cfg: DnsConfig, res: ResFn): Resolution {
    const catalog = this.#opts.catalog()
    const healthy: Array<{ svc: ServiceRecord; node: NodeRecord; warning: boolean }> = []
    for (const svc of catalog.instances(real)) {
      const node = catalog.node(svc.Node)
      if (!node || (filter.match && !filter.match(svc, node))) continue
      const verdict = health(catalog.instanceChecks(svc), filter.ignore)
      if (verdict === 'critical' || (verdict === 'warning' && filter.onlyPassing)) continue
      healthy.push({ svc, node, warning: verdict === 'warning' })
    }
    // Consul answers a service with no healthy instance as an unknown name.
    if (healthy.length === 0) return res('NXDOMAIN')
    const ttl = seconds(filter.ttlMs)
    const dc = this.#opts.datacenter
    const groups: RecordGroup[] = []
    if (type === 'SRV') {
      for (const { svc, node, warning } of healthy) {
        const address = svc.Address || node.Address
        const additionals: Answer[] = []
        let target: string
        if (isIP(address) === 0) {
          target = address // a hostname is its own target
        } else if (svc.Address && svc.Address !== node.Address) {
          target = `${ipToHex(address)}.addr.${dc}.${domain}`
          additionals.push(...addressRecords(target, address, 'ANY', ttl))
        } else {
          target = `${node.Node}.node.${dc}.${domain}`
          additionals.push(...addressRecords(target, address, 'ANY', ttl))
          if (cfg.enableAdditionalNodeMetaTxt) additionals.push(...metaTxt(target, node.Meta, ttl))
        }
        const weight = warning ? svc.Weights.Warning : svc.Weights.Passing
        groups.push(group([{ name: qname, type: 'SRV', ttl, data: { priority: 1, weight, port: svc.Port, target } }], additionals))
      }
    } else if (type === 'A' || type === 'AAAA' || type === 'ANY' || type === 'CNAME') {
      const seen = new Set<string>()
      for (const { svc, node } of healthy) {
        const address = svc.Address || node.Address
        if (seen.has(address)) continue // Consul answers each address once
        seen.add(address)
        const records = addressRecords(qname, address, type, ttl)
        if (records.length > 0) groups.push(group(records, []))
      }
    }
    if (groups.length === 0) return res('NOERROR')
    return res('NOERROR', groups, { shuffle: true, limited: true })
  }

  #addr(name: string, labels: string[], type: string, cfg: DnsConfig, res: ResFn): Resolution {
    if (labels.length !== 1) return res('NXDOMAIN')
    const address = hexToIp(labels[0]!)
    if (!address) return res('NXDOMAIN')
    const records = addressRecords(name, address, type, seconds(cfg.nodeTtlMs))
    return records.length ? res('NOERROR', [group(records, [])]) : res('NOERROR')
  }

  #reverse(name: string, type: string, domain: string, cfg: DnsConfig, res: ResFn): Resolution {
    const ip = arpaToIp(name)
    const owners = ip ? this.#names().byIp.get(ip) : undefined
    if (!owners || owners.length === 0) return res('NXDOMAIN')
    if (type !== 'PTR' && type !== 'ANY') return res('NOERROR')
    const ttl = seconds(cfg.nodeTtlMs)
    const dc = this.#opts.datacenter
    const answers: Answer[] = owners.map((o) => ({ name, type: 'PTR', ttl, data: `${o.name}.${o.kind}.${dc}.${domain}` }))
    return res('NOERROR', [group(answers, [])])
  }

  #nsGroups(domain: string, cfg: DnsConfig): RecordGroup[] {
    const ns = this.#nsRecords(domain, cfg)
    const node = this.#opts.catalog().node(this.#opts.nodeName())
    return ns.map((r) => group([r], node ? addressRecords((r as { data: string }).data, node.Address, 'ANY', seconds(cfg.nodeTtlMs)) : []))
  }

  #nsRecords(domain: string, cfg: DnsConfig): Answer[] {
    const dc = this.#opts.datacenter
    return [{ name: domain, type: 'NS', ttl: seconds(cfg.nodeTtlMs), data: `${this.#opts.nodeName()}.node.${dc}.${domain}` }]
  }

  #soa(domain: string, cfg: DnsConfig): Answer {
    const { refresh, retry, expire, minTtl } = cfg.soa
    return {
      name: domain,
      type: 'SOA',
      ttl: minTtl,
      data: { mname: `ns.${domain}`, rname: `hostmaster.${domain}`, serial: this.#now() >>> 0, refresh, retry, expire, minimum: minTtl },
    }
  }

  /** Lower-case name and IP indexes of the catalog, rebuilt lazily after a change. */
  #names(): NameIndex {
    if (this.#index) return this.#index
    const catalog = this.#opts.catalog()
    const index: NameIndex = { nodes: new Map(), services: new Map(), byIp: new Map() }
    const own = (ip: string, kind: 'node' | 'service', name: string): void => {
      const key = canonicalIp(ip)
      if (!key) return
      let list = index.byIp.get(key)
      if (!list) index.byIp.set(key, (list = []))
      if (!list.some((o) => o.kind === kind && o.name === name)) list.push({ kind, name })
    }
    for (const node of catalog.allNodes()) {
      index.nodes.set(node.Node.toLowerCase(), node.Node)
      own(node.Address, 'node', node.Node)
    }
    for (const service of catalog.serviceNames()) {
      index.services.set(service.toLowerCase(), service)
      for (const svc of catalog.instances(service)) if (svc.Address) own(svc.Address, 'service', service)
    }
    this.#index = index
    return index
  }

}

/** Which instances a service lookup keeps, and the TTL it answers with. */
interface InstanceFilter {
  match?: (svc: ServiceRecord, node: NodeRecord) => boolean
  onlyPassing: boolean
  /** Check IDs whose status does not count (a prepared query's IgnoreCheckIDs). */
  ignore?: ReadonlySet<string>
  ttlMs: number
}

type ResFn = (rcode: Rcode, groups?: RecordGroup[], more?: Partial<Resolution>) => Resolution

// ---- helpers -------------------------------------------------------------------------------

/** Lower case, no trailing dot: the form names are compared and echoed in (Consul canonicalises too). */
export function canonical(name: string): string {
  const n = name.toLowerCase()
  return n.endsWith('.') ? n.slice(0, -1) : n
}

/** Labels of 1 to 63 bytes, 253 bytes in all: what encodes back to the wire unchanged. */
function encodableName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  if (n === '') return true
  if (Buffer.byteLength(n) > 253) return false
  for (const label of n.split('.')) {
    const len = Buffer.byteLength(label)
    if (len === 0 || len > 63) return false
  }
  return true
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`)
}

function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000))
}

const group = makeGroup

function byteSum(list: readonly Buffer[]): number {
  let n = 0
  for (const b of list) n += b.length
  return n
}

/**
 * The message: a header and question that dns-packet encoded, then records it encoded one by
 * one (each authority and additional buffer is one record; an answer buffer may hold several).
 * The header's section counts are set here because the records were encoded apart from it.
 */
function assemble(head: Buffer, answers: readonly Uint8Array[], answerCount: number, authorities: readonly Uint8Array[], additionals: readonly Uint8Array[]): Buffer {
  const out = Buffer.concat([head, ...answers, ...authorities, ...additionals])
  out.writeUInt16BE(answerCount, 6)
  out.writeUInt16BE(authorities.length, 8)
  out.writeUInt16BE(additionals.length, 10)
  return out
}

/** The worst status of an instance's checks; a maintenance check is critical. */
function health(checks: CheckRecord[], ignore?: ReadonlySet<string>): 'passing' | 'warning' | 'critical' {
  let worst: 'passing' | 'warning' | 'critical' = 'passing'
  for (const c of checks) {
    if (ignore?.has(c.CheckID)) continue
    const s = c.Status as string
    if (s === 'critical' || s === 'maintenance') return 'critical'
    if (s === 'warning') worst = 'warning'
  }
  return worst
}

/** `service_ttl`: the exact name first, then the longest matching `prefix*`. */
export function serviceTtl(cfg: DnsConfig, service: string): number {
  const exact = cfg.serviceTtlMs[service]
  if (exact !== undefined) return exact
  let best: number | undefined
  let bestLen = -1
  for (const [pattern, ttl] of Object.entries(cfg.serviceTtlMs)) {
    if (!pattern.endsWith('*')) continue
    const prefix = pattern.slice(0, -1)
    if (service.startsWith(prefix) && prefix.length > bestLen) {
      best = ttl
      bestLen = prefix.length
    }
  }
  return best ?? 0
}

/** A/AAAA for an IP, CNAME for a hostname, filtered by the question type. */
function addressRecords(name: string, address: string, type: string, ttl: number): Answer[] {
  const family = isIP(address)
  if (family === 4 && (type === 'A' || type === 'ANY')) return [{ name, type: 'A', ttl, data: address }]
  if (family === 6 && (type === 'AAAA' || type === 'ANY')) return [{ name, type: 'AAAA', ttl, data: address }]
  if (family === 0 && address && type !== 'TXT') return [{ name, type: 'CNAME', ttl, data: address }]
  return []
}

/** Node meta as TXT: `key=value` (RFC 1464), or the bare value for `rfc1035-` keys. */
function metaTxt(name: string, meta: Record<string, string>, ttl: number): Answer[] {
  return Object.entries(meta).map(([k, v]) => {
    const text = Buffer.from(k.startsWith('rfc1035-') ? v : `${k}=${v}`)
    const chunks: Buffer[] = []
    for (let i = 0; i < text.length; i += DNS_LIMITS.txtChunk) chunks.push(text.subarray(i, i + DNS_LIMITS.txtChunk))
    return { name, type: 'TXT', ttl, data: chunks.length ? chunks : [Buffer.alloc(0)] }
  })
}

function udpSize(opt: OptAnswer | undefined): number {
  if (!opt) return DNS_LIMITS.udpDefaultSize
  return Math.min(DNS_LIMITS.udpMaxSize, Math.max(DNS_LIMITS.udpDefaultSize, opt.udpPayloadSize || 0))
}

/** Our OPT record, advertising the size we will use; encoded once per size. */
const optBySize = new Map<number, Buffer>()
function optRecord(req: OptAnswer): Buffer {
  const size = udpSize(req)
  let wire = optBySize.get(size)
  if (!wire) {
    wire = encodeRecord({ name: '.', type: 'OPT', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] })
    optBySize.set(size, wire)
  }
  return wire
}

/** `0a000001` → 10.0.0.1; 32 hex digits → an IPv6 address; anything else → undefined. */
export function hexToIp(hex: string): string | undefined {
  if (!/^[0-9a-f]+$/.test(hex)) return undefined
  if (hex.length === 8) return [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.')
  if (hex.length === 32) return canonicalIp(Array.from({ length: 8 }, (_, i) => hex.slice(i * 4, i * 4 + 4)).join(':'))
  return undefined
}

export function ipToHex(ip: string): string {
  if (isIP(ip) === 4) return ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')
  return expandIpv6(ip).join('')
}

/** The 32 nibbles of an IPv6 address, as 8 groups of 4 hex digits. */
function expandIpv6(ip: string): string[] {
  let text = ip.toLowerCase()
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const o = v4[1]!.split('.').map(Number)
    text = text.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0')
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0'))
}

/** One spelling per address, so catalog addresses and reverse names compare equal. */
export function canonicalIp(ip: string): string | undefined {
  const family = isIP(ip)
  if (family === 4) return ip
  if (family === 6) return expandIpv6(ip).join(':')
  return undefined
}

/** `4.3.2.1.in-addr.arpa` → 1.2.3.4; nibble-reversed ip6.arpa → IPv6; partial names → undefined. */
export function arpaToIp(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.')
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined
    return canonicalIp(parts.reverse().map(Number).join('.'))
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.')
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined
    return hexToIp(nibbles.reverse().join(''))
  }
  return undefined
}

/** Decodes a wire query; undefined when it cannot be parsed at all. */
export function decodeQuery(buf: Buffer): DecodedPacket | undefined {
  try {
    return dnsPacket.decode(buf)
  } catch {
    return undefined
  }
}

/**
 * A name's labels (below the domain) split at the rightmost type label: what is looked up before
 * it, the datacenter after (`.dc` allowed after it); RFC 2782 names without `.service` too.
 */
function splitLabels(labels: readonly string[]): { kind: string; before: string[]; after: string[] } | undefined {
  let at = -1
  for (let i = labels.length - 1; i >= 0; i--) {
    if (TYPE_LABELS.has(labels[i]!)) {
      at = i
      break
    }
  }
  let kind: string
  let before: string[]
  let after: string[]
  if (at >= 0) {
    kind = labels[at]!
    before = labels.slice(0, at)
    after = labels.slice(at + 1)
  } else if (labels.length >= 2 && labels[0]!.startsWith('_') && labels[1]!.startsWith('_')) {
    // RFC 2782 without the `.service` label: _web._tcp[.dc1].consul
    kind = 'service'
    before = labels.slice(0, 2)
    after = labels.slice(2)
  } else {
    return undefined
  }
  if (after.length === 2 && after[1] === 'dc') after = [after[0]!]
  return { kind, before, after }
}

/** The datacenter a canonical name in `domain` names, if any. */
function datacenterLabel(name: string, domain: string): string | undefined {
  if (name === domain || inZone(name, 'in-addr.arpa') || inZone(name, 'ip6.arpa')) return undefined
  const split = splitLabels(name.slice(0, -(domain.length + 1)).split('.'))
  return split && split.after.length === 1 ? split.after[0] : undefined
}
