import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { ApiError } from '../lib/errors.js'
import { parseJson } from '../lib/json.js'

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

  constructor(opts: ClientOptions = {}) {
    let address = opts.address ?? '127.0.0.1:8500'
    if (address.startsWith('unix://')) throw new ApiError(0, 'unix socket addresses are not supported yet')
    if (!/^https?:\/\//.test(address)) address = `${opts.ssl ? 'https' : 'http'}://${address}`
    this.baseUrl = new URL(address)
    this.#token = opts.token
    this.#timeoutMs = opts.timeoutMs ?? 0
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
  request(method: string, path: string, opts: { query?: Record<string, string | number | boolean | undefined>; body?: Buffer | string } = {}): Promise<ApiResponse> {
    const url = new URL(path, this.baseUrl)
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined || v === false) continue
      url.searchParams.set(k, v === true ? '' : String(v))
    }
    const mod = url.protocol === 'https:' ? https : http
    const headers: Record<string, string> = {}
    if (this.#token) headers['X-Consul-Token'] = this.#token
    if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body))
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', (err) => reject(new ApiError(0, err.message)))
        res.on('end', () => {
          const idx = res.headers['x-consul-index']
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), index: typeof idx === 'string' ? Number(idx) : undefined })
        })
      })
      if (this.#timeoutMs > 0) req.setTimeout(this.#timeoutMs, () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)))
      req.on('error', (err) => reject(new ApiError(0, `Error connecting to ${this.baseUrl.origin}: ${err.message}`)))
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

  close(): void {
    this.#agent.destroy()
  }
}

/** Percent-encodes each path segment of a key, keeping the slashes. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}
