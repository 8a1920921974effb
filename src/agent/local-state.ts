import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs'
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

/** What survives a restart: services and checks registered over HTTP, with their last status. */
interface PersistedState {
  v: 1
  services: Array<Omit<ServiceDefinition, 'checks'>>
  checks: Array<{ spec: CheckSpec; status: CheckStatus; output: string }>
}

const FILE = 'local-state.json'

/**
 * The agent's own services and checks (Consul's local.State): the source of truth that
 * anti-entropy copies into the catalog. Registrations made over HTTP are written to data_dir
 * (atomically, by rename) so they survive restarts; config-file ones are re-read from config.
 */
export class LocalState {
  readonly services = new Map<string, LocalService>()
  readonly checks = new Map<string, LocalCheck>()
  /** Called after every change; anti-entropy schedules a sync. */
  onChange: () => void = () => {}
  /** Fires key `local` on every change (hash-blocking agent endpoints). */
  readonly watches = new WatchRegistry()

  constructor(private readonly dataDir: string | undefined) {}

  addService(def: Omit<ServiceDefinition, 'checks'>, source: Source): void {
    this.services.set(def.ID, { def, source })
    this.#changed(source)
  }

  removeService(id: string): boolean {
    const svc = this.services.get(id)
    if (!svc) return false
    this.services.delete(id)
    for (const [checkId, check] of this.checks) if (check.spec.record.ServiceID === id) this.removeCheck(checkId)
    this.#changed(svc.source)
    return true
  }

  /** Adds or replaces a check; the previous runner (if any) is stopped by the caller's factory. */
  addCheck(spec: CheckSpec, source: Source, runner: RunningCheck | undefined, state?: { status: CheckStatus; output: string }): void {
    const previous = this.checks.get(spec.runner.id)
    previous?.runner?.stop()
    const status = state?.status ?? previous?.status ?? spec.record.Status
    this.checks.set(spec.runner.id, {
      spec,
      source,
      status,
      output: state?.output ?? previous?.output ?? '',
      runner,
      criticalSince: status === 'critical' ? Date.now() : undefined,
    })
    runner?.start()
    this.#changed(source)
  }

  removeCheck(id: string): boolean {
    const check = this.checks.get(id)
    if (!check) return false
    check.runner?.stop()
    this.checks.delete(id)
    this.#changed(check.source)
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
    if (statusChanged) this.#changed(check.source)
    else this.#notify()
    return true
  }

  /** Stops every runner (agent shutdown). */
  stopAll(): void {
    for (const c of this.checks.values()) c.runner?.stop()
  }

  /** The persisted HTTP registrations, if any. */
  load(): PersistedState | undefined {
    if (!this.dataDir) return undefined
    try {
      const data = JSON.parse(readFileSync(join(this.dataDir, FILE), 'utf8')) as PersistedState
      return data.v === 1 ? data : undefined
    } catch {
      return undefined
    }
  }

  #changed(source: Source): void {
    if (source === 'api') this.#persist()
    this.#notify()
  }

  #notify(): void {
    this.watches.notify(['local'])
    this.onChange()
  }

  #persist(): void {
    if (!this.dataDir) return
    const state: PersistedState = {
      v: 1,
      services: [...this.services.values()].filter((s) => s.source === 'api').map((s) => s.def),
      checks: [...this.checks.values()].filter((c) => c.source === 'api').map((c) => ({ spec: c.spec, status: c.status, output: c.output })),
    }
    mkdirSync(this.dataDir, { recursive: true })
    const tmp = join(this.dataDir, `${FILE}.tmp`)
    writeFileSync(tmp, JSON.stringify(state))
    renameSync(tmp, join(this.dataDir, FILE))
  }
}
