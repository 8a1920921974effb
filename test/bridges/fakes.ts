/**
 * Fake Mesos masters and Marathons for the bridges' tests and bench, speaking the shapes of
 * ../shared/fixtures/marathon-mesos (the fixtures are read in place and rewritten for loopback
 * hosts). Real HTTP servers on loopback; each can be told to fail (500), hang, or answer garbage.
 */
import http from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/agent.js'

export const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'marathon-mesos')
export const fixture = (rel: string): any => JSON.parse(readFileSync(join(FIXTURES, rel), 'utf8'))

export type Mode = 'ok' | 'error' | 'hang' | 'garbage'

abstract class FakeServer {
  readonly server: http.Server
  mode: Mode = 'ok'
  readonly hung = new Set<http.ServerResponse>()
  requests = 0

  constructor(readonly host: string) {
    this.server = http.createServer((req, res) => {
      this.requests++
      if (this.mode === 'hang' && !(req.url ?? '').startsWith('/v2/events')) {
        this.hung.add(res)
        return
      }
      if (this.mode === 'error') {
        res.writeHead(500).end('internal error')
        return
      }
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.route(req, res, Buffer.concat(chunks)))
    })
  }

  protected abstract route(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void

  protected json(res: http.ServerResponse, status: number, body: unknown): void {
    if (this.mode === 'garbage') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"slaves": [ {"id": tru')
      return
    }
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
  }

  get port(): number {
    return (this.server.address() as { port: number }).port
  }

  get address(): string {
    return `${this.host}:${this.port}`
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, this.host, () => resolve()))
    return this
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** A Mesos master: `state` is served at /master/state (and state.json); `leader` goes into it. */
export class FakeMesosMaster extends FakeServer {
  state: any = { slaves: [], frameworks: [] }
  leaderPid = ''
  /** Answer /master/state with 404, as Mesos before 0.25 did (state.json only). */
  legacyOnly = false

  protected route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0]
    if (path === '/master/state' && this.legacyOnly) return void res.writeHead(404).end()
    if (path === '/master/state' || path === '/master/state.json') {
      const pid = `master@${this.address}`
      // A master that does not lead knows no agents or tasks (and older Mesos does not redirect).
      const view = this.leaderPid && this.leaderPid !== pid ? { slaves: [], frameworks: [] } : this.state
      return this.json(res, 200, { ...view, leader: this.leaderPid, pid })
    }
    if (path === '/master/health') return void res.writeHead(200).end()
    res.writeHead(404).end()
  }
}

/** A task in Mesos' state shape, on a slave, with host ports. */
export function mesosTask(id: string, name: string, slaveId: string, ports: number[], extra: Record<string, unknown> = {}): any {
  return {
    id,
    name,
    slave_id: slaveId,
    framework_id: 'fw-marathon',
    state: 'TASK_RUNNING',
    resources: { cpus: 0.1, mem: 32, ports: `[${ports.map((p) => `${p}-${p}`).join(', ')}]` },
    statuses: [{ state: 'TASK_RUNNING', timestamp: 1 }],
    ...extra,
  }
}

/** A Marathon: apps (with embedded tasks) served from `apps`, events pushed to every /v2/events stream. */
export class FakeMarathon extends FakeServer {
  apps = new Map<string, any>()
  leader = ''
  readonly streams = new Set<http.ServerResponse>()
  streamsOpened = 0
  readonly subscriptions: string[] = []
  /** GET /v2/apps/<id> per app. */
  readonly appReads = new Map<string, number>()

  protected route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname
    if (path === '/v2/events') {
      this.streamsOpened++
      res.writeHead(200, { 'Content-Type': 'text/event-stream' })
      res.write(`event: event_stream_attached\ndata: ${JSON.stringify({ remoteAddress: '127.0.0.1', eventType: 'event_stream_attached', timestamp: new Date().toISOString() })}\n\n`)
      this.streams.add(res)
      res.on('close', () => this.streams.delete(res))
      return
    }
    if (path === '/v2/leader') return this.json(res, 200, { leader: this.leader || this.address })
    if (path === '/v2/info') return this.json(res, 200, { ...fixture('marathon-api-examples/v2-info.GET.json'), leader: this.leader || this.address })
    if (path === '/v2/eventSubscriptions') {
      if (req.method === 'POST') {
        const cb = url.searchParams.get('callbackUrl') ?? ''
        if (!this.subscriptions.includes(cb)) this.subscriptions.push(cb)
        return this.json(res, 200, { callbackUrl: cb, clientIp: '127.0.0.1', eventType: 'subscribe_event' })
      }
      return this.json(res, 200, { callbackUrls: this.subscriptions })
    }
    if (path === '/v2/apps') {
      const label = url.searchParams.get('label')
      const apps = [...this.apps.values()].filter((a) => !label || (a.labels && label in a.labels))
      return this.json(res, 200, { apps })
    }
    if (path.startsWith('/v2/apps/')) {
      const id = `/${decodeURIComponent(path.slice('/v2/apps/'.length)).replace(/\/tasks$/, '')}`
      this.appReads.set(id, (this.appReads.get(id) ?? 0) + 1)
      const app = this.apps.get(id)
      if (!app) return this.json(res, 404, { message: `App '${id}' does not exist` })
      return this.json(res, 200, { app })
    }
    if (path === '/v2/tasks') return this.json(res, 200, { tasks: [...this.apps.values()].flatMap((a) => a.tasks ?? []) })
    res.writeHead(404).end()
  }

  /** Pushes one event to every open stream (`raw` sends the data line as given). */
  emit(event: Record<string, unknown> | { raw: string; type: string }): void {
    const type = 'raw' in event ? event.type : String(event.eventType)
    const data = 'raw' in event ? event.raw : JSON.stringify({ timestamp: new Date().toISOString(), ...event })
    for (const s of this.streams) s.write(`event: ${type}\ndata: ${data}\n\n`)
  }

  /** Ends every stream, as a Marathon that lost leadership does. */
  dropStreams(): void {
    for (const s of this.streams) s.end()
    this.streams.clear()
  }

  override async close(): Promise<void> {
    this.dropStreams()
    await super.close()
  }
}

/** A Marathon task of an app, in /v2/apps?embed=apps.tasks' shape. */
export function marathonTask(appId: string, n: number, host: string, ports: number[], healthy?: boolean): any {
  const id = `${appId.replace(/^\//, '').replace(/\//g, '_')}.${n.toString(16).padStart(8, '0')}-0000-11e5-a06e-56847afe9799`
  return {
    id,
    appId,
    host,
    ports,
    state: 'TASK_RUNNING',
    startedAt: '2015-12-01T10:03:40.966Z',
    stagedAt: '2015-12-01T10:03:40.890Z',
    version: '2015-12-01T10:03:32.003Z',
    slaveId: `slave-${host}`,
    ...(healthy === undefined ? {} : { healthCheckResults: [{ alive: healthy, consecutiveFailures: healthy ? 0 : 3, taskId: id }] }),
  }
}
