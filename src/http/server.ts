import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { ApiContext } from './context.js'
import { ApiRequest } from './request.js'
import { Reply } from './reply.js'
import { Router } from './router.js'
import { HttpError } from '../lib/errors.js'
import { toJson } from '../lib/json.js'
import { registerKvRoutes } from './kv.js'
import { registerTxnRoutes } from './txn.js'
import { registerStatusRoutes } from './status.js'
import { registerAgentRoutes } from './agent.js'
import { registerCatalogRoutes } from './catalog.js'
import { registerHealthRoutes } from './health.js'
import { registerSessionRoutes } from './session.js'
import { registerEventRoutes } from './event.js'
import { registerQueryRoutes } from './query.js'
import { registerOperatorRoutes } from './operator.js'

/** Builds the route table of the HTTP API; one register function per /v1/<area>. */
export function buildRouter(ctx: ApiContext): Router {
  const router = new Router()
  registerKvRoutes(router, ctx)
  registerTxnRoutes(router, ctx)
  registerStatusRoutes(router, ctx)
  registerAgentRoutes(router, ctx)
  registerCatalogRoutes(router, ctx)
  registerHealthRoutes(router, ctx)
  registerSessionRoutes(router, ctx)
  registerEventRoutes(router, ctx)
  registerQueryRoutes(router, ctx)
  registerOperatorRoutes(router, ctx)
  return router
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void

/**
 * Returns the request listener: route, run the handler, and write its value as JSON (or its
 * Reply as is), with X-Consul-* headers on every read. Errors become text/plain answers with
 * Consul's status codes; nothing a client sends can crash the process.
 */
export function createApiHandler(ctx: ApiContext, log: Log): http.RequestListener {
  const router = buildRouter(ctx)
  return (raw, res) => {
    let req: ApiRequest | undefined
    const run = async (): Promise<unknown> => {
      req = new ApiRequest(raw)
      return router.resolve(req.method, req.path)(req)
    }
    run().then(
      (value) => writeValue(res, req!, value, ctx.prettyByDefault),
      (err: unknown) => writeError(res, req, err, log),
    )
  }
}

function baseHeaders(req: ApiRequest | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'X-Consul-Default-Acl-Policy': 'allow' }
  const meta = req?.meta
  if (meta) {
    headers['X-Consul-Index'] = String(meta.index)
    headers['X-Consul-Knownleader'] = String(meta.knownLeader)
    headers['X-Consul-Lastcontact'] = String(meta.lastContactMs)
    headers['X-Consul-Effective-Consistency'] = meta.consistency
  }
  return headers
}

function writeValue(res: http.ServerResponse, req: ApiRequest, value: unknown, prettyByDefault: boolean): void {
  req.dispose()
  if (res.destroyed) return
  const headers = baseHeaders(req)
  if (value instanceof Reply) {
    Object.assign(headers, value.headers)
    if (value.body !== undefined) headers['Content-Type'] = value.contentType
    send(res, value.status, headers, value.body)
    return
  }
  headers['Content-Type'] = 'application/json'
  send(res, 200, headers, value === undefined ? undefined : toJson(value, prettyByDefault || req.has('pretty')))
}

/** Writes a whole response with its Content-Length (no chunked encoding for small JSON answers). */
function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string | undefined): void {
  headers['Content-Length'] = String(body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length)
  res.writeHead(status, headers)
  res.end(body)
}

function writeError(res: http.ServerResponse, req: ApiRequest | undefined, err: unknown, log: Log): void {
  req?.dispose()
  if (res.destroyed || res.headersSent) {
    if (!res.destroyed) res.destroy()
    return
  }
  const headers = baseHeaders(req)
  let status = 500
  let message: string
  if (err instanceof HttpError) {
    status = err.status
    message = err.message
    Object.assign(headers, err.headers)
  } else {
    message = err instanceof Error ? err.message : String(err)
    log('error', `http: ${req?.method ?? '?'} ${req?.path ?? '?'}: ${message}`)
  }
  headers['Content-Type'] = 'text/plain; charset=utf-8'
  send(res, status, headers, message)
}

export interface ListenOptions {
  host: string
  port: number
  tls?: https.ServerOptions
}

/**
 * Starts an HTTP or HTTPS listener. Node's request and socket timeouts are turned off: a
 * blocking query may legitimately stay open for 10 minutes and a bit.
 */
export async function listen(handler: http.RequestListener, opts: ListenOptions): Promise<http.Server> {
  const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler)
  server.requestTimeout = 0
  server.timeout = 0
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // A deep backlog: thousands of watchers may reconnect at once after a restart.
    server.listen({ port: opts.port, host: opts.host, backlog: 4096 }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port
}
