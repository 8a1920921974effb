/**
 * mesos-consul's loop: every `--refresh`, find the leading master, read its state, and make every
 * host's Consul agent hold exactly the registrations the state calls for. A master that fails,
 * hangs or answers garbage skips the poll (logged with the master named): nothing is deregistered
 * because a master had a bad minute.
 */
import type { Logger } from '../../lib/line-log.js'
import type { Metrics } from '../../lib/metrics.js'
import { eachLimited, type BridgeService, type Registrar, type SyncReport } from '../registrar.js'
import type { AgentPool } from '../agents.js'
import { desiredFromState, parsePid, StateError, type HostPort, type Master, type MesosOptions } from './state.js'

/** Where the masters are: ZooKeeper's `json.info_*` entries, or a fixed list (the leader read from the state). */
export interface MasterSource {
  describe(): string
  /** The masters known now; `leader` set when the source knows it. */
  masters(): Promise<Master[]>
  close?(): void
}

export class StaticMasters implements MasterSource {
  constructor(readonly list: readonly HostPort[]) {}
  describe(): string {
    return this.list.map((m) => `${m.host}:${m.port}`).join(',')
  }
  async masters(): Promise<Master[]> {
    return this.list.map((m) => ({ ...m, leader: false }))
  }
}

export interface MesosBridgeOptions extends MesosOptions {
  source: MasterSource
  refreshMs: number
  /** Polls a registration may be missing from the state before it is removed (upstream's default 1). */
  heartbeatsBeforeRemove: number
  stateTimeoutMs: number
  registrar: Registrar
  agents: AgentPool
  log: Logger
  metrics: Metrics
}

export interface PollReport {
  ok: boolean
  master?: string
  tasks: number
  sync?: SyncReport
  error?: string
}

/** Polls after a leader change during which no registration is removed. */
export const FAILOVER_HOLD_POLLS = 3

const hp = (m: HostPort): string => (m.host.includes(':') ? `[${m.host}]:${m.port}` : `${m.host}:${m.port}`)

export class MesosBridge {
  readonly #o: MesosBridgeOptions
  /** Registrations that left the state, kept until they have been missing heartbeatsBeforeRemove polls. */
  #previous = new Map<string, { agent: string; svc: BridgeService; misses: number }>()
  /** The leader of the last poll, and how many more polls removals are held after it changed. */
  #leader: string | undefined
  #holdPolls = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  #running: Promise<unknown> = Promise.resolve()

  constructor(o: MesosBridgeOptions) {
    this.#o = o
  }

