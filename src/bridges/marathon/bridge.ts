/**
 * marathon-consul's runtime: Marathon's events in (the `/v2/events` stream, or callbacks posted to
 * `/events`), registrations on the task hosts' agents out, and a full sync against `/v2/apps` at
 * start, after every reconnect (events may have been missed) and every `--sync-interval`, so
 * nothing drifts. Events for one app are handled in order; a burst for one app (a deploy) collapses
 * into one re-read of the app. Events that arrive during a full sync wait for it, so a kill seen
 * mid-sync is never undone by the sync's older view.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { createParser } from 'eventsource-parser'
import type { Logger } from '../../lib/line-log.js'
import type { Metrics } from '../../lib/metrics.js'
import type { ConsulClient } from '../../client/client.js'
import { eachLimited } from '../../lib/pool.js'
import type { BridgeService, Registrar } from '../registrar.js'
import { appRegistrations, registrable, taskInfo, taskRegistrations, type AppInfo, type MarathonOptions, type TaskRegistrations } from './apps.js'
import { KvMirror } from './kv.js'

export interface MarathonBridgeOptions extends MarathonOptions {
  /** Marathon instances, `http[s]://host:port` each; the leader is asked for and followed. */
  marathons: string[]
  auth?: string
  timeoutMs: number
  syncIntervalMs: number
  events: 'sse' | 'callback'
  registrar: Registrar
  /** Where the KV tree goes (`--kv`), through the bridge's local agent. */
  kv?: { client: ConsulClient; prefix: string }
  log: Logger
  metrics: Metrics
}

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
interface AppJob {
  task: string | undefined
  run: () => Promise<void>
  done: () => void
}

interface AppQueue {
  jobs: AppJob[]
  running?: boolean
  rereadQueued: boolean
  drained: Promise<void>
}

const ENDED = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_KILLING', 'TASK_LOST', 'TASK_ERROR', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_UNKNOWN'])

export class MarathonBridge {
  readonly #o: MarathonBridgeOptions
  /** App ID -> its plan, as last read. */
  readonly #apps = new Map<string, AppInfo>()
  /** Apps not labelled for Consul, by the version read: their tasks' events need no re-read until the app changes. */
  readonly #unlabelled = new Map<string, string>()
  /** Task ID -> where its registrations are. */
  readonly #tasks = new Map<string, { appId: string; agent: string; ids: string[] }>()
  /** Per app: the work its events queued, in order, and whether a re-read is already waiting. */
  readonly #queues = new Map<string, AppQueue>()
  #syncing: Promise<void> | undefined
  #queuedSync: Promise<void> | undefined
  /** Per-app batches running now (a full sync waits for them). */
  readonly #batches = new Set<Promise<void>>()
  #leader: string | undefined
  #stream: AbortController | undefined
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  readonly #resolved = new Map<string, string>()
  readonly #kv: KvMirror | undefined
  #callbackUrl: string | undefined

  constructor(o: MarathonBridgeOptions) {
    this.#o = { ...o, addressOf: (h) => this.#resolved.get(h) ?? h }
    this.#kv = o.kv ? new KvMirror(o.kv.client, o.kv.prefix, o.log) : undefined
  }

  #warn = (msg: string): void => this.#o.log.warnOnce('marathon', msg)

