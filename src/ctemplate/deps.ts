/**
 * Dependencies: what a template function asks Consul (or the file system) for. Each one parses
 * consul-template's query grammar with its exact error texts, names itself the way upstream's
 * `String()` does (that name is the brain key, the view key and what the log prints), and knows how
 * to fetch its data with a blocking query.
 */
import { stat, readFile } from 'node:fs/promises'
import { ConsulClient } from '../client/client.js'
import { parseJson } from '../lib/json.js'
import { typed } from '../template/index.js'

// The building blocks of upstream's regexes (dependency/dependency.go); [[:word:]] is [0-9A-Za-z_].
const W = '0-9A-Za-z_'
const DC_RE = `(?:@(?<dc>[${W}.\\-]+))?`
const KEY_RE = `/?(?<key>[^@?]+)`
// Spaces around the commas are accepted ("passing, warning"), as consul-template did in 2015 and the
// seed's templates rely on; today's upstream rejects them.
const FILTER_RE = `(?:\\|(?<filter>[${W}, ]+))?`
const SERVICE_NAME_RE = `(?<name>[${W}\\-]+)`
const QUERY_RE = `(?:\\?(?<query>[${W}\\-=&]+))?`
const NODE_NAME_RE = `(?<name>[${W}.\\-]+)`
const NEAR_RE = `(?:~(?<near>[${W}.\\-]+))?`
const PREFIX_RE = `/?(?<prefix>[^@?]+)`
const TAG_RE = `(?:(?<tag>[${W}=:.\\-]+)\\.)?`

const HEALTH_SERVICE_RE = new RegExp(`^${TAG_RE}${SERVICE_NAME_RE}${QUERY_RE}${DC_RE}${NEAR_RE}${FILTER_RE}$`)
const KV_RE = new RegExp(`^${KEY_RE}${QUERY_RE}${DC_RE}$`)
const KV_LIST_RE = new RegExp(`^${PREFIX_RE}${QUERY_RE}${DC_RE}$`)
const CATALOG_SERVICES_RE = new RegExp(`^${QUERY_RE}${DC_RE}$`)
const CATALOG_NODES_RE = new RegExp(`^${QUERY_RE}${DC_RE}${NEAR_RE}$`)
const CATALOG_NODE_RE = new RegExp(`^${NODE_NAME_RE}${QUERY_RE}${DC_RE}$`)

export const HEALTH_FILTERS = ['any', 'passing', 'warning', 'critical', 'maintenance'] as const
const QUERY_KEYS = ['ns', 'peer', 'partition', 'sameness-group']
const NODE_MAINT = '_node_maintenance'
const SERVICE_MAINT = '_service_maintenance:'

/** consul-template polls the non-blocking datacenters endpoint this often (DefaultNonBlockingQuerySleepTime). */
export const DATACENTERS_POLL_MS = 15_000
/** `file` dependencies are polled for size/mtime changes this often. */
export const FILE_POLL_MS = 2_000

/** An error in a query string: the template call fails with this message. */
export class QueryError extends Error {}

/** What a view passes to a fetch. */
export interface FetchOptions {
  client: ConsulClient
  /** The last X-Consul-Index seen (0 on the first fetch or after a reset). */
  index: number
  waitMs: number
  stale: boolean
  signal: AbortSignal
}

export interface FetchResult {
  data: unknown
  /** X-Consul-Index (or an emulated one for non-Consul sources). */
  index: number
  /** X-Consul-LastContact in ms, for the max_stale check. */
  lastContactMs: number
}

export interface Dependency {
  /** upstream's String(): `health.service(web|passing)`, `kv.block(k)`, ... */
  readonly id: string
  /** kv.block: a missing key (null data) never counts as data. */
  readonly blockOnNil: boolean
  /** Consul dependencies take index/stale; file and datacenters poll. */
  readonly kind: 'consul' | 'poll'
  fetch(opts: FetchOptions): Promise<FetchResult>
}

// ---- data shapes (ref §3.4): classes, so the template engine treats them as Go structs ----------

