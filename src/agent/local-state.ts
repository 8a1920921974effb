import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { CheckStatus, RunningCheck } from '../checks/types.js'
import type { CheckSpec, ServiceDefinition } from './definitions.js'
import { WatchRegistry } from '../state/watch.js'

export type Source = 'config' | 'api'

export interface LocalService {
  def: Omit<ServiceDefinition, 'checks'>
  source: Source
}

export interface LocalCheck {
  spec: CheckSpec
  source: Source
  status: CheckStatus
  output: string
  runner: RunningCheck | undefined
  /** Wall-clock ms when the check turned critical, for deregister_critical_service_after. */
  criticalSince: number | undefined
  /**
   * The output the catalog should hold. It trails `output` while an output-only change waits for
   * check_update_interval; a status change carries the latest output at once.
   */
  catalogOutput: string
  /** The pending write-back of an output-only change. */
  deferred: NodeJS.Timeout | undefined
  /** Whether a verdict came since registration: the first one always goes through at once. */
  reported: boolean
}

export interface LocalStateOptions {
  /** Where HTTP registrations are kept; none in -dev. */
  dataDir: string | undefined
  /** check_update_interval in ms (0: every output change goes to the catalog at once). */
  checkUpdateIntervalMs?: () => number
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
  /** Randomness for the write-back stagger (injected so tests can pin it). */
  random?: () => number
}

/** A change anti-entropy must carry to the catalog. */
export type LocalChange = { kind: 'service' | 'check'; id: string }

interface PersistedCheck {
  spec: CheckSpec
  status: CheckStatus
  output: string
}

/**
 * The agent's own services and checks (Consul's local.State): the source of truth that
 * anti-entropy copies into the catalog. Each registration made over HTTP is written to its
 * own file in data_dir (atomically, by rename, before the request is answered), so it
 * survives restarts and a registration costs one small write however many there are.
 * Config-file registrations are re-read from config instead.
 */
export class LocalState {
  readonly services = new Map<string, LocalService>()
  readonly checks = new Map<string, LocalCheck>()
  /** Called after every change; anti-entropy syncs the named entry. */
  onChange: (change: LocalChange) => void = () => {}
  /** Fires key `local` on every change (hash-blocking agent endpoints, alias checks). */
  readonly watches = new WatchRegistry()
  /** Tokens of services and checks removed here, for the sync that removes them from the catalog (newest 1,024). */
  readonly #removedTokens = new Map<string, string>()
  readonly #dir: string | undefined
  readonly #interval: () => number
  readonly #log: NonNullable<LocalStateOptions['log']>
  readonly #random: () => number

  constructor(opts: LocalStateOptions) {
    this.#dir = opts.dataDir ? join(opts.dataDir, 'local') : undefined
    this.#interval = opts.checkUpdateIntervalMs ?? (() => 0)
    this.#log = opts.log ?? (() => {})
    this.#random = opts.random ?? Math.random
  }

  /** `restored`: it came from disk at start-up, so there is nothing to write back. */
  addService(def: Omit<ServiceDefinition, 'checks'>, source: Source, restored = false): void {
    this.#removedTokens.delete(`service:${def.ID}`)
    this.services.set(def.ID, { def, source })
    if (source === 'api' && !restored) this.#write('services', def.ID, def)
    this.#notify({ kind: 'service', id: def.ID })
  }

  removeService(id: string): boolean {
    const svc = this.services.get(id)
    if (!svc) return false
    for (const [checkId, check] of this.checks) if (check.spec.record.ServiceID === id) this.removeCheck(checkId)
    this.#rememberToken(`service:${id}`, svc.def.token)
    this.services.delete(id)
    if (svc.source === 'api') this.#remove('services', id)
    this.#notify({ kind: 'service', id })
    return true
  }

  /**
   * Adds or replaces a check and starts its runner; a previous runner is stopped. `state` is
   * the status saved before a restart: then the check is already on disk as it is.
   */
  addCheck(spec: CheckSpec, source: Source, runner: RunningCheck | undefined, state?: { status: CheckStatus; output: string }): void {
    const previous = this.checks.get(spec.runner.id)
    this.#removedTokens.delete(`check:${spec.runner.id}`)
    previous?.runner?.stop()
    if (previous?.deferred) clearTimeout(previous.deferred)
    const status = state?.status ?? previous?.status ?? spec.record.Status
    const output = state?.output ?? previous?.output ?? ''
    const check: LocalCheck = {
      spec,
      source,
      status,
      output,
      runner,
      criticalSince: status === 'critical' ? Date.now() : undefined,
      catalogOutput: output,
      deferred: undefined,
      reported: state !== undefined || (previous?.reported ?? false),
    }
    this.checks.set(spec.runner.id, check)
    if (source === 'api' && !state) this.#persistCheck(check)
    runner?.start()
    this.#notify({ kind: 'check', id: spec.runner.id })
  }

