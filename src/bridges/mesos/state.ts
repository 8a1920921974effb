/**
 * The pure core of mesos-consul: a Mesos master's `/master/state` (or `state.json`) in, the
 * registrations every host's agent should hold out. No I/O: the bridge fetches, this decides, the
 * registrar applies. A malformed document throws StateError (nothing is deregistered for it); a
 * malformed task or host is skipped with a warning that names it.
 */
import { cleanName, sealed, type BridgeService, META_SOURCE } from '../registrar.js'
import { agentAddress } from '../agents.js'

export class StateError extends Error {}

export interface HostPort {
  host: string
  port: number
}

/** `master@1.2.3.4:5050`, `slave(1)@[2001:db8::1]:5051`. */
export function parsePid(pid: unknown): HostPort | undefined {
  if (typeof pid !== 'string') return undefined
  const m = /@(?:\[([^\]]+)\]|([^:@]+)):(\d+)$/.exec(pid)
  if (!m) return undefined
  const port = Number(m[3])
  if (!(port > 0 && port < 65536)) return undefined
  return { host: m[1] ?? m[2]!, port }
}

/** Most ports one task may register: a resource range wider than this is a mistake, not a service. */
export const MAX_TASK_PORTS = 100

/** `[31354-31354, 31355-31355]` -> [31354, 31355]; undefined for text that is not a port range list. */
export function parsePortRanges(text: unknown): number[] | undefined {
  if (text === undefined || text === null || text === '') return []
  if (typeof text !== 'string') return undefined
  const body = text.trim().replace(/^\[/, '').replace(/\]$/, '').trim()
  if (body === '') return []
  const ports: number[] = []
  for (const part of body.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part)
    if (!m) return undefined
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (!(lo > 0 && hi < 65536 && lo <= hi) || ports.length + hi - lo + 1 > MAX_TASK_PORTS) return undefined
    for (let p = lo; p <= hi; p++) ports.push(p)
  }
  return ports
}

export type IpSource = 'netinfo' | 'mesos' | 'docker' | 'host'
export const IP_SOURCES: readonly IpSource[] = ['netinfo', 'mesos', 'docker', 'host']

export interface MesosOptions {
  /** `--service-id-prefix` (mesos-consul). */
  idPrefix: string
  /** `--service-name` of the masters and agents (mesos). */
  serviceName: string
  /** `--service-tags`: each also registered as `<role>.<tag>`. */
  serviceTags: readonly string[]
  ipOrder: readonly IpSource[]
  whitelist: readonly RegExp[]
  blacklist: readonly RegExp[]
  frameworkWhitelist: readonly RegExp[]
  /** `--task-tag=pattern:tag`. */
  taskTags: ReadonlyArray<{ pattern: RegExp; tag: string }>
  /** `--shared-service-name`: patterns whose first group names the service of every task they match. */
  sharedNames: readonly RegExp[]
  /** `--group-separator`: replaces `_` in task names. */
  groupSeparator: string
  /** The HTTP port of every host's Consul agent. */
  consulPort: number
  /** TTL of the check that mirrors a task's Mesos health (a few refreshes). */
  healthTtl: string
}

export interface Master extends HostPort {
  leader: boolean
}

export interface Desired {
  /** agent address -> its registrations. */
  byAgent: Map<string, BridgeService[]>
  /** TTL checks to refresh (tasks with Mesos health): agent -> check ID -> passing. */
  health: Map<string, Map<string, boolean>>
  tasks: number
  warnings: string[]
}

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

function labelsOf(v: unknown): Array<{ key: string; value: string }> {
  const list = isObj(v) && Array.isArray(v.labels) ? v.labels : Array.isArray(v) ? v : []
  return list.filter(isObj).map((l) => ({ key: String(l.key ?? ''), value: String(l.value ?? '') }))
}

/** The latest TASK_RUNNING status, which carries the container's addresses and health. */
function runningStatus(task: Json): Json | undefined {
  let best: Json | undefined
  for (const s of Array.isArray(task.statuses) ? task.statuses : []) {
    if (!isObj(s) || s.state !== 'TASK_RUNNING') continue
    if (!best || Number(s.timestamp ?? 0) >= Number(best.timestamp ?? 0)) best = s
  }
  return best
}