const stringMap = (m: unknown): Record<string, string> => typed({ ...((m ?? {}) as Record<string, string>) }, 'map[string]string', '')
const sortedTags = (t: unknown): string[] => typed([...((t ?? []) as string[])].sort(), 'dependency.ServiceTags', '')

export class HealthCheck {
  static goType = '*api.HealthCheck'
  Node = ''
  CheckID = ''
  Name = ''
  Status = ''
  Notes = ''
  Output = ''
  ServiceID = ''
  ServiceName = ''
  ServiceTags: string[] = typed([], '[]string', '')
  Type = ''
  Namespace = ''
  Partition = ''
  CreateIndex = 0
  ModifyIndex = 0
  constructor(raw: Record<string, unknown>) {
    for (const k of Object.keys(this) as (keyof this)[]) {
      const v = raw[k as string]
      if (v === undefined || v === null) continue
      ;(this as Record<string, unknown>)[k as string] = k === 'ServiceTags' ? typed([...(v as string[])], '[]string', '') : v
    }
  }
}

export class AgentWeights {
  static goType = 'api.AgentWeights'
  constructor(
    readonly Passing: number,
    readonly Warning: number,
  ) {}
}

export class ServiceAddress {
  static goType = 'api.ServiceAddress'
  constructor(
    readonly Address: string,
    readonly Port: number,
  ) {}
}

export class HealthService {
  static goType = '*dependency.HealthService'
  Node = ''
  NodeID = ''
  NodeAddress = ''
  NodeTaggedAddresses: Record<string, string> = {}
  NodeMeta: Record<string, string> = {}
  ServiceMeta: Record<string, string> = {}
  Address = ''
  ServiceTaggedAddresses: Record<string, ServiceAddress> = {}
  ID = ''
  Name = ''
  Tags: string[] = []
  Checks: HealthCheck[] = []
  Status = ''
  Port = 0
  Weights = new AgentWeights(1, 1)
}

export class KeyPair {
  static goType = '*dependency.KeyPair'
  constructor(
    readonly Path: string,
    readonly Key: string,
    readonly Value: string,
    readonly CreateIndex: number | bigint,
    readonly ModifyIndex: number | bigint,
    readonly LockIndex: number | bigint,
    readonly Flags: number | bigint,
    readonly Session: string,
  ) {}
}

export class CatalogSnippet {
  static goType = '*dependency.CatalogSnippet'
  constructor(
    readonly Name: string,
    readonly Tags: string[],
  ) {}
}

export class Node {
  static goType = '*dependency.Node'
  constructor(
    readonly ID: string,
    readonly Node: string,
    readonly Address: string,
    readonly Datacenter: string,
    readonly TaggedAddresses: Record<string, string>,
    readonly Meta: Record<string, string>,
  ) {}
}

export class CatalogNodeService {
  static goType = '*dependency.CatalogNodeService'
  constructor(
    readonly ID: string,
    readonly Service: string,
    readonly Tags: string[],
    readonly Meta: Record<string, string>,
    readonly Port: number,
    readonly Address: string,
    readonly EnableTagOverride: boolean,
  ) {}
}

export class CatalogNode {
  static goType = '*dependency.CatalogNode'
  constructor(
    readonly Node: Node | null,
    readonly Services: CatalogNodeService[],
  ) {}
}

/** api.HealthChecks.AggregatedStatus: maintenance > critical > warning > passing; an unknown status gives "". */
export function aggregatedStatus(checks: readonly { CheckID: string; Status: string }[]): string {
  let warning = false
  let critical = false
  let maintenance = false
  for (const c of checks) {
    if (c.CheckID === NODE_MAINT || c.CheckID.startsWith(SERVICE_MAINT)) {
      maintenance = true
      continue
    }
    if (c.Status === 'passing') continue
    if (c.Status === 'warning') warning = true
    else if (c.Status === 'critical') critical = true
    else return ''
  }
  if (maintenance) return 'maintenance'
  if (critical) return 'critical'
  if (warning) return 'warning'
  // All passing, or no checks at all.
  return 'passing'
}

