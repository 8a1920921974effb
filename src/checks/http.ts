import http from 'node:http'
import https from 'node:https'
import { deadline, type Probe, type ProbeResult } from './interval.js'
import { CHECK_LIMITS } from './limits.js'
import { dialErrorText, errnoText, TailBuffer } from './output.js'

export interface HttpOptions {
  url: string
  method?: string
  header?: Record<string, string[]>
  body?: string
  tlsSkipVerify?: boolean
  tlsServerName?: string
  disableRedirects?: boolean
  timeoutMs: number
  outputMaxSize: number
  ca?: string | Buffer | Array<string | Buffer>
}

/**
 * One agent for every plain-HTTP check, without keep-alive: each run opens its own connection,
 * as Consul's checks do (a reused socket could fail on the server's idle timeout), while the
 * agent object itself is not rebuilt per request (`agent: false` would).
 */
const PLAIN_AGENT = new http.Agent({ keepAlive: false, maxSockets: Infinity })

/** Consul's User-Agent and Accept defaults for HTTP checks. */
const USER_AGENT = 'Consul Health Check'
const ACCEPT = 'text/plain, text/*, */*'

interface Response {
  status: number
  statusText: string
  location: string | undefined
  body: TailBuffer
}

/** 2xx passing, 429 (Too Many Requests) warning, anything else critical; Consul's CheckHTTP rules. */
export function statusForHttp(code: number): ProbeResult['status'] {
  if (code >= 200 && code <= 299) return 'passing'
  if (code === 429) return 'warning'
  return 'critical'
}

/** Go's url.Error prefix: `Get "http://x/": ...` (the method with only its first letter upper-case). */
function urlErrorPrefix(method: string, url: string): string {
  return `${method.slice(0, 1).toUpperCase()}${method.slice(1).toLowerCase()} "${url}"`
}

/**
 * One HTTP check run: no keep-alive (as Consul, so a server's idle timeout never fails a check), redirects
 * followed as Go's client does unless disabled, one deadline over the whole exchange. The output is
 * `HTTP <METHOD> <url>: <status line> Output: <last outputMaxSize bytes of the body>`.
 */
export function httpProbe(opts: HttpOptions): Probe {
  const method = (opts.method || 'GET').toUpperCase()
  return async (ctx) => {
    const limit = deadline(ctx, opts.timeoutMs)
    try {
      let url = opts.url
      let reqMethod = method
      let body: string | undefined = opts.body
      for (let redirects = 0; ; redirects++) {
        let res: Response
        try {
          res = await request(url, { method: reqMethod, body, opts, signal: limit.signal })
        } catch (err) {
          const why = limit.timedOut()
            ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
            : describe(err, url)
          return { status: 'critical', output: `${urlErrorPrefix(reqMethod, url)}: ${why}` }
        }
        if (!opts.disableRedirects && res.location !== undefined && [301, 302, 303, 307, 308].includes(res.status)) {
          if (redirects + 1 >= CHECK_LIMITS.httpMaxRedirects) {
            return { status: 'critical', output: `${urlErrorPrefix(reqMethod, url)}: stopped after 10 redirects` }
          }
          url = new URL(res.location, url).toString()
          // Go: 301/302/303 turn into a body-less GET (HEAD stays HEAD); 307/308 repeat the request as is.
          if (res.status <= 303) {
            if (reqMethod !== 'GET' && reqMethod !== 'HEAD') reqMethod = 'GET'
            body = undefined
          }
          continue
        }
        // Consul names the configured URL and method, whatever redirects were followed.
        const output = `HTTP ${method} ${opts.url}: ${res.status} ${res.statusText} Output: ${res.body.toString()}`
        return { status: statusForHttp(res.status), output }
      }
    } finally {
      limit.dispose()
    }
  }
}

function describe(err: unknown, url: string): string {
  const e = err as { code?: string; message: string }
  if (e.code === 'ERR_INVALID_URL') return 'invalid URL'
  if (e.code && /^(ECONN|EHOST|ENET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)/.test(e.code)) {
    let target = url
    try {
      const u = new URL(url)
      target = u.host
    } catch {
      // keep the raw URL
    }
    return dialErrorText('tcp', target, err)
  }
  if (e.code?.startsWith('E')) return errnoText(err)
  return e.message
}

function request(url: string, req: { method: string; body: string | undefined; opts: HttpOptions; signal: AbortSignal }): Promise<Response> {
  const { method, body, opts, signal } = req
  return new Promise((resolve, reject) => {
    let target: URL
    try {
      target = new URL(url)
    } catch (err) {
      reject(err)
      return
    }
    const isHttps = target.protocol === 'https:'
    if (!isHttps && target.protocol !== 'http:') {
      reject(new Error(`unsupported protocol scheme "${target.protocol.replace(/:$/, '')}"`))
      return
    }
    const headers: Record<string, string | string[]> = {}
    let hasUA = false
    let hasAccept = false
    for (const [name, values] of Object.entries(opts.header ?? {})) {
      if (values.length === 0) continue
      const lower = name.toLowerCase()
      if (lower === 'user-agent') hasUA = true
      if (lower === 'accept') hasAccept = true
      // A `Host` header sets the request's Host, as in Consul (Go sends only the first value).
      headers[name] = lower === 'host' ? values[0]! : values
    }
    if (!hasUA) headers['User-Agent'] = USER_AGENT
    if (!hasAccept) headers['Accept'] = ACCEPT
    const payload = body !== undefined && body !== '' ? Buffer.from(body, 'utf8') : undefined
    if (payload) headers['Content-Length'] = String(payload.length)

    const outgoing = isHttps
      ? https.request(target, {
          method,
          headers,
          agent: false,
          signal,
          rejectUnauthorized: !opts.tlsSkipVerify,
          ...(opts.tlsServerName ? { servername: opts.tlsServerName } : {}),
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        })
      : http.request(target, { method, headers, agent: PLAIN_AGENT, signal })

    outgoing.on('error', reject)
    outgoing.on('response', (res) => {
      const buf = new TailBuffer(opts.outputMaxSize)
      const done = (): void =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
          body: buf,
        })
      res.on('data', (chunk: Buffer) => {
        buf.write(chunk)
        if (buf.totalWritten >= CHECK_LIMITS.httpBodyReadMax) {
          res.destroy()
          done()
        }
      })
      res.on('end', done)
      // A body cut short (deadline, reset) still reports the status line and what arrived, as Consul does.
      res.on('error', done)
      res.on('aborted', done)
      res.on('close', done)
    })
    outgoing.end(payload)
  })
}
