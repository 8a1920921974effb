import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { ApiError } from '../lib/errors.js'
import { parseJson, toJson } from '../lib/json.js'

/** How to reach an agent. Every CLI face builds one from its flags and the CONSUL_* environment. */
export interface ClientOptions {
  /** `http://host:port`, `https://host:port`, or `host:port`. */
  address?: string
  token?: string
  /** Use HTTPS for a bare `host:port` address. */
  ssl?: boolean
  /** Verify the server's certificate (default true). */
  sslVerify?: boolean
  caFile?: string
  certFile?: string
  keyFile?: string
  /** Per-request timeout in ms; 0 waits forever (blocking queries bring their own wait). */
  timeoutMs?: number
  /** HTTP basic auth as `user[:password]` (consul-template's -consul-auth, CONSUL_HTTP_AUTH). */
  auth?: string
  /** `?dc=` for every request that does not name one itself, as Consul's api.Config.Datacenter. */
  datacenter?: string
}

const truthy = (v: string | undefined): boolean | undefined => (v === undefined || v === '' ? undefined : /^(1|t|true|yes)$/i.test(v))

/** Reads Consul's environment variables: CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_HTTP_SSL(_VERIFY), CONSUL_CACERT, CONSUL_CLIENT_CERT/KEY. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientOptions {
  let token = env.CONSUL_HTTP_TOKEN
  if (!token && env.CONSUL_HTTP_TOKEN_FILE) token = readFileSync(env.CONSUL_HTTP_TOKEN_FILE, 'utf8').trim()
  return {
    address: env.CONSUL_HTTP_ADDR || undefined,
    token: token || undefined,
    ssl: truthy(env.CONSUL_HTTP_SSL),
    sslVerify: truthy(env.CONSUL_HTTP_SSL_VERIFY),
    caFile: env.CONSUL_CACERT || undefined,
    certFile: env.CONSUL_CLIENT_CERT || undefined,
    keyFile: env.CONSUL_CLIENT_KEY || undefined,
  }
}

export interface ApiResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** X-Consul-Index, when present. */
  index: number | undefined
}

export interface KvPair {
  Key: string
  Flags: number | bigint
  Value: string | null
  CreateIndex: number
  ModifyIndex: number
  LockIndex: number
  Session?: string
}

/**
 * The HTTP client every CLI uses. It speaks the public API only (no agent internals), so it
 * works against our agent and against HashiCorp's alike.
 */
export class ConsulClient {
  readonly baseUrl: URL
  readonly #token: string | undefined
  readonly #agent: http.Agent
  readonly #timeoutMs: number
  readonly #authHeader: string | undefined
  readonly #datacenter: string | undefined

