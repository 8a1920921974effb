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
  readonly #dir: string | undefined

  constructor(dataDir: string | undefined) {
    this.#dir = dataDir ? join(dataDir, 'local') : undefined
  }

  /** `restored`: it came from disk at start-up, so there is nothing to write back. */
  addService(def: Omit<ServiceDefinition, 'checks'>, source: Source, restored = false): void {
    this.services.set(def.ID, { def, source })
    if (source === 'api' && !restored) this.#write('services', def.ID, def)
    this.#notify({ kind: 'service', id: def.ID })
  }

  removeService(id: string): boolean {
    const svc = this.services.get(id)
    if (!svc) return false
    for (const [checkId, check] of this.checks) if (check.spec.record.ServiceID === id) this.removeCheck(checkId)
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
    previous?.runner?.stop()
    const status = state?.status ?? previous?.status ?? spec.record.Status
    const check: LocalCheck = {
      spec,
      source,
      status,
      output: state?.output ?? previous?.output ?? '',
      runner,
      criticalSince: status === 'critical' ? Date.now() : undefined,
    }
    this.checks.set(spec.runner.id, check)
    if (source === 'api' && !state) this.#persistCheck(check)
    runner?.start()
    this.#notify({ kind: 'check', id: spec.runner.id })
  }

  removeCheck(id: string): boolean {
    const check = this.checks.get(id)
    if (!check) return false
    check.runner?.stop()
    this.checks.delete(id)
    if (check.source === 'api') this.#remove('checks', id)
    this.#notify({ kind: 'check', id })
    return true
  }

  /** A runner's (or a TTL endpoint's) verdict. Returns false for an unknown check. */
  updateCheck(id: string, status: CheckStatus, output: string): boolean {
    const check = this.checks.get(id)
    if (!check) return false
    if (check.status === status && check.output === output) return true
    if (status === 'critical' && check.status !== 'critical') check.criticalSince = Date.now()
    if (status !== 'critical') check.criticalSince = undefined
    const statusChanged = check.status !== status
    check.status = status
    check.output = output
    // Output-only changes are not worth a disk write; status changes are.
    if (statusChanged && check.source === 'api') this.#persistCheck(check)
    this.#notify({ kind: 'check', id })
    return true
  }

  /** Stops every runner (agent shutdown). */
  stopAll(): void {
    for (const c of this.checks.values()) c.runner?.stop()
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
    writeFileSync(`${file}.tmp`, JSON.stringify(value))
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
