import { routeRule, ruleName, type RouteRule } from './route-acl.js'
import { denied } from '../acl/errors.js'
import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { ApiContext } from './context.js'
import type { Metrics } from '../lib/metrics.js'
import { ApiRequest } from './request.js'
import { Reply, StreamReply } from './reply.js'
import { Router } from './router.js'
import { HttpError, noLeader, noPathToDatacenter, notFound } from '../lib/errors.js'
import { NoPathToDatacenterError, NotFoundError, NotLeaderError, RateLimitedError } from '../server/errors.js'
import { toJson } from '../lib/json.js'
import { registerKvRoutes } from './kv.js'
import { registerTxnRoutes } from './txn.js'
import { registerStatusRoutes } from './status.js'
import { registerAgentRoutes } from './agent.js'
import { registerCatalogRoutes } from './catalog.js'
import { registerHealthRoutes } from './health.js'
import { registerCoordinateRoutes } from './coordinate.js'
import { registerSessionRoutes } from './session.js'
import { registerEventRoutes } from './event.js'
import { registerQueryRoutes } from './query.js'
import { registerOperatorRoutes } from './operator.js'
import { registerSnapshotRoutes } from './snapshot.js'
import { registerAclRoutes } from './acl.js'
import { registerMetricsRoutes } from './metrics.js'
import { registerDebugRoutes } from './debug.js'
import { registerUiInternalRoutes } from './ui-internal.js'
import { AclDisabledError, AclNotFoundError, PermissionDeniedError } from '../acl/errors.js'
import { SharedWaits, type Answer, type Serve } from './shared-waits.js'

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
  registerAclRoutes(router, ctx)
  registerSnapshotRoutes(router, ctx)
  registerCoordinateRoutes(router, ctx)
  registerMetricsRoutes(router, ctx)
  registerDebugRoutes(router, ctx)
  registerUiInternalRoutes(router, ctx)
  return router
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void

/**
 * Returns the request listener: route, run the handler, and write its value as JSON (or its
 * Reply as is), with X-Consul-* headers on every read. Errors become text/plain answers with
 * Consul's status codes; nothing a client sends can crash the process. Identical blocking GETs
 * wait together and share one answer (shared-waits.ts).
 */
export function createApiHandler(ctx: ApiContext, log: Log): http.RequestListener {
  const router = buildRouter(ctx)
  const waits = new SharedWaits({
    limits: () => ctx.limits,
    write: writeAnswer,
    serve: () => serve,
    counters: ctx.blocking,
    clock: ctx.server.clock,
    deadline: (waitMs) => ctx.server.queryDeadline(waitMs),
  })
  const policy = (): string => (ctx.acl.enabled ? ctx.acl.defaultPolicy : 'allow')
  const timing = httpTimers(ctx.metrics)
  const serve: Serve = (req, res, key) => {
    const start = ctx.metrics.clock.now()
    let timer: { since(start: number): void } | undefined
    const run = async (): Promise<unknown> => {
      const { route, handler } = router.match(req.method, req.path)
      timer = timing(req.method, route)
      // Only the agent's own routes wait for an identity; the others go on in this turn, as with ACLs off.
      const pending = ctx.acl.enabled ? authorizeRoute(req, route, ctx) : undefined
      if (pending) await pending
      return handler(req)
    }
    run()
      .then(
        (value) => (value instanceof StreamReply ? stream(req, res, value, policy()) : valueAnswer(req, value, ctx.prettyByDefault, policy())),
        (err: unknown) => errorAnswer(req, err, log, policy()),
      )
      .then((answer) => {
        req.dispose()
        if (!answer.streamed) writeAnswer(res, answer)
        timer?.since(start)
        // Consul's request line, built only when a debug reader exists (the console or a monitor).
        if (ctx.debugLogged()) log('debug', `agent.http: Request finished: method=${req.method} url=${req.url} from=${req.from} latency=${(ctx.metrics.clock.now() - start).toFixed(3)}ms`)
        if (key !== undefined) waits.leaderDone(key, req, answer)
      })
  }
  return (raw, res) => {
    let req: ApiRequest
    try {
      req = new ApiRequest(raw, ctx.acl.enabled ? ctx.acl.defaultToken() : '')
    } catch (err) {
      writeAnswer(res, errorAnswer(undefined, err, log, policy()))
      return
    }
    const key = waits.keyOf(req)
    const role = key === undefined ? 'alone' : waits.join(key, req, res)
    if (role !== 'follower') serve(req, res, role === 'leader' ? key : undefined)
  }
}