// ---- parsing helpers -----------------------------------------------------------------------------

function parseQueryOpts(raw: string | undefined, label: string): Map<string, string> {
  const out = new Map<string, string>()
  if (!raw) return out
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const k = eq < 0 ? part : part.slice(0, eq)
    const v = eq < 0 ? '' : part.slice(eq + 1)
    if (!QUERY_KEYS.includes(k)) {
      throw new QueryError(`${label}: invalid query parameter key ${goQuote(k)} in query ${goQuote(raw)}: supported keys: ns,peer,partition,sameness-group`)
    }
    if (!out.has(k)) out.set(k, v)
  }
  return out
}

/** Go's %q for the ASCII strings these messages carry. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The `@dc@partition=p@ns=n` suffix upstream's String() methods append. */
function scopeSuffix(dc: string, q: Map<string, string>): string {
  let s = dc ? `@${dc}` : ''
  if (q.get('partition')) s += `@partition=${q.get('partition')}`
  if (q.get('ns')) s += `@ns=${q.get('ns')}`
  return s
}

function consulQuery(dc: string, q: Map<string, string>, opts: FetchOptions): Record<string, string | number | boolean | undefined> {
  return {
    dc: dc || undefined,
    ns: q.get('ns') || undefined,
    partition: q.get('partition') || undefined,
    peer: q.get('peer') || undefined,
    'sameness-group': q.get('sameness-group') || undefined,
    stale: opts.stale || undefined,
    index: opts.index > 0 ? opts.index : undefined,
    wait: opts.index > 0 ? `${opts.waitMs}ms` : undefined,
  }
}