function taskIp(status: Json | undefined, hostIp: string, order: readonly IpSource[]): string {
  for (const src of order) {
    if (src === 'host') return hostIp
    if (!status) continue
    if (src === 'netinfo') {
      const infos = isObj(status.container_status) && Array.isArray(status.container_status.network_infos) ? status.container_status.network_infos : []
      for (const info of infos) {
        const addrs = isObj(info) && Array.isArray(info.ip_addresses) ? info.ip_addresses : []
        const v4 = addrs.find((a) => isObj(a) && a.protocol !== 'IPv6' && str(a.ip_address))
        if (isObj(v4)) return String(v4.ip_address)
      }
      continue
    }
    const key = src === 'docker' ? 'Docker.NetworkSettings.IPAddress' : 'MesosContainerizer.NetworkSettings.IPAddress'
    const label = labelsOf(status.labels).find((l) => l.key === key && l.value !== '')
    if (label) return label.value
  }
  return hostIp
}

/**
 * The ports a task is reached on. At the host's address: its host ports (resources), named by
 * discovery info when that lists as many. At a container's own address: the ports discovery info
 * declares, else the container side of Docker's port mappings, else the host ports.
 */
function taskPorts(task: Json, atHost: boolean): { ports: Array<{ port: number; name?: string }>; declared: boolean } | undefined {
  const disc = isObj(task.discovery) && isObj(task.discovery.ports) && Array.isArray(task.discovery.ports.ports) ? task.discovery.ports.ports : []
  const declared: Array<{ port: number; name?: string }> = []
  for (const p of disc) {
    const n = isObj(p) ? Number(p.number) : NaN
    if (!(Number.isInteger(n) && n > 0 && n < 65536)) return undefined
    declared.push({ port: n, ...(isObj(p) && str(p.name) ? { name: String(p.name) } : {}) })
  }
  if (!atHost && declared.length) return { ports: declared, declared: true }
  // Docker's bridged port mappings: the container's side at its own address.
  const docker = isObj(task.container) && isObj(task.container.docker) && Array.isArray(task.container.docker.port_mappings) ? task.container.docker.port_mappings : []
  if (!atHost && docker.length) {
    const mapped = docker.map((m) => (isObj(m) ? Number(m.container_port) : NaN))
    if (mapped.some((n) => !(Number.isInteger(n) && n > 0 && n < 65536))) return undefined
    return { ports: mapped.map((port) => ({ port })), declared: true }
  }
  const res = parsePortRanges(isObj(task.resources) ? task.resources.ports : undefined)
  if (!res) return undefined
  const named = declared.length === res.length
  return { ports: res.map((port, i) => ({ port, ...(named && declared[i]!.name ? { name: declared[i]!.name } : {}) })), declared: false }
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => {
  const list = m.get(k)
  if (list) list.push(v)
  else m.set(k, [v])
}

/** What every agent should hold for this state and these masters (the leader named by `leader`). */
export function desiredFromState(state: unknown, masters: readonly Master[], o: MesosOptions): Desired {
  if (!isObj(state)) throw new StateError('state is not a JSON object')
  if (!Array.isArray(state.slaves ?? [])) throw new StateError('"slaves" is not a list')
  if (!Array.isArray(state.frameworks ?? [])) throw new StateError('"frameworks" is not a list')
  const d: Desired = { byAgent: new Map(), health: new Map(), tasks: 0, warnings: [] }
  const meta = { [META_SOURCE]: 'mesos' }
  const roleTags = (role: string): string[] => [role, ...o.serviceTags.map((t) => `${role}.${t}`)]

  const slaveIp = new Map<string, string>()
  for (const s of (state.slaves ?? []) as unknown[]) {
    const pid = isObj(s) ? parsePid(s.pid) : undefined
    const id = isObj(s) ? str(s.id) : undefined
    if (!pid || !id) {
      d.warnings.push(`skipping a Mesos agent with no usable id and pid: ${JSON.stringify(s)?.slice(0, 200)}`)
      continue
    }
    const hostname = str((s as Json).hostname) ?? pid.host
    slaveIp.set(id, pid.host)
    push(d.byAgent, agentAddress(pid.host, o.consulPort), sealed({
      ID: `${o.idPrefix}:${o.serviceName}:${id}:${hostname}`,
      Name: o.serviceName,
      Tags: roleTags('follower'),
      Port: pid.port,
      Address: pid.host,
      Meta: meta,
      Check: { Name: 'Mesos agent health', HTTP: `http://${agentAddress(pid.host, pid.port)}/slave(1)/health`, Interval: '10s' },
    }))
  }
  for (const m of masters) {
    const tags = m.leader ? [...roleTags('leader'), ...roleTags('master')] : roleTags('master')
    push(d.byAgent, agentAddress(m.host, o.consulPort), sealed({
      ID: `${o.idPrefix}:${o.serviceName}:${m.host}:${m.port}`,
      Name: o.serviceName,
      Tags: tags,
      Port: m.port,
      Address: m.host,
      Meta: meta,
      Check: { Name: 'Mesos master health', HTTP: `http://${agentAddress(m.host, m.port)}/master/health`, Interval: '10s' },
    }))
  }

  for (const fw of (state.frameworks ?? []) as unknown[]) {
    if (!isObj(fw) || !Array.isArray(fw.tasks ?? [])) {
      d.warnings.push(`skipping a framework with no task list: ${String(isObj(fw) ? fw.name : fw)}`)
      continue
    }
    const fwName = str(fw.name) ?? ''
    if (o.frameworkWhitelist.length && !o.frameworkWhitelist.some((r) => r.test(fwName))) continue
    for (const t of fw.tasks as unknown[]) {
      if (!isObj(t) || t.state !== 'TASK_RUNNING') continue
      const taskId = str(t.id)
      const rawName = str(t.name)
      const hostIp = slaveIp.get(str(t.slave_id) ?? '')
      if (!taskId || !rawName || !hostIp) {
        d.warnings.push(`skipping task ${JSON.stringify(taskId ?? rawName ?? '?')} of framework ${JSON.stringify(fwName)}: ${!hostIp ? 'its agent is not in the state' : 'no id or name'}`)
        continue
      }
      const status = runningStatus(t)
      const labels = labelsOf(t.labels).concat(labelsOf(status?.labels))
      const override = labels.find((l) => l.key === 'overrideTaskName')?.value
      // --shared-service-name: the first group of the first pattern that matches names the service.
      const shared = o.sharedNames.map((r) => r.exec(rawName)).find((m) => m && m[1])?.[1]
      const name = cleanName(override || shared || rawName, o.groupSeparator)
      if (!name) {
        d.warnings.push(`skipping task ${JSON.stringify(taskId)}: its name ${JSON.stringify(rawName)} has nothing DNS can carry`)
        continue
      }
      if (o.whitelist.length && !o.whitelist.some((r) => r.test(rawName))) continue
      if (o.blacklist.some((r) => r.test(rawName))) continue
      const address = taskIp(status, hostIp, o.ipOrder)
      const ports = taskPorts(t, address === hostIp)
      if (!ports) {
        d.warnings.push(`skipping task ${JSON.stringify(taskId)} (${name}): its ports are not valid (more than ${MAX_TASK_PORTS}, or out of 1-65535)`)
        continue
      }
      const tags = new Set<string>()
      for (const l of labels) if (l.key === 'tags') for (const tag of l.value.split(',')) if (tag.trim()) tags.add(tag.trim())
      for (const tt of o.taskTags) if (tt.pattern.test(rawName)) tags.add(tt.tag)
      const healthy = typeof status?.healthy === 'boolean' ? status.healthy : undefined
      const agent = agentAddress(hostIp, o.consulPort)
      const taskMeta = { ...meta, 'mesos-task': taskId }
      const register = (id: string, port: number | undefined, extra: readonly string[]): void => {
        const svc = sealed({
          ID: id,
          Name: name,
          Tags: [...tags, ...extra],
          ...(port ? { Port: port } : {}),
          Address: address,
          Meta: taskMeta,
          // Mesos' own health verdict, mirrored by a TTL check the bridge refreshes every poll.
          ...(healthy === undefined ? {} : { Check: { Name: 'Mesos task health', TTL: o.healthTtl, Notes: 'Set by mesos-consul from the task\'s Mesos health checks' } }),
        })
        push(d.byAgent, agent, svc)
        if (healthy !== undefined) {
          let m = d.health.get(agent)
          if (!m) d.health.set(agent, (m = new Map()))
          m.set(`service:${id}`, healthy)
        }
      }
      d.tasks++
      // A host port names its task on that host; a declared (container) port may repeat there, so the task ID joins it.
      if (ports.ports.length === 0) register(`${o.idPrefix}:${hostIp}:${name}:${taskId}`, undefined, [])
      else for (const p of ports.ports) register(`${o.idPrefix}:${hostIp}:${name}:${ports.declared ? `${taskId}:` : ''}${p.port}`, p.port, p.name ? [p.name] : [])
    }
  }
  return d
}