  /** The token a service or check removed here was registered with ("" if none, or forgotten). */
  removedToken(kind: 'service' | 'check', id: string): string {
    return this.#removedTokens.get(`${kind}:${id}`) ?? ''
  }

  #rememberToken(key: string, token: string): void {
    if (!token) return
    this.#removedTokens.delete(key)
    this.#removedTokens.set(key, token)
    if (this.#removedTokens.size > 1024) this.#removedTokens.delete(this.#removedTokens.keys().next().value!)
  }

  removeCheck(id: string): boolean {
    const check = this.checks.get(id)
    if (!check) return false
    check.runner?.stop()
    if (check.deferred) clearTimeout(check.deferred)
    this.#rememberToken(`check:${id}`, check.spec.token)
    this.checks.delete(id)
    if (check.source === 'api') this.#remove('checks', id)
    this.#notify({ kind: 'check', id })
    return true
  }

  /**
   * A runner's (or a TTL endpoint's) verdict. Returns false for an unknown check. As Consul's
   * local state does, a change of output alone is shown here at once but written to the catalog
   * at most once per check_update_interval (half of it plus a random stagger), so a check that
   * prints a timestamp does not wake every watcher of the service on every run; a change of
   * status goes through at once, with the latest output.
   */
  updateCheck(id: string, status: CheckStatus, output: string): boolean {
    const check = this.checks.get(id)
    if (!check) return false
    if (check.status === status && check.output === output) return true
    const interval = this.#interval()
    // Consul defers the first verdict too when it keeps the initial status (a critical check's first
    // output would wait minutes); here the first one goes through, as a user expects.
    if (check.status === status && interval > 0 && check.reported) {
      check.output = output
      if (!check.deferred) {
        check.deferred = setTimeout(() => {
          check.deferred = undefined
          if (this.checks.get(id) !== check || check.catalogOutput === check.output) return
          check.catalogOutput = check.output
          this.#notify({ kind: 'check', id })
        }, interval / 2 + Math.floor(this.#random() * interval))
        check.deferred.unref()
      }
      return true
    }
    if (check.deferred) clearTimeout(check.deferred)
    check.deferred = undefined
    if (status === 'critical' && check.status !== 'critical') check.criticalSince = Date.now()
    if (status !== 'critical') check.criticalSince = undefined
    const statusChanged = check.status !== status
    // Operators find a flapping check by these lines (Consul's wording).
    if (statusChanged) this.#log(status === 'passing' ? 'info' : 'warn', `agent: Check is now ${status}: check=${id}`)
    check.status = status
    check.output = output
    check.catalogOutput = output
    check.reported = true
    // Output-only changes are not worth a disk write; status changes are.
    if (statusChanged && check.source === 'api') this.#persistCheck(check)
    this.#notify({ kind: 'check', id })
    return true
  }

  /** Stops every runner (agent shutdown). */
  stopAll(): void {
    for (const c of this.checks.values()) {
      c.runner?.stop()
      if (c.deferred) clearTimeout(c.deferred)
    }
  }

  /** The HTTP registrations saved before a restart. */
  load(): { services: Array<Omit<ServiceDefinition, 'checks'>>; checks: PersistedCheck[] } {
    return { services: this.#readAll('services'), checks: this.#readAll('checks') }
  }

  #notify(change: LocalChange): void {
    this.watches.notify(['local'])
    this.onChange(change)
  }

  #persistCheck(check: LocalCheck): void {
    const saved: PersistedCheck = { spec: check.spec, status: check.status, output: check.output }
    this.#write('checks', check.spec.runner.id, saved)
  }

  #file(kind: 'services' | 'checks', id: string): string {
    return join(this.#dir!, kind, `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.json`)
  }

  #write(kind: 'services' | 'checks', id: string, value: unknown): void {
    if (!this.#dir) return
    const file = this.#file(kind, id)
    mkdirSync(join(this.#dir, kind), { recursive: true })
    // The definition may hold the token it was registered with.
    writeFileSync(`${file}.tmp`, JSON.stringify(value), { mode: 0o600 })
    renameSync(`${file}.tmp`, file)
  }

  #remove(kind: 'services' | 'checks', id: string): void {
    if (this.#dir) rmSync(this.#file(kind, id), { force: true })
  }

  #readAll<T>(kind: 'services' | 'checks'): T[] {
    if (!this.#dir) return []
    let names: string[]
    try {
      names = readdirSync(join(this.#dir, kind)).filter((n) => n.endsWith('.json')).sort()
    } catch {
      return []
    }
    const out: T[] = []
    for (const name of names) {
      try {
        out.push(JSON.parse(readFileSync(join(this.#dir, kind, name), 'utf8')) as T)
      } catch {
        // A torn file from a crash mid-write cannot happen (rename is atomic); skip anything unreadable.
      }
    }
    return out
  }
}