/**
 * Consul's `api.http` timing per method and route: the route's registered path with dots, an
 * underscore where a prefix route takes the rest (`v1.kv._`), so key names never become labels.
 */
function httpTimers(metrics: Metrics): (method: string, route: string) => { since(start: number): void } {
  const timers = new Map<string, { since(start: number): void }>()
  return (method, route) => {
    const key = `${method} ${route}`
    let t = timers.get(key)
    if (!t) {
      const path = route.endsWith('/') ? `${route.slice(1, -1).replace(/\//g, '.')}._` : route.slice(1).replace(/\//g, '.')
      timers.set(key, (t = metrics.timer('api.http', { method, path })))
    }
    return t
  }
}

/**
 * The caller's identity for the agent's own routes, and their rule checked (route-acl.ts); the
 * endpoint layer decides the others. A route without a rule is refused rather than left open.
 */
function authorizeRoute(req: ApiRequest, route: string, ctx: ApiContext): Promise<void> | undefined {
  const rule = routeRule(route, req.method)
  if (!rule) throw new HttpError(403, `Permission denied: no ACL rule for ${req.method} ${route}`)
  if (rule.by === 'endpoint' || rule.by === 'none') return undefined
  return identifyFor(req, route, rule, ctx)
}

async function identifyFor(req: ApiRequest, route: string, rule: RouteRule, ctx: ApiContext): Promise<void> {
  const who = await ctx.acl.identity(req.token)
  req.identity = who
  if (rule.by === 'agent') {
    const name = ruleName(rule, req, route, ctx.nodeName)
    if (!who.authorizer.allowed(rule.resource, name, rule.need)) throw denied(who, rule.resource, name, rule.need)
  }
}

function baseHeaders(req: ApiRequest | undefined, policy: string): Record<string, string> {
  const headers: Record<string, string> = { 'X-Consul-Default-Acl-Policy': policy }
  const meta = req?.meta
  if (meta) {
    headers['X-Consul-Index'] = String(meta.index)
    headers['X-Consul-Knownleader'] = String(meta.knownLeader)
    headers['X-Consul-Lastcontact'] = String(meta.lastContactMs)
    headers['X-Consul-Effective-Consistency'] = meta.consistency
    if (meta.filteredByAcls) headers['X-Consul-Results-Filtered-By-Acls'] = 'true'
  }
  return headers
}

/**
 * Starts a streamed answer: headers now, then the body until the client goes; the cleanup runs
 * once, whichever side ends it. A slow reader is the stream's own business (it drops, never blocks).
 */
function stream(req: ApiRequest, res: http.ServerResponse, s: StreamReply, policy: string): Answer {
  const headers = baseHeaders(req, policy)
  headers['Content-Type'] = s.contentType
  headers['Cache-Control'] = 'no-cache'
  const list: string[] = []
  for (const [name, value] of Object.entries(headers)) list.push(name, value)
  // The body went out as a stream; the answer keeps the headers for the shared waits.
  const streamed: Answer = { status: 200, headers: list, body: undefined, streamed: true }
  if (res.destroyed) return streamed
  res.writeHead(200, list)
  res.flushHeaders()
  const stop = s.start(res)
  let stopped = false
  const done = (): void => {
    if (stopped) return
    stopped = true
    stop()
  }
  res.once('close', done)
  res.once('error', done)
  return streamed
}

function valueAnswer(req: ApiRequest, value: unknown, prettyByDefault: boolean, policy: string): Answer {
  const headers = baseHeaders(req, policy)
  if (value instanceof Reply) {
    Object.assign(headers, value.headers)
    if (value.body !== undefined) headers['Content-Type'] = value.contentType
    return answer(value.status, headers, value.body)
  }
  headers['Content-Type'] = 'application/json'
  return answer(200, headers, value === undefined ? undefined : toJson(value, prettyByDefault || req.has('pretty')))
}

/**
 * A whole response with its Content-Length (no chunked encoding for small JSON answers). Text
 * stays a string: node:http then writes status line, headers and body as one chunk, where a
 * Buffer body costs a second one (a writev): measured on a 10,000-watcher wake, 16% less CPU.
 */
function answer(status: number, headers: Record<string, string>, body: Buffer | string | undefined): Answer {
  headers['Content-Length'] = String(body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length)
  // writeHead's flat [name, value, ...] form: no per-write walk of an object (3% of a 10,000-watcher wake).
  const list: string[] = []
  for (const [name, value] of Object.entries(headers)) list.push(name, value)
  return { status, headers: list, body }
}

function writeAnswer(res: http.ServerResponse, a: Answer): void {
  if (res.destroyed) return
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(a.status, a.headers)
  res.end(a.body)
}

function errorAnswer(req: ApiRequest | undefined, err: unknown, log: Log, policy: string): Answer {
  const headers = baseHeaders(req, policy)
  let status = 500
  let message: string
  if (!(err instanceof HttpError)) err = serverErrorAsHttp(err)
  if (err instanceof HttpError) {
    status = err.status
    message = err.message
    Object.assign(headers, err.headers)
  } else {
    message = err instanceof Error ? err.message : String(err)
    log('error', `http: ${req?.method ?? '?'} ${req?.path ?? '?'}: ${message}`)
  }
  headers['Content-Type'] = 'text/plain; charset=utf-8'
  return answer(status, headers, message)
}

/**
 * The endpoint layer's errors as Consul's HTTP API answers them: the one place they meet HTTP.
 * (Rejected writes differ per endpoint; their handlers map them.) Anything else, LeadershipLost and
 * Shutdown included, stays a logged 500 with its message.
 */
function serverErrorAsHttp(err: unknown): unknown {
  if (err instanceof NotLeaderError) return noLeader()
  if (err instanceof NoPathToDatacenterError) return noPathToDatacenter()
  if (err instanceof NotFoundError) return notFound(err.message)
  if (err instanceof RateLimitedError) return new HttpError(429, err.message, { 'Retry-After': String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))) })
  if (err instanceof AclDisabledError) return new HttpError(401, err.message)
  if (err instanceof AclNotFoundError || err instanceof PermissionDeniedError) return new HttpError(403, err.message)
  return err
}