  async #marathon(path: string, base?: string): Promise<{ status: number; body: unknown; from: string }> {
    const bases = base ? [base] : [...new Set([...(this.#leader ? [this.#leader] : []), ...this.#o.marathons])]
    const errors: string[] = []
    for (const b of bases) {
      try {
        const res = await fetch(`${b}${path}`, { headers: this.#headers(), signal: AbortSignal.timeout(this.#o.timeoutMs) })
        const text = await res.text()
        if (res.status >= 500) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200).trim()}`)
        let body: unknown
        try {
          body = text ? JSON.parse(text) : undefined
        } catch (err) {
          throw new Error(`${path} answered with malformed JSON (${(err as Error).message})`)
        }
        return { status: res.status, body, from: b }
      } catch (err) {
        errors.push(`${b}: ${(err as Error).message}`)
      }
    }
    throw new Error(`no Marathon answered ${path} (${errors.join('; ')})`)
  }

  #headers(): Record<string, string> {
    return this.#o.auth ? { Authorization: `Basic ${Buffer.from(this.#o.auth).toString('base64')}` } : {}
  }

  /** Resolves task host names once each, so services carry addresses DNS can answer with. */
  async #resolve(hosts: Iterable<string>): Promise<void> {
    await Promise.all([...hosts].filter((h) => !isIP(h) && !this.#resolved.has(h)).map(async (h) => {
      try {
        this.#resolved.set(h, (await lookup(h, { family: 4 })).address)
      } catch {
        this.#warn(`task host ${h} does not resolve; registering it by name`)
      }
    }))
  }

  /**
   * Reads every app and makes all agents hold exactly their registrations. Asked for while one
   * runs, one more runs after it: the running one may have read Marathon before the change that
   * asked.
   */
  fullSync(): Promise<void> {
    if (this.#syncing) {
      this.#queuedSync ??= this.#syncing.then(() => {
        this.#queuedSync = undefined
        return this.fullSync()
      })
      return this.#queuedSync
    }
    this.#syncing = this.#syncOnce().finally(() => {
      this.#syncing = undefined
    })
    return this.#syncing
  }

  async #syncOnce(): Promise<void> {
    // Per-app work already under way finishes first, so the sync's read of Marathon is the later one.
    await Promise.all([...this.#batches])
    const t0 = performance.now()
    try {
      await this.#findLeader()
      const res = await this.#marathon('/v2/apps?embed=apps.tasks&label=consul')
      if (res.status !== 200 || !isObj(res.body) || !Array.isArray(res.body.apps)) throw new Error(`/v2/apps answered HTTP ${res.status} without an apps list`)
      const hosts = new Set<string>()
      for (const a of res.body.apps) for (const t of isObj(a) && Array.isArray(a.tasks) ? a.tasks : []) if (isObj(t) && typeof t.host === 'string') hosts.add(t.host)
      await this.#resolve(hosts)
      const desired = new Map<string, BridgeService[]>()
      const apps = new Map<string, AppInfo>()
      const tasks = new Map<string, { appId: string; agent: string; ids: string[] }>()
      const byApp = new Map<string, { app: unknown; info: AppInfo; tasks: TaskRegistrations[] }>()
      const unlabelled = new Map<string, string>()
      for (const a of res.body.apps) {
        let r: ReturnType<typeof appRegistrations>
        try {
          r = appRegistrations(a, this.#o, this.#warn)
        } catch (err) {
          this.#warn((err as Error).message)
          continue
        }
        if (!r.info) {
          if (isObj(a) && typeof a.id === 'string') unlabelled.set(a.id.startsWith('/') ? a.id : `/${a.id}`, String(a.version ?? ''))
          continue
        }
        apps.set(r.info.id, r.info)
        byApp.set(r.info.id, { app: a, info: r.info, tasks: r.tasks })
        for (const t of r.tasks) {
          if (!t.services.length) continue
          tasks.set(t.taskId, { appId: t.appId, agent: t.agent, ids: t.services.map((s) => s.ID) })
          const list = desired.get(t.agent)
          if (list) list.push(...t.services)
          else desired.set(t.agent, [...t.services])
        }
      }
      const report = await this.#o.registrar.sync(desired)
      this.#apps.clear()
      for (const [k, v] of apps) this.#apps.set(k, v)
      this.#tasks.clear()
      for (const [k, v] of tasks) this.#tasks.set(k, v)
      // The label filter usually keeps unlabelled apps out of this list; those it has are remembered.
      for (const [k, v] of unlabelled) this.#unlabelled.set(k, v)
      for (const k of apps.keys()) this.#unlabelled.delete(k)
      await this.#kv?.syncAll(byApp)
      this.#o.metrics.incr('sync.full')
      this.#o.metrics.incr('registered', report.registered)
      this.#o.metrics.incr('deregistered', report.deregistered)
      this.#o.metrics.setGauge('registrations', [...desired.values()].reduce((n, l) => n + l.length, 0))
      this.#o.metrics.addSample('sync.duration', performance.now() - t0)
      this.#o.log.info('marathon', `full sync: ${apps.size} apps, ${tasks.size} tasks registered; +${report.registered} -${report.deregistered}${report.unreachable.length ? `, ${report.unreachable.length} agents unreachable` : ''}`)
    } catch (err) {
      this.#o.metrics.incr('sync.failed')
      this.#o.log.err('marathon', `full sync skipped, registrations left as they are: ${(err as Error).message}`)
    }
  }

  /** Asks Marathon who leads; the stream follows the answer. */
  async #findLeader(): Promise<void> {
    try {
      const res = await this.#marathon('/v2/leader')
      const leader = isObj(res.body) && typeof res.body.leader === 'string' ? res.body.leader : undefined
      if (!leader) return
      const scheme = res.from.startsWith('https:') ? 'https' : 'http'
      // The leader as we were told to reach it when it is one of ours, else as Marathon names it.
      const known = this.#o.marathons.find((m) => m.replace(/^https?:\/\//, '') === leader)
      const next = known ?? `${scheme}://${leader}`
      if (this.#leader && this.#leader !== next) {
        this.#o.log.info('marathon', `Marathon leader is now ${leader}`)
        this.#stream?.abort()
      }
      this.#leader = next
    } catch (err) {
      this.#o.log.warn('marathon', `finding the Marathon leader: ${(err as Error).message}`)
    }
  }

  /** One Marathon event (from the stream or a callback). Malformed events are counted and dropped. */
  async handle(type: string | undefined, data: string): Promise<void> {
    let ev: unknown
    try {
      ev = JSON.parse(data)
    } catch {
      this.#o.metrics.incr('events.malformed')
      return this.#warn(`dropping a malformed ${type ?? 'event'}: ${data.slice(0, 120)}`)
    }
    if (!isObj(ev)) return void this.#o.metrics.incr('events.malformed')
    const kind = typeof ev.eventType === 'string' ? ev.eventType : type ?? ''
    this.#o.metrics.incr('events', 1, { type: kind })
    // Events wait for a running full sync, so its older view cannot undo them.
    if (this.#syncing) await this.#syncing
    const t0 = performance.now()
    const appId = typeof ev.appId === 'string' ? (ev.appId.startsWith('/') ? ev.appId : `/${ev.appId}`) : undefined
    // Most of a big Marathon's apps are not for Consul: their tasks' events cost nothing until the app changes.
    if (appId && kind !== 'app_terminated_event' && typeof ev.version === 'string' && this.#unlabelled.get(appId) === ev.version) return
    switch (kind) {
      case 'status_update_event': {
        if (!appId) break
        const task = taskInfo(ev)
        if (!task) return this.#warn(`status_update_event of app ${appId} without taskId or host`)
        if (task.state && ENDED.has(task.state)) await this.#onApp(appId, task.id, () => this.#dropTask(task.id))
        else if (task.state === 'TASK_RUNNING') {
          const app = this.#apps.get(appId)
          // Known app, same version, no health checks: register from the event alone (the fast path).
          if (app && !app.hasHealthChecks && (typeof ev.version !== 'string' || ev.version === app.version)) await this.#onApp(appId, task.id, () => this.#registerTask(app, task))
          else this.#reread(appId)
        }
        break
      }
      case 'health_status_changed_event':
      case 'failed_health_check_event':
      case 'unhealthy_task_kill_event':
        if (appId) {
          // Marathon 1.4+ names the instance (`app.instance-<uuid>`); its tasks' IDs extend it (`._app.1`).
          const instance = typeof ev.instanceId === 'string' ? ev.instanceId : undefined
          const taskIds = typeof ev.taskId === 'string' ? [ev.taskId] : instance ? [...this.#tasks.keys()].filter((id) => id === instance || id.startsWith(`${instance}.`)) : []
          if (kind === 'unhealthy_task_kill_event' || ev.alive === false) for (const id of taskIds) await this.#onApp(appId, id, () => this.#dropTask(id))
          this.#reread(appId)
        }
        break
      case 'app_terminated_event':
        if (appId) await this.#onApp(appId, undefined, () => this.#dropApp(appId))
        break
      case 'api_post_event': {
        const def = isObj(ev.appDefinition) ? ev.appDefinition : undefined
        if (def && typeof def.id === 'string') this.#reread(def.id.startsWith('/') ? def.id : `/${def.id}`)
        break
      }
      case 'deployment_info':
      case 'deployment_step_success': {
        const step = isObj(ev.currentStep) && Array.isArray(ev.currentStep.actions) ? ev.currentStep.actions : []
        for (const a of step) if (isObj(a) && typeof a.app === 'string') this.#reread(a.app)
        break
      }
      case 'deployment_success':
      case 'group_change_success':
        // Which apps changed is not in these events: the next full sync's job, now.
        void this.fullSync()
        break
      default:
        this.#o.log.debug('marathon', `event ${kind} needs nothing`)
    }
    this.#o.metrics.addSample('event', performance.now() - t0, { type: kind })
  }

  /**
   * Queues work for an app; resolves when it has run. Work for one task runs in event order; work
   * for different tasks of the app runs together (a deploy of hundreds of tasks is not serial); work
   * for the whole app (a re-read, a deletion: `task` undefined) runs alone, after what came before.
   */
  #onApp(appId: string, task: string | undefined, run: () => Promise<void>): Promise<void> {
    let q = this.#queues.get(appId)
    if (!q) this.#queues.set(appId, (q = { jobs: [], rereadQueued: false, drained: Promise.resolve() }))
    const done = new Promise<void>((resolve) => q.jobs.push({ task, run, done: resolve }))
    if (q.jobs.length === 1 && !q.running) q.drained = this.#drain(appId, q)
    return done
  }

  async #drain(appId: string, q: AppQueue): Promise<void> {
    q.running = true
    while (q.jobs.length) {
      // A full sync replaces what the bridge holds wholesale: per-app work waits while it runs.
      while (this.#syncing) await this.#syncing
      const batch: AppJob[] = []
      const tasks = new Set<string>()
      while (q.jobs.length && batch.length < 64) {
        const j = q.jobs[0]!
        if (j.task === undefined ? batch.length > 0 : tasks.has(j.task)) break
        batch.push(q.jobs.shift()!)
        if (j.task === undefined) break
        tasks.add(j.task)
      }
      const run = eachLimited(batch, 16, async (j) => {
        try {
          await j.run()
        } catch (err) {
          this.#o.log.err('marathon', `app ${appId}: ${(err as Error).message}`)
        } finally {
          j.done()
        }
      })
      this.#batches.add(run)
      await run.finally(() => this.#batches.delete(run))
    }
    q.running = false
    if (this.#queues.get(appId) === q) this.#queues.delete(appId)
  }

  /** Queues one re-read of the app unless one is already waiting (a deploy's burst collapses into it). */
  #reread(appId: string): void {
    const id = appId.startsWith('/') ? appId : `/${appId}`
    if (this.#queues.get(id)?.rereadQueued) return
    void this.#onApp(id, undefined, async () => {
      const q = this.#queues.get(id)
      if (q) q.rereadQueued = false
      await this.reconcileApp(id)
    })
    this.#queues.get(id)!.rereadQueued = true
  }

  /** Re-reads one app and makes its registrations match. */
  async reconcileApp(appId: string): Promise<void> {
    const res = await this.#marathon(`/v2/apps/${appId.replace(/^\//, '').split('/').map(encodeURIComponent).join('/')}?embed=apps.tasks`)
    if (res.status === 404) return this.#dropApp(appId)
    if (res.status !== 200 || !isObj(res.body) || !isObj(res.body.app)) throw new Error(`/v2/apps${appId} answered HTTP ${res.status} without an app`)
    const app = res.body.app
    await this.#resolve((Array.isArray(app.tasks) ? app.tasks : []).map((t) => (isObj(t) && typeof t.host === 'string' ? t.host : '')).filter(Boolean))
    let r: ReturnType<typeof appRegistrations>
    try {
      r = appRegistrations(app, this.#o, this.#warn)
    } catch (err) {
      // Unusable now: keep what was registered, say why.
      return this.#warn((err as Error).message)
    }
    if (!r.info) {
      this.#unlabelled.set(appId, String(app.version ?? ''))
      return this.#dropApp(appId)
    }
    this.#unlabelled.delete(r.info.id)
    this.#apps.set(r.info.id, r.info)
    const keep = new Set<string>()
    for (const t of r.tasks) {
      if (!t.services.length) continue
      keep.add(t.taskId)
      await this.#apply(t)
    }
    for (const [taskId, t] of this.#tasks) if (t.appId === r.info.id && !keep.has(taskId)) await this.#dropTask(taskId)
    await this.#kv?.writeApp(app, r.info, r.tasks)
  }

  async #registerTask(app: AppInfo, task: NonNullable<ReturnType<typeof taskInfo>>): Promise<void> {
    await this.#resolve([task.host])
    if (!registrable(app, task)) return
    const t = taskRegistrations(app, task, this.#o, this.#warn)
    await this.#apply(t)
    await this.#kv?.writeTask(app, t)
  }

  /** Registers a task's services, and drops the ones it no longer has. */
  async #apply(t: TaskRegistrations): Promise<void> {
    const before = this.#tasks.get(t.taskId)
    let changed = 0
    for (const svc of t.services) if (await this.#o.registrar.register(t.agent, svc)) changed++
    const now = t.services.map((s) => s.ID)
    for (const id of before?.ids ?? []) if (!now.includes(id)) await this.#o.registrar.deregister(before!.agent, id)
    this.#tasks.set(t.taskId, { appId: t.appId, agent: t.agent, ids: now })
    if (changed) {
      this.#o.metrics.incr('registered', changed)
      this.#o.log.info('marathon', `registered task ${t.taskId} of ${t.appId} on ${t.agent}`)
    }
  }

  async #dropTask(taskId: string): Promise<void> {
    const t = this.#tasks.get(taskId)
    if (!t) return
    for (const id of t.ids) {
      try {
        await this.#o.registrar.deregister(t.agent, id)
      } catch (err) {
        // The agent is down: the sweep of the next full sync removes it when the agent is back.
        this.#o.log.warn('marathon', `deregistering ${id} from ${t.agent}: ${(err as Error).message}`)
      }
    }
    this.#tasks.delete(taskId)
    this.#o.metrics.incr('deregistered', t.ids.length)
    this.#o.log.info('marathon', `deregistered task ${taskId} of ${t.appId}`)
    await this.#kv?.dropTask(t.appId, taskId)
  }

  async #dropApp(appId: string): Promise<void> {
    for (const [taskId, t] of [...this.#tasks]) if (t.appId === appId) await this.#dropTask(taskId)
    this.#apps.delete(appId)
    await this.#kv?.dropApp(appId)
  }

  /** Follows the event stream until stop(), reconnecting with backoff (1 s doubling to 30 s). */
  async #streamLoop(): Promise<void> {
    let backoff = 1000
    while (!this.#stopped) {
      await this.#findLeader()
      const base = this.#leader ?? this.#o.marathons[0]!
      const ctl = new AbortController()
      this.#stream = ctl
      let attached = false
      try {
        const res = await fetch(`${base}/v2/events`, { headers: { ...this.#headers(), Accept: 'text/event-stream' }, signal: ctl.signal })
        if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status}`)
        attached = true
        backoff = 1000
        this.#o.log.info('marathon', `attached to the event stream of ${base}`)
        this.#o.metrics.incr('stream.attached')
        // Whatever happened while detached is read back now.
        void this.fullSync()
        const parser = createParser({ onEvent: (e) => void this.handle(e.event, e.data) })
        const decoder = new TextDecoder()
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }))
        if (!this.#stopped) this.#o.log.warn('marathon', `the event stream of ${base} ended; reconnecting`)
      } catch (err) {
        if (this.#stopped) break
        if (!ctl.signal.aborted) this.#o.log.warn('marathon', `event stream of ${base}: ${(err as Error).message}; reconnecting in ${backoff / 1000}s`)
      }
      if (this.#stopped) break
      if (!attached || !ctl.signal.aborted) {
        await new Promise((r) => setTimeout(r, backoff))
        backoff = Math.min(backoff * 2, 30_000)
      }
    }
  }

  /** The URL Marathon posts events to (callback mode): known once the listener has its port. */
  setCallbackUrl(url: string): void {
    this.#callbackUrl = url
  }

  /** Registers our callback with Marathon unless it is there already (callback mode). */
  async subscribe(): Promise<void> {
    const url = this.#callbackUrl
    if (!url) return
    try {
      const res = await this.#marathon('/v2/eventSubscriptions')
      const urls = isObj(res.body) && Array.isArray(res.body.callbackUrls) ? res.body.callbackUrls : []
      if (urls.includes(url)) return
      const base = this.#leader ?? this.#o.marathons[0]!
      const post = await fetch(`${base}/v2/eventSubscriptions?callbackUrl=${encodeURIComponent(url)}`, { method: 'POST', headers: this.#headers(), signal: AbortSignal.timeout(this.#o.timeoutMs) })
      if (post.status >= 300) throw new Error(`HTTP ${post.status}`)
      this.#o.log.info('marathon', `subscribed ${url} to Marathon's events`)
    } catch (err) {
      this.#o.log.warn('marathon', `subscribing ${url}: ${(err as Error).message}; retried at the next sync`)
    }
  }

  start(): void {
    const periodic = async (): Promise<void> => {
      if (this.#stopped) return
      if (this.#o.events === 'callback') await this.subscribe()
      await this.fullSync()
      if (!this.#stopped) this.#timer = setTimeout(periodic, this.#o.syncIntervalMs)
    }
    if (this.#o.events === 'sse') {
      void this.#streamLoop()
      this.#timer = setTimeout(periodic, this.#o.syncIntervalMs)
    } else void periodic()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#stream?.abort()
    await this.#syncing
    await this.#queuedSync
    await Promise.all([...this.#queues.values()].map((q) => q.drained))
  }

}