  constructor(opts: ClientOptions = {}) {
    let address = opts.address ?? '127.0.0.1:8500'
    if (address.startsWith('unix://')) throw new ApiError(0, 'unix socket addresses are not supported yet')
    if (!/^https?:\/\//.test(address)) address = `${opts.ssl ? 'https' : 'http'}://${address}`
    this.baseUrl = new URL(address)
    this.#token = opts.token
    this.#timeoutMs = opts.timeoutMs ?? 0
    this.#authHeader = opts.auth ? `Basic ${Buffer.from(opts.auth).toString('base64')}` : undefined
    this.#datacenter = opts.datacenter || undefined
    if (this.baseUrl.protocol === 'https:') {
      this.#agent = new https.Agent({
        keepAlive: true,
        rejectUnauthorized: opts.sslVerify !== false,
        ...(opts.caFile ? { ca: readFileSync(opts.caFile) } : {}),
        ...(opts.certFile ? { cert: readFileSync(opts.certFile) } : {}),
        ...(opts.keyFile ? { key: readFileSync(opts.keyFile) } : {}),
      })
    } else {
      this.#agent = new http.Agent({ keepAlive: true })
    }
  }

  /** Sends one request; resolves with any HTTP status, rejects with ApiError(0) when nothing answers. */
  request(
    method: string,
    path: string,
    opts: {
      query?: Record<string, string | number | boolean | undefined>
      body?: Buffer | string
      signal?: AbortSignal
      /** A streamed answer (GET /v1/agent/monitor): a 2xx body goes here as it arrives instead of being kept. */
      onData?: (chunk: Buffer) => void
    } = {},
  ): Promise<ApiResponse> {
    const url = new URL(path, this.baseUrl)
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined || v === false) continue
      url.searchParams.set(k, v === true ? '' : String(v))
    }
    if (this.#datacenter && !url.searchParams.has('dc')) url.searchParams.set('dc', this.#datacenter)
    const mod = url.protocol === 'https:' ? https : http
    const headers: Record<string, string> = {}
    if (this.#token) headers['X-Consul-Token'] = this.#token
    if (this.#authHeader) headers.Authorization = this.#authHeader
    if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body))
    return new Promise((resolve, reject) => {
      // A signal lets long blocking queries be cancelled (shutdown, lock released).
      const req = mod.request(url, { method, headers, agent: this.#agent, ...(opts.signal ? { signal: opts.signal } : {}) }, (res) => {
        const chunks: Buffer[] = []
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300
        const onData = ok ? opts.onData : undefined
        res.on('data', (c: Buffer) => (onData ? onData(c) : chunks.push(c)))
        res.on('error', (err) => reject(new ApiError(0, err.message)))
        res.on('end', () => {
          const idx = res.headers['x-consul-index']
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), index: typeof idx === 'string' ? Number(idx) : undefined })
        })
      })
      if (this.#timeoutMs > 0) req.setTimeout(this.#timeoutMs, () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)))
      req.on('error', (err) => reject(opts.signal?.aborted ? err : new ApiError(0, `Error connecting to ${this.baseUrl.origin}: ${connectionErrorText(err)}`)))
      req.end(opts.body)
    })
  }

  /** Like request, but anything other than 2xx becomes an ApiError carrying the agent's message. */
  async call(method: string, path: string, opts: Parameters<ConsulClient['request']>[2] = {}): Promise<ApiResponse> {
    const res = await this.request(method, path, opts)
    if (res.status < 200 || res.status > 299) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    return res
  }

  async json<T>(method: string, path: string, opts: Parameters<ConsulClient['request']>[2] = {}): Promise<T> {
    const res = await this.call(method, path, opts)
    return (res.body.length ? parseJson(res.body.toString('utf8')) : undefined) as T
  }

  // ---- KV ------------------------------------------------------------------------------------

  /** One pair, or undefined when the key does not exist. */
  async kvGet(key: string): Promise<KvPair | undefined> {
    const res = await this.request('GET', `/v1/kv/${encodeKey(key)}`)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    return (parseJson(res.body.toString('utf8')) as KvPair[])[0]
  }

  async kvList(prefix: string): Promise<KvPair[]> {
    const res = await this.request('GET', `/v1/kv/${encodeKey(prefix)}`, { query: { recurse: true } })
    if (res.status === 404) return []
    if (res.status !== 200) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    return parseJson(res.body.toString('utf8')) as KvPair[]
  }

  async kvKeys(prefix: string, separator?: string): Promise<string[]> {
    const res = await this.request('GET', `/v1/kv/${encodeKey(prefix)}`, { query: { keys: true, separator } })
    if (res.status === 404) return []
    if (res.status !== 200) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    return parseJson(res.body.toString('utf8')) as string[]
  }

  /** Writes a value; false when a cas/acquire/release condition did not hold. */
  async kvPut(key: string, value: Buffer | string, opts: { flags?: string | number | bigint; cas?: number; acquire?: string; release?: string } = {}): Promise<boolean> {
    return this.json<boolean>('PUT', `/v1/kv/${encodeKey(key)}`, {
      query: { flags: opts.flags === undefined ? undefined : String(opts.flags), cas: opts.cas, acquire: opts.acquire, release: opts.release },
      body: value,
    })
  }

  async kvDelete(key: string, opts: { recurse?: boolean; cas?: number } = {}): Promise<boolean> {
    return this.json<boolean>('DELETE', `/v1/kv/${encodeKey(key)}`, { query: { recurse: opts.recurse, cas: opts.cas } })
  }

  async txn(ops: unknown[]): Promise<{ status: number; body: unknown }> {
    const res = await this.request('PUT', '/v1/txn', { body: JSON.stringify(ops) })
    if (res.status !== 200 && res.status !== 409) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    return { status: res.status, body: parseJson(res.body.toString('utf8')) }
  }

  // ---- agent ---------------------------------------------------------------------------------

  agentSelf(): Promise<Record<string, Record<string, unknown>>> {
    return this.json('GET', '/v1/agent/self')
  }

  /** Triggers a config reload; returns the keys that changed but need a restart (empty from HashiCorp's agent). */
  async reload(): Promise<{ applied: string[]; restartRequired: string[] }> {
    const res = await this.json<{ Applied?: string[]; RestartRequired?: string[] } | undefined>('PUT', '/v1/agent/reload')
    return { applied: res?.Applied ?? [], restartRequired: res?.RestartRequired ?? [] }
  }

  /** The agent's node name (Consul's CLI asks for it first, which also proves the agent answers). */
  async agentNodeName(): Promise<string> {
    const self = await this.agentSelf()
    return String(self.Config?.NodeName ?? '')
  }

  agentServiceRegister(def: Record<string, unknown>): Promise<void> {
    return this.json<void>('PUT', '/v1/agent/service/register', { body: toJson(def) })
  }

  agentServiceDeregister(id: string): Promise<void> {
    return this.json<void>('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`)
  }

  agentChecks(): Promise<Record<string, AgentCheck>> {
    return this.json('GET', '/v1/agent/checks')
  }

  /** Node maintenance (`serviceId` undefined) or one service's. */
  agentMaintenance(enable: boolean, opts: { serviceId?: string; reason?: string } = {}): Promise<void> {
    const path = opts.serviceId === undefined ? '/v1/agent/maintenance' : `/v1/agent/service/maintenance/${encodeURIComponent(opts.serviceId)}`
    return this.json<void>('PUT', path, { query: { enable: String(enable), reason: opts.reason || undefined } })
  }

  // ---- catalog -------------------------------------------------------------------------------

  catalogDatacenters(): Promise<string[]> {
    return this.json('GET', '/v1/catalog/datacenters')
  }

  /** Any read endpoint with Consul's common query options; `index`/`wait` make it a blocking query. */
  async read<T>(path: string, opts: ReadOptions = {}): Promise<{ status: number; index: number | undefined; value: T | undefined }> {
    const query: Record<string, string | number | boolean | undefined> = { ...opts.query, dc: opts.dc || undefined }
    if (opts.index !== undefined && opts.index > 0) {
      query.index = opts.index
      if (opts.wait) query.wait = opts.wait
    }
    let url = path
    // node-meta and tag repeat, which a flat query record cannot express.
    const repeated = [...(opts.nodeMeta ?? []).map((m) => `node-meta=${encodeURIComponent(m)}`), ...(opts.tags ?? []).map((t) => `tag=${encodeURIComponent(t)}`)]
    if (repeated.length) url += (url.includes('?') ? '&' : '?') + repeated.join('&')
    const res = await this.request('GET', url, { query, signal: opts.signal })
    if (res.status === 404 && opts.allow404) return { status: 404, index: res.index, value: undefined }
    if (res.status < 200 || res.status > 299) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    return { status: res.status, index: res.index, value: (res.body.length ? parseJson(res.body.toString('utf8')) : undefined) as T }
  }

  async catalogNodes(opts: ReadOptions = {}): Promise<CatalogNode[]> {
    return (await this.read<CatalogNode[]>('/v1/catalog/nodes', opts)).value ?? []
  }

  async catalogService(name: string, opts: ReadOptions = {}): Promise<CatalogServiceEntry[]> {
    return (await this.read<CatalogServiceEntry[]>(`/v1/catalog/service/${encodeURIComponent(name)}`, opts)).value ?? []
  }

  async catalogServices(opts: ReadOptions = {}): Promise<Record<string, string[]>> {
    return (await this.read<Record<string, string[]>>('/v1/catalog/services', opts)).value ?? {}
  }

  /** A node with its services, or undefined for an unknown node (Consul answers null). */
  async catalogNode(node: string, opts: ReadOptions = {}): Promise<{ Node: CatalogNode; Services: Record<string, { Service: string; Tags: string[] | null }> } | undefined> {
    const res = await this.read<{ Node: CatalogNode; Services: Record<string, { Service: string; Tags: string[] | null }> } | null>(`/v1/catalog/node/${encodeURIComponent(node)}`, { ...opts, allow404: true })
    return res.value ?? undefined
  }

  // ---- sessions ------------------------------------------------------------------------------

  async sessionCreate(def: Record<string, unknown>): Promise<string> {
    const res = await this.json<{ ID: string }>('PUT', '/v1/session/create', { body: toJson(def) })
    return res.ID
  }

  /** Renews a session; false when the agent no longer knows it (404 or an empty answer). */
  async sessionRenew(id: string): Promise<boolean> {
    const res = await this.request('PUT', `/v1/session/renew/${encodeURIComponent(id)}`)
    if (res.status === 404) return false
    if (res.status !== 200) throw new ApiError(res.status, `Unexpected response code: ${res.status} (${res.body.toString('utf8').trim()})`)
    const entries = parseJson(res.body.toString('utf8')) as unknown[] | null
    return Array.isArray(entries) && entries.length > 0
  }

  async sessionDestroy(id: string): Promise<void> {
    await this.json<boolean>('PUT', `/v1/session/destroy/${encodeURIComponent(id)}`)
  }

  // ---- events --------------------------------------------------------------------------------

  eventFire(name: string, payload: Buffer | string | undefined, filters: { node?: string; service?: string; tag?: string; dc?: string } = {}): Promise<UserEvent> {
    return this.json<UserEvent>('PUT', `/v1/event/fire/${encodeURIComponent(name)}`, {
      query: { node: filters.node || undefined, service: filters.service || undefined, tag: filters.tag || undefined, dc: filters.dc || undefined },
      body: payload ?? '',
    })
  }

  close(): void {
    this.#agent.destroy()
  }
}