export interface ListenOptions {
  host: string
  port: number
  tls?: https.ServerOptions
  /** limits.http_max_conns_per_client, read per connection (reloadable); 0: no limit. */
  maxConnsPerClient?: () => number
}

/** Consul's answer to a client IP over limits.http_max_conns_per_client. */
const TOO_MANY_CONNS = 'Your IP is issuing too many concurrent connections, please rate limit your calls\n'

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
  if (opts.maxConnsPerClient) limitConnsPerClient(server, opts.maxConnsPerClient, Boolean(opts.tls))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // A deep backlog: thousands of watchers may reconnect at once after a restart.
    server.listen({ port: opts.port, host: opts.host, backlog: listenBacklog() }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

/**
 * One client IP may hold at most `max()` connections at once (Consul's connlimit): the one over it
 * gets a 429 and is closed (over HTTPS, closed before the handshake: no HTTP can be spoken yet).
 */
function limitConnsPerClient(server: http.Server, max: () => number, tls: boolean): void {
  const open = new Map<string, number>()
  server.on('connection', (socket: import('node:net').Socket) => {
    const ip = socket.remoteAddress ?? ''
    const limit = max()
    const n = (open.get(ip) ?? 0) + 1
    if (limit > 0 && n > limit) {
      if (tls) socket.destroy()
      else socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(TOO_MANY_CONNS)}\r\nConnection: close\r\n\r\n${TOO_MANY_CONNS}`)
      return
    }
    open.set(ip, n)
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1
      if (left <= 0) open.delete(ip)
      else open.set(ip, left)
    })
  })
}

/**
 * The kernel's accept-queue limit, as Go's net package uses it (so etcd and Consul get the whole
 * queue): listen() silently caps a larger backlog at net.core.somaxconn. At least 4096.
 */
function listenBacklog(): number {
  try {
    const value = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim())
    return Number.isSafeInteger(value) && value > 4096 && value < 2 ** 31 ? value : 4096
  } catch {
    return 4096
  }
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port
}
