import type { AgentOps } from '../http/context.js'
import { HttpError, notFound } from '../lib/errors.js'
import { createCheckRunner, isTtlRunner, validateCheck, CheckDefinitionError, type AliasSource, type CheckStatus, type RunningCheck } from '../checks/index.js'
import type { InternalEndpoint } from '../server/internal-endpoint.js'
import type { CheckSpec, ServiceDefinition } from './definitions.js'
import type { LocalState, Source } from './local-state.js'

export const NODE_MAINTENANCE_ID = '_node_maintenance'
export const serviceMaintenanceId = (serviceId: string): string => `_service_maintenance:${serviceId}`
const DEFAULT_NODE_REASON = 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.'
const DEFAULT_SERVICE_REASON = 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.'

export interface RegistryOptions {
  local: LocalState
  /** The server's view of other nodes' checks (alias checks), bound late: the server starts after the registry. */
  remote: () => Pick<InternalEndpoint, 'onNodeChange' | 'nodeChecksNow'>
  nodeName: () => string
  /** enable_script_checks (HTTP and config) and enable_local_script_checks (config only). */
  scriptChecks: () => { remote: boolean; local: boolean }
  httpsCa?: Buffer
  log: (level: 'info' | 'warn', message: string) => void
}

/**
 * Registers the agent's own services and checks: validates them with Consul's rules, starts
 * their runners, and keeps config-file registrations apart from HTTP ones so a reload never
 * touches what was registered over HTTP.
 */
export class LocalRegistry implements AgentOps {
  readonly #o: RegistryOptions
  readonly #alias: AliasSource