/** Query options shared by the read endpoints. */
export interface ReadOptions {
  query?: Record<string, string | number | boolean | undefined>
  dc?: string
  /** Blocking query: wait for a change past this index. */
  index?: number
  /** Blocking query: how long at most, as a Go duration (`5m`). */
  wait?: string
  nodeMeta?: string[]
  tags?: string[]
  /** Treat 404 as "no value" instead of an error. */
  allow404?: boolean
  /** Cancels the request (it then rejects with the abort error). */
  signal?: AbortSignal
}

export interface CatalogNode {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string> | null
  Meta: Record<string, string> | null
}

export interface CatalogServiceEntry {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string> | null
  NodeMeta: Record<string, string> | null
  ServiceID: string
  ServiceName: string
  ServiceTags: string[] | null
}

export interface AgentCheck {
  Node: string
  CheckID: string
  Name: string
  Status: string
  Notes: string
  ServiceID: string
  ServiceName: string
}

export interface UserEvent {
  ID: string
  Name: string
  Payload: string | null
  NodeFilter: string
  ServiceFilter: string
  TagFilter: string
  Version: number
  LTime: number
}

/** OpenSSL's words for a TLS handshake answered by something that does not speak TLS (an HTTP port, typically). */
const NOT_TLS = /wrong version number|packet length too long|http request|record layer failure/i

/** One readable line for a failed connection; OpenSSL's "wrong version number" means the port is not a TLS port. */
function connectionErrorText(err: NodeJS.ErrnoException): string {
  if ((err.code === 'EPROTO' || err.code?.startsWith('ERR_SSL_')) && NOT_TLS.test(`${err.code} ${err.message}`.replaceAll('_', ' '))) return 'the server did not answer the TLS handshake; is this a plain HTTP port? (Consul serves HTTPS on 8501 by default)'
  return err.message.split('\n')[0]!
}

/** Percent-encodes each path segment of a key, keeping the slashes. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}
