/**
 * The pure core of marathon-consul: a Marathon app (with its tasks) in, the registrations on each
 * task host's agent out. Labels say what to register, as allegro/marathon-consul reads them:
 * - `consul` on the app: register it, under the label's value, or under the app's ID when the value
 *   is `true` or empty (`/shop/web` -> `shop-web`, the separator configurable);
 * - `consul` on a port definition: that port is its own service (only such ports are registered
 *   then); else `consul_<index>` on the app names the port at that index; else port 0 is registered;
 * - a label whose value is `tag` becomes a tag (on the app: every port; on a port definition: that port).
 * A task is registered when it is running and, if the app has health checks, all its results are alive.
 * Bad input (an app with no ID, a port index the tasks do not have) is a warning naming the app.
 */
import { cleanName, sealed, META_SOURCE, type BridgeService } from '../registrar.js'
import { agentAddress } from '../agents.js'

export interface MarathonOptions {
  idPrefix: string
  /** `--consul-tag`, on every registration (marathon). */
  consulTag: string
  consulPort: number
  /** Replaces `/` of an app ID in the service name. */
  nameSeparator: string
  /** A task host's address for the registration (DNS-resolved by the runner, the host itself when unknown). */
  addressOf?: (host: string) => string
}

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

export interface AppInfo {
  id: string
  version: string
  labels: Record<string, string>
  hasHealthChecks: boolean
  /** port index -> service name and port-level tags. */
  ports: Array<{ index: number; name: string; tags: string[] }>
  tags: string[]
}

export interface TaskInfo {
  id: string
  appId: string
  host: string
  ports: number[]
  state?: string
  /** undefined when Marathon reported no results yet. */
  healthy?: boolean
}

export interface TaskRegistrations {
  taskId: string
  appId: string
  agent: string
  services: BridgeService[]
}

const strings = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {}
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x
  return out
}

const tagsOf = (labels: Record<string, string>): string[] => Object.entries(labels).filter(([, v]) => v === 'tag').map(([k]) => k)

/** The app's registration plan, or undefined when it is not labelled for Consul. Throws with the app named when it is unusable. */
export function appInfo(app: unknown, o: MarathonOptions): AppInfo | undefined {
  if (!isObj(app) || typeof app.id !== 'string' || app.id.replace(/\//g, '') === '') throw new Error(`an app with no usable id: ${JSON.stringify(app)?.slice(0, 120)}`)
  const id = app.id.startsWith('/') ? app.id : `/${app.id}`
  const labels = strings(app.labels)
  if (!('consul' in labels)) return undefined
  const idName = id.split('/').map((part) => cleanName(part)).filter(Boolean).join(o.nameSeparator)
  // A label names its service as given (cleaned for DNS); `true` or empty means the app's ID.
  const clean = (label: string | undefined): string => {
    const n = label && label !== 'true' ? cleanName(label) : idName
    if (!n) throw new Error(`app ${id}: service name ${JSON.stringify(label ?? id)} has nothing DNS can carry`)
    return n
  }
  const appName = clean(labels.consul)
  const defs = Array.isArray(app.portDefinitions) ? app.portDefinitions : []
  const ports: AppInfo['ports'] = []
  defs.forEach((d, index) => {
    const l = isObj(d) ? strings(d.labels) : {}
    if ('consul' in l) ports.push({ index, name: l.consul && l.consul !== 'true' ? clean(l.consul) : appName, tags: tagsOf(l) })
  })
  if (ports.length === 0) {
    for (const [k, v] of Object.entries(labels)) {
      const m = /^consul_(.+)$/.exec(k)
      if (!m) continue
      if (!/^\d+$/.test(m[1]!) || Number(m[1]) > 65535) throw new Error(`app ${id}: label ${k} names port index ${JSON.stringify(m[1])}, not a number`)
      ports.push({ index: Number(m[1]), name: v && v !== 'true' ? clean(v) : appName, tags: [] })
    }
  }
  if (ports.length === 0) ports.push({ index: 0, name: appName, tags: [] })
  return {
    id,
    version: typeof app.version === 'string' ? app.version : '',
    labels,
    hasHealthChecks: Array.isArray(app.healthChecks) && app.healthChecks.length > 0,
    ports,
    tags: tagsOf(labels),
  }
}

/** A task of /v2/apps?embed=apps.tasks, /v2/tasks or a status_update_event. */
export function taskInfo(t: unknown, appId?: string): TaskInfo | undefined {
  if (!isObj(t)) return undefined
  const id = typeof t.id === 'string' ? t.id : typeof t.taskId === 'string' ? t.taskId : undefined
  const app = typeof t.appId === 'string' ? t.appId : appId
  if (!id || !app || typeof t.host !== 'string') return undefined
  const ports = Array.isArray(t.ports) ? t.ports.map(Number) : []
  const results = Array.isArray(t.healthCheckResults) ? t.healthCheckResults.filter(isObj) : []
  return {
    id,
    appId: app.startsWith('/') ? app : `/${app}`,
    host: t.host,
    ports,
    ...(typeof t.state === 'string' ? { state: t.state } : typeof t.taskStatus === 'string' ? { state: t.taskStatus } : {}),
    ...(results.length ? { healthy: results.every((r) => r.alive === true) } : {}),
  }
}

/** Whether a task should be in Consul: running, and healthy when the app checks health. */
export function registrable(app: AppInfo, task: TaskInfo): boolean {
  if (task.state !== undefined && task.state !== 'TASK_RUNNING') return false
  return app.hasHealthChecks ? task.healthy === true : true
}

/** The registrations of one task (empty when it should not be registered); `warn` hears about bad ports. */
export function taskRegistrations(app: AppInfo, task: TaskInfo, o: MarathonOptions, warn: (msg: string) => void): TaskRegistrations {
  const out: TaskRegistrations = { taskId: task.id, appId: app.id, agent: agentAddress(task.host, o.consulPort), services: [] }
  if (!registrable(app, task)) return out
  const address = o.addressOf ? o.addressOf(task.host) : task.host
  for (const p of app.ports) {
    const port = task.ports[p.index]
    if (port === undefined || !(Number.isInteger(port) && port > 0 && port < 65536)) {
      warn(`app ${app.id}: task ${task.id} has no usable port at index ${p.index} (${task.ports.length} ports: ${JSON.stringify(task.ports)}); ${p.name} not registered for it`)
      continue
    }
    out.services.push(sealed({
      ID: `${o.idPrefix}:${task.id}:${port}`,
      Name: p.name,
      Tags: [...new Set([o.consulTag, ...app.tags, ...p.tags].filter(Boolean))],
      Port: port,
      Address: address,
      Meta: { [META_SOURCE]: 'marathon', 'marathon-app': app.id, 'marathon-task': task.id, 'marathon-port-index': String(p.index) },
    }))
  }
  return out
}

/** Every registration of one app document (embed=apps.tasks), with the app's warnings. */
export function appRegistrations(app: unknown, o: MarathonOptions, warn: (msg: string) => void): { info: AppInfo | undefined; tasks: TaskRegistrations[] } {
  const info = appInfo(app, o)
  if (!info) return { info, tasks: [] }
  const tasks: TaskRegistrations[] = []
  for (const t of isObj(app) && Array.isArray(app.tasks) ? app.tasks : []) {
    const task = taskInfo(t, info.id)
    if (!task) {
      warn(`app ${info.id}: skipping a task with no id or host: ${JSON.stringify(t)?.slice(0, 120)}`)
      continue
    }
    tasks.push(taskRegistrations(info, task, o, warn))
  }
  return { info, tasks }
}