  constructor(opts: RegistryOptions) {
    this.#o = opts
    const { local, remote } = opts
    this.#alias = {
      subscribe: (node, _serviceId, onChange) => (node ? remote().onNodeChange(node, onChange) : local.watches.watchKey('local', onChange)),
      checks: (node, serviceId) => {
        if (node) return remote().nodeChecksNow(node).filter((c) => !serviceId || c.ServiceID === serviceId).map((c) => ({ checkId: c.CheckID, status: c.Status }))
        return [...local.checks.values()].filter((c) => c.spec.record.ServiceID === serviceId).map((c) => ({ checkId: c.spec.record.CheckID, status: c.status }))
      },
    }
  }

  // ---- AgentOps (HTTP registrations) -------------------------------------------------------

  registerService(def: ServiceDefinition, opts: { replaceExistingChecks: boolean }, source: Source = 'api'): void {
    for (const c of def.checks) this.#validate(c, source)
    const { checks, ...service } = def
    const { local } = this.#o
    if (opts.replaceExistingChecks) {
      const keep = new Set(checks.map((c) => c.runner.id))
      for (const [id, c] of local.checks) if (c.spec.record.ServiceID === def.ID && !keep.has(id) && c.spec.record.Type !== 'maintenance') local.removeCheck(id)
    }
    local.addService(service, source)
    for (const c of checks) this.#addCheck(c, source)
  }

  deregisterService(id: string): boolean {
    return this.#o.local.removeService(id)
  }

  registerCheck(spec: CheckSpec, source: Source = 'api'): void {
    const serviceId = spec.record.ServiceID
    if (serviceId && !this.#o.local.services.has(serviceId)) throw new HttpError(400, `ServiceID "${serviceId}" does not exist`)
    this.#validate(spec, source)
    this.#addCheck(spec, source)
  }

  deregisterCheck(id: string): boolean {
    return this.#o.local.removeCheck(id)
  }

  ttlUpdate(id: string, status: CheckStatus, output: string): void {
    const check = this.#o.local.checks.get(id)
    if (!check) throw notFound(`Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`)
    if (!check.runner || !isTtlRunner(check.runner)) throw new HttpError(500, `CheckID "${id}" does not have associated TTL`)
    check.runner.update(status, output)
  }

  nodeMaintenance(enable: boolean, reason: string): void {
    if (!enable) {
      this.#o.local.removeCheck(NODE_MAINTENANCE_ID)
      return
    }
    this.#addCheck(maintenanceCheck(NODE_MAINTENANCE_ID, 'Node Maintenance Mode', '', reason || DEFAULT_NODE_REASON), 'api')
  }

  serviceMaintenance(id: string, enable: boolean, reason: string): boolean {
    if (!this.#o.local.services.has(id)) return false
    if (!enable) this.#o.local.removeCheck(serviceMaintenanceId(id))
    else this.#addCheck(maintenanceCheck(serviceMaintenanceId(id), 'Service Maintenance Mode', id, reason || DEFAULT_SERVICE_REASON), 'api')
    return true
  }

  // ---- config files and restarts -----------------------------------------------------------

  /**
   * Makes the config-file registrations equal to `services` and `checks`: adds, replaces and
   * removes config-sourced entries; HTTP-registered ones stay untouched. Validates everything
   * before changing anything.
   */
  applyConfig(services: ServiceDefinition[], checks: CheckSpec[]): void {
    for (const s of services) for (const c of s.checks) this.#validate(c, 'config')
    for (const c of checks) this.#validate(c, 'config')
    const { local } = this.#o
    const wantServices = new Set(services.map((s) => s.ID))
    const wantChecks = new Set([...services.flatMap((s) => s.checks), ...checks].map((c) => c.runner.id))
    for (const [id, s] of local.services) if (s.source === 'config' && !wantServices.has(id)) local.removeService(id)
    for (const [id, c] of local.checks) if (c.source === 'config' && !wantChecks.has(id)) local.removeCheck(id)
    for (const s of services) {
      const existing = local.services.get(s.ID)
      if (existing?.source === 'api') continue
      this.registerService(s, { replaceExistingChecks: true }, 'config')
    }
    for (const c of checks) {
      if (local.checks.get(c.runner.id)?.source === 'api') continue
      this.registerCheck(c, 'config')
    }
  }

  /** Re-registers what was registered over HTTP before a restart, with the last known status. */
  restore(): void {
    const saved = this.#o.local.load()
    for (const s of saved.services) this.#o.local.addService(s, 'api', true)
    for (const { spec, status, output } of saved.checks) {
      try {
        this.#addCheck(spec, 'api', { status, output })
      } catch (err) {
        this.#o.log('warn', `agent: dropping persisted check ${spec.runner.id}: ${(err as Error).message}`)
      }
    }
  }

  /** Deregisters services whose check has been critical longer than its deregister_critical_service_after. */
  reapCritical(now = Date.now()): void {
    const { local } = this.#o
    for (const c of [...local.checks.values()]) {
      const after = c.spec.deregisterCriticalServiceAfterMs
      const serviceId = c.spec.record.ServiceID
      if (!after || !serviceId || c.criticalSince === undefined || now - c.criticalSince < after) continue
      this.#o.log('info', `agent: check "${c.spec.record.CheckID}" critical for more than ${after} ms; deregistering service "${serviceId}"`)
      local.removeService(serviceId)
    }
  }

  #validate(spec: CheckSpec, source: Source): void {
    const allowed = this.#o.scriptChecks()
    try {
      validateCheck(spec.runner, {
        scriptChecksAllowed: source === 'config' ? allowed.local || allowed.remote : allowed.remote,
        source: source === 'config' ? 'local' : 'remote',
      })
    } catch (err) {
      if (err instanceof CheckDefinitionError) throw new HttpError(err.httpStatus, err.message)
      throw err
    }
  }

  #addCheck(spec: CheckSpec, source: Source, state?: { status: CheckStatus; output: string }): void {
    const { local } = this.#o
    let runner: RunningCheck | undefined
    if (spec.record.Type !== 'maintenance') {
      runner = createCheckRunner(spec.runner, { update: (id, status, output) => void local.updateCheck(id, status, output) }, {
        aliasSource: this.#alias,
        ...(this.#o.httpsCa ? { httpsCa: this.#o.httpsCa } : {}),
        warn: (m) => this.#o.log('warn', `agent: ${m}`),
      })
    }
    local.addCheck(spec, source, runner, state)
  }
}

function maintenanceCheck(id: string, name: string, serviceId: string, reason: string): CheckSpec {
  return {
    runner: { id, name, status: 'critical', ...(serviceId ? { serviceId } : {}) },
    record: {
      CheckID: id,
      Name: name,
      Status: 'critical',
      Notes: reason,
      Output: '',
      ServiceID: serviceId,
      Type: 'maintenance',
      Interval: '',
      Timeout: '',
      ExposedPort: 0,
      Definition: {},
    },
    deregisterCriticalServiceAfterMs: undefined,
    token: '',
  }
}