  /** The leading master's state: from the leader the source names, else the first master that answers and the leader its state names. */
  async #readState(): Promise<{ state: Record<string, unknown>; masters: Master[]; from: string }> {
    const masters = await this.#o.source.masters()
    if (masters.length === 0) throw new Error(`no Mesos master found in ${this.#o.source.describe()}`)
    const order = [...masters].sort((a, b) => Number(b.leader) - Number(a.leader))
    const errors: string[] = []
    for (const m of order) {
      try {
        let state = await this.#fetchState(m)
        const leader = parsePid(state.leader)
        const self = parsePid(state.pid)
        // A master that is not the leader and did not redirect (older Mesos) answers with its own,
        // empty view: taking it would deregister every task. Ask the leader it names instead.
        if (leader && self && (self.host !== leader.host || self.port !== leader.port)) {
          state = await this.#fetchState(leader)
          const again = parsePid(state.pid)
          if (again && (again.host !== leader.host || again.port !== leader.port)) throw new Error(`${hp(leader)} is named leader but answers as ${hp(again)}`)
        }
        const all = masters.map((x) => ({ ...x, leader: leader ? x.host === leader.host && x.port === leader.port : x.leader }))
        if (leader && !all.some((x) => x.leader)) all.push({ ...leader, leader: true })
        return { state, masters: all, from: hp(m) }
      } catch (err) {
        errors.push(`${hp(m)}: ${(err as Error).message}`)
      }
    }
    throw new Error(`no Mesos master answered with its state (${errors.join('; ')})`)
  }

  async #fetchState(m: HostPort): Promise<Record<string, unknown>> {
    let lastStatus = 0
    for (const path of ['/master/state', '/master/state.json']) {
      // Follows a non-leading master's redirect to the leader.
      const res = await fetch(`http://${hp(m)}${path}`, { signal: AbortSignal.timeout(this.#o.stateTimeoutMs) })
      const text = await res.text()
      lastStatus = res.status
      if (res.status === 404) continue
      if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${path}: ${text.slice(0, 200).trim()}`)
      let state: unknown
      try {
        state = JSON.parse(text)
      } catch (err) {
        throw new StateError(`${path} is not JSON (${(err as Error).message})`)
      }
      if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new StateError(`${path} is not a JSON object`)
      return state as Record<string, unknown>
    }
    throw new Error(`HTTP ${lastStatus} from /master/state and /master/state.json`)
  }

  /** One refresh: read, decide, apply. Never throws. */
  async poll(): Promise<PollReport> {
    const { log, metrics } = this.#o
    const t0 = performance.now()
    let read: { state: Record<string, unknown>; masters: Master[]; from: string }
    let desired: ReturnType<typeof desiredFromState>
    try {
      read = await this.#readState()
      desired = desiredFromState(read.state, read.masters, this.#o)
    } catch (err) {
      metrics.incr('poll.failed')
      const msg = (err as Error).message
      log.err('mesos', `poll skipped, registrations left as they are: ${msg}`)
      return { ok: false, tasks: 0, error: msg }
    }
    for (const w of desired.warnings) log.warnOnce('mesos', w)
    // A new leader learns its agents' tasks as they re-register: for a few polls after a change,
    // a task missing from its state is not taken as gone.
    const leader = read.masters.find((m) => m.leader)
    const leaderKey = leader ? hp(leader) : ''
    if (this.#leader !== undefined && leaderKey !== this.#leader) {
      this.#holdPolls = FAILOVER_HOLD_POLLS
      log.info('mesos', `leading master is now ${leaderKey || 'unknown'}; removals held for ${FAILOVER_HOLD_POLLS} polls while its agents re-register`)
    } else if (this.#holdPolls > 0) this.#holdPolls--
    this.#leader = leaderKey
    this.#carryMissing(desired.byAgent, this.#holdPolls > 0)
    const sync = await this.#o.registrar.sync(desired.byAgent)
    await this.#refreshHealth(desired.health, new Set(sync.unreachable))
    let registrations = 0
    for (const list of desired.byAgent.values()) registrations += list.length
    metrics.setGauge('tasks', desired.tasks)
    metrics.setGauge('registrations', registrations)
    metrics.setGauge('agents.unreachable', sync.unreachable.length)
    metrics.incr('registered', sync.registered)
    metrics.incr('deregistered', sync.deregistered)
    metrics.addSample('poll', performance.now() - t0)
    log.info('mesos', `poll of ${read.from}: ${desired.tasks} tasks, ${registrations} registrations on ${desired.byAgent.size} agents; +${sync.registered} -${sync.deregistered}${sync.unreachable.length ? `, ${sync.unreachable.length} agents unreachable` : ''}`)
    return { ok: true, master: read.from, tasks: desired.tasks, sync }
  }

  /** Keeps a registration that just left the state for heartbeatsBeforeRemove - 1 more polls (all of them while `hold`). */
  #carryMissing(byAgent: Map<string, BridgeService[]>, hold: boolean): void {
    const now = new Map<string, { agent: string; svc: BridgeService; misses: number }>()
    for (const [agent, list] of byAgent) for (const svc of list) now.set(`${agent}\u0000${svc.ID}`, { agent, svc, misses: 0 })
    for (const [key, prev] of this.#previous) {
      if (now.has(key)) continue
      const misses = hold ? prev.misses : prev.misses + 1
      if (misses >= this.#o.heartbeatsBeforeRemove) continue
      now.set(key, { ...prev, misses })
      const list = byAgent.get(prev.agent)
      if (list) list.push(prev.svc)
      else byAgent.set(prev.agent, [prev.svc])
    }
    this.#previous = now
  }

  async #refreshHealth(health: Map<string, Map<string, boolean>>, skip: ReadonlySet<string>): Promise<void> {
    const updates: Array<[string, string, boolean]> = []
    for (const [agent, checks] of health) if (!skip.has(agent)) for (const [id, ok] of checks) updates.push([agent, id, ok])
    await eachLimited(updates, 16, async ([agent, id, ok]) => {
      try {
        await this.#o.agents.client(agent).call('PUT', `/v1/agent/check/update/${encodeURIComponent(id)}`, {
          body: JSON.stringify({ Status: ok ? 'passing' : 'critical', Output: `Mesos reports the task ${ok ? 'healthy' : 'unhealthy'}` }),
        })
      } catch (err) {
        this.#o.log.warn('mesos', `updating ${id} on ${agent}: ${(err as Error).message}`)
      }
    })
  }

  /** Polls now and every refresh until stop(). */
  start(): void {
    const loop = async (): Promise<void> => {
      if (this.#stopped) return
      this.#running = this.poll()
      await this.#running
      if (!this.#stopped) this.#timer = setTimeout(loop, this.#o.refreshMs)
    }
    void loop()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
    this.#o.source.close?.()
  }
}