async function getJson(opts: FetchOptions, path: string, query: Record<string, string | number | boolean | undefined>, id: string, allow404 = false): Promise<{ body: unknown; index: number; lastContactMs: number }> {
  let res
  try {
    res = await opts.client.request('GET', path, { query, signal: opts.signal })
  } catch (err) {
    throw new Error(`${id}: ${(err as Error).message}`)
  }
  if (res.status === 404 && allow404) return { body: null, index: res.index ?? 0, lastContactMs: lastContact(res.headers) }
  if (res.status !== 200) throw new Error(`${id}: Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
  return { body: res.body.length ? parseJson(res.body.toString('utf8')) : null, index: res.index ?? 0, lastContactMs: lastContact(res.headers) }
}

function lastContact(h: Record<string, string | string[] | undefined>): number {
  const v = h['x-consul-lastcontact']
  return typeof v === 'string' ? Number(v) || 0 : 0
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/')

// ---- the dependencies ----------------------------------------------------------------------------

export class HealthServiceQuery implements Dependency {
  readonly kind = 'consul'
  readonly blockOnNil = false
  readonly id: string
  readonly tag: string
  readonly name: string
  readonly dc: string
  readonly near: string
  readonly filters: string[]
  readonly #q: Map<string, string>

  /** `connect`: the same query against /v1/health/connect (Connect-capable instances). */
  constructor(
    s: string,
    readonly connect = false,
  ) {
    const m = HEALTH_SERVICE_RE.exec(s)
    if (!m) throw new QueryError(`health.service: invalid format: ${goQuote(s)}`)
    const g = m.groups ?? {}
    let filters: string[] = []
    if (g.filter) {
      for (let f of g.filter.split(',')) {
        f = f.trim()
        if (f === '') continue
        if (!(HEALTH_FILTERS as readonly string[]).includes(f)) throw new QueryError(`health.service: invalid filter: ${goQuote(f)} in ${goQuote(s)}`)
        filters.push(f)
      }
      filters.sort()
    } else {
      filters = ['passing']
    }
    this.#q = parseQueryOpts(g.query, 'health.service')
    if (this.#q.get('sameness-group') && this.#q.get('peer')) throw new QueryError('health.service: cannot specify both peer and sameness-group')
    this.tag = g.tag ?? ''
    this.name = g.name ?? ''
    this.dc = g.dc ?? ''
    this.near = g.near ?? ''
    this.filters = filters
    let id = this.tag ? `${this.tag}.${this.name}` : this.name
    id += scopeSuffix(this.dc, this.#q)
    if (this.#q.get('peer')) id += `@peer=${this.#q.get('peer')}`
    if (this.#q.get('sameness-group')) id += `@sameness-group=${this.#q.get('sameness-group')}`
    if (this.near) id += `~${this.near}`
    if (filters.length) id += `|${filters.join(',')}`
    this.id = connect ? `health.connect(${id})` : `health.service(${id})`
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    // Only a lone `passing` filter can be done by the server; anything else is filtered here.
    const passingOnly = this.filters.length === 1 && this.filters[0] === 'passing'
    const query = { ...consulQuery(this.dc, this.#q, opts), near: this.near || undefined, tag: this.tag || undefined, passing: passingOnly || undefined }
    const r = await getJson(opts, `/v1/health/${this.connect ? 'connect' : 'service'}/${encodeURIComponent(this.name)}`, query, this.id)
    const list: HealthService[] = []
    for (const e of (r.body ?? []) as Record<string, any>[]) {
      const checks = ((e.Checks ?? []) as Record<string, unknown>[]).map((c) => new HealthCheck(c))
      const status = aggregatedStatus(checks)
      if (!this.filters.some((f) => f === status || f === 'any')) continue
      const node = (e.Node ?? {}) as Record<string, any>
      const svc = (e.Service ?? {}) as Record<string, any>
      const hs = new HealthService()
      hs.Node = node.Node ?? ''
      hs.NodeID = node.ID ?? ''
      hs.NodeAddress = node.Address ?? ''
      hs.NodeTaggedAddresses = stringMap(node.TaggedAddresses)
      hs.NodeMeta = stringMap(node.Meta)
      hs.ServiceMeta = stringMap(svc.Meta)
      hs.Address = svc.Address || node.Address || ''
      const tagged: Record<string, ServiceAddress> = {}
      for (const [k, v] of Object.entries((svc.TaggedAddresses ?? {}) as Record<string, { Address?: string; Port?: number }>)) tagged[k] = new ServiceAddress(v.Address ?? '', v.Port ?? 0)
      hs.ServiceTaggedAddresses = typed(tagged, 'map[string]api.ServiceAddress', new ServiceAddress('', 0))
      hs.ID = svc.ID ?? ''
      hs.Name = svc.Service ?? ''
      hs.Tags = sortedTags(svc.Tags)
      hs.Checks = typed(checks, 'api.HealthChecks', null)
      hs.Status = status
      hs.Port = Number(svc.Port ?? 0)
      hs.Weights = new AgentWeights(Number(svc.Weights?.Passing ?? 1), Number(svc.Weights?.Warning ?? 1))
      list.push(hs)
    }
    if (!this.near) list.sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))
    return { data: list, index: r.index, lastContactMs: r.lastContactMs }
  }
}

export class KVGetQuery implements Dependency {
  readonly kind = 'consul'
  readonly id: string
  readonly key: string
  readonly dc: string
  readonly #q: Map<string, string>

  /** `blockOnNil` is upstream's EnableBlocking(): the `key` function. */
  constructor(
    s: string,
    readonly blockOnNil = false,
  ) {
    const m = s === '' ? null : KV_RE.exec(s)
    if (s !== '' && !m) throw new QueryError(`kv.get: invalid format: ${goQuote(s)}`)
    const g = m?.groups ?? {}
    this.#q = parseQueryOpts(g.query, 'kv.get')
    this.key = g.key ?? ''
    this.dc = g.dc ?? ''
    this.id = `${blockOnNil ? 'kv.block' : 'kv.get'}(${this.key}${scopeSuffix(this.dc, this.#q)})`
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    const r = await getJson(opts, `/v1/kv/${encodePath(this.key)}`, consulQuery(this.dc, this.#q, opts), this.id, true)
    const pair = (r.body as { Value: string | null }[] | null)?.[0]
    const data = pair ? Buffer.from(pair.Value ?? '', 'base64').toString('utf8') : null
    return { data, index: r.index, lastContactMs: r.lastContactMs }
  }
}

export class KVListQuery implements Dependency {
  readonly kind = 'consul'
  readonly blockOnNil = false
  readonly id: string
  readonly prefix: string
  readonly dc: string
  readonly #q: Map<string, string>

  constructor(s: string) {
    const m = s === '' ? null : KV_LIST_RE.exec(s)
    if (s !== '' && !m) throw new QueryError(`kv.list: invalid format: ${goQuote(s)}`)
    const g = m?.groups ?? {}
    this.#q = parseQueryOpts(g.query, 'kv.list')
    this.prefix = g.prefix ?? ''
    this.dc = g.dc ?? ''
    this.id = `kv.list(${this.prefix}${scopeSuffix(this.dc, this.#q)})`
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    const r = await getJson(opts, `/v1/kv/${encodePath(this.prefix)}`, { ...consulQuery(this.dc, this.#q, opts), recurse: true }, this.id, true)
    const pairs = ((r.body ?? []) as Record<string, any>[]).map((p) => {
      const key = (p.Key as string).startsWith(this.prefix) ? (p.Key as string).slice(this.prefix.length) : (p.Key as string)
      return new KeyPair(p.Key, key.replace(/^\/+/, ''), Buffer.from(p.Value ?? '', 'base64').toString('utf8'), p.CreateIndex ?? 0, p.ModifyIndex ?? 0, p.LockIndex ?? 0, p.Flags ?? 0, p.Session ?? '')
    })
    return { data: pairs, index: r.index, lastContactMs: r.lastContactMs }
  }
}

export class CatalogServicesQuery implements Dependency {
  readonly kind = 'consul'
  readonly blockOnNil = false
  readonly id: string
  readonly dc: string
  readonly #q: Map<string, string>

  constructor(s: string) {
    const m = CATALOG_SERVICES_RE.exec(s)
    if (!m) throw new QueryError(`catalog.services: invalid format: ${goQuote(s)}`)
    const g = m.groups ?? {}
    this.#q = parseQueryOpts(g.query, 'catalog.services')
    this.dc = g.dc ?? ''
    const suffix = scopeSuffix(this.dc, this.#q)
    this.id = suffix ? `catalog.services(${suffix})` : 'catalog.services'
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    const r = await getJson(opts, '/v1/catalog/services', consulQuery(this.dc, this.#q, opts), this.id)
    const entries = Object.entries((r.body ?? {}) as Record<string, string[]>)
    const list = entries.map(([name, tags]) => new CatalogSnippet(name, sortedTags(tags)))
    list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    return { data: list, index: r.index, lastContactMs: r.lastContactMs }
  }
}

const toNode = (n: Record<string, any>): Node =>
  new Node(n.ID ?? '', n.Node ?? '', n.Address ?? '', n.Datacenter ?? '', stringMap(n.TaggedAddresses), stringMap(n.Meta))

export class CatalogNodesQuery implements Dependency {
  readonly kind = 'consul'
  readonly blockOnNil = false
  readonly id: string
  readonly dc: string
  readonly near: string
  readonly #q: Map<string, string>

  constructor(s: string) {
    const m = CATALOG_NODES_RE.exec(s)
    if (!m) throw new QueryError(`catalog.nodes: invalid format: ${goQuote(s)}`)
    const g = m.groups ?? {}
    this.#q = parseQueryOpts(g.query, 'catalog.nodes')
    this.dc = g.dc ?? ''
    this.near = g.near ?? ''
    const name = scopeSuffix(this.dc, this.#q) + (this.near ? `~${this.near}` : '')
    this.id = name ? `catalog.nodes(${name})` : 'catalog.nodes'
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    const r = await getJson(opts, '/v1/catalog/nodes', { ...consulQuery(this.dc, this.#q, opts), near: this.near || undefined }, this.id)
    return { data: ((r.body ?? []) as Record<string, any>[]).map(toNode), index: r.index, lastContactMs: r.lastContactMs }
  }
}

export class CatalogNodeQuery implements Dependency {
  readonly kind = 'consul'
  readonly blockOnNil = false
  readonly id: string
  readonly name: string
  readonly dc: string
  readonly #q: Map<string, string>

  constructor(s: string) {
    const m = s === '' ? null : CATALOG_NODE_RE.exec(s)
    if (s !== '' && !m) throw new QueryError(`catalog.node: invalid format: ${goQuote(s)}`)
    const g = m?.groups ?? {}
    this.#q = parseQueryOpts(g.query, 'catalog.node')
    this.name = g.name ?? ''
    this.dc = g.dc ?? ''
    this.id = `catalog.node(${this.name}${scopeSuffix(this.dc, this.#q)})`
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    let name = this.name
    if (!name) {
      // No name: the local agent's node, as upstream asks /v1/agent/self.
      const self = await getJson({ ...opts, index: 0 }, '/v1/agent/self', {}, this.id)
      name = String(((self.body as Record<string, any>)?.Config ?? {}).NodeName ?? '')
    }
    const r = await getJson(opts, `/v1/catalog/node/${encodeURIComponent(name)}`, consulQuery(this.dc, this.#q, opts), this.id, true)
    const body = r.body as { Node?: Record<string, any>; Services?: Record<string, Record<string, any>> } | null
    if (!body || !body.Node) return { data: new CatalogNode(null, []), index: r.index, lastContactMs: r.lastContactMs }
    const services = Object.values(body.Services ?? {}).map(
      (v) => new CatalogNodeService(v.ID ?? '', v.Service ?? '', sortedTags(v.Tags), stringMap(v.Meta), Number(v.Port ?? 0), v.Address ?? '', Boolean(v.EnableTagOverride)),
    )
    services.sort((a, b) => (a.Service < b.Service ? -1 : a.Service > b.Service ? 1 : 0))
    return { data: new CatalogNode(toNode(body.Node), services), index: r.index, lastContactMs: r.lastContactMs }
  }
}

/** Sleeps `ms`, or until the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export class CatalogDatacentersQuery implements Dependency {
  readonly kind = 'poll'
  readonly blockOnNil = false
  readonly id = 'catalog.datacenters'
  constructor(readonly ignoreFailing = false) {}

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    // The endpoint does not block: after the first answer, ask again only every 15 s (as upstream).
    if (opts.index !== 0) await sleep(DATACENTERS_POLL_MS, opts.signal)
    const r = await getJson({ ...opts, index: 0 }, '/v1/catalog/datacenters', {}, this.id)
    let dcs = [...((r.body ?? []) as string[])]
    if (this.ignoreFailing) {
      const ok: string[] = []
      for (const dc of dcs) {
        const res = await opts.client.request('GET', '/v1/catalog/services', { query: { dc }, signal: opts.signal }).catch(() => undefined)
        if (res && res.status === 200) ok.push(dc)
      }
      dcs = ok
    }
    return { data: typed(dcs, '[]string', ''), index: Date.now(), lastContactMs: 0 }
  }
}

export class FileQuery implements Dependency {
  readonly kind = 'poll'
  readonly blockOnNil = false
  readonly id: string
  #last = ''

  constructor(readonly path: string) {
    if (path === '') throw new QueryError('file: invalid format: ""')
    this.id = `file(${path})`
  }

  async fetch(opts: FetchOptions): Promise<FetchResult> {
    // Poll size and mtime; read the file only when they change (as upstream).
    for (;;) {
      let st
      try {
        st = await stat(this.path)
      } catch (err) {
        throw new Error(`${this.id}: stat ${this.path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`)
      }
      const sig = `${st.size}:${st.mtimeMs}`
      if (opts.index === 0 || sig !== this.#last) {
        this.#last = sig
        const data = await readFile(this.path, 'utf8')
        return { data, index: Date.now(), lastContactMs: 0 }
      }
      await sleep(FILE_POLL_MS, opts.signal)
      if (opts.signal.aborted) return { data: null, index: opts.index, lastContactMs: 0 }
    }
  }
}
