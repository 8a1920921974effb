import type { CheckDefinition, CheckStatus } from '../checks/types.js'
import type { CheckInput, CheckDefinitionRecord, ServiceInput } from '../state/catalog.js'
import { parseDurationMs, formatDurationMs } from '../lib/duration.js'
import { HttpError } from '../lib/errors.js'

/**
 * Service and check definitions as users write them: config files in snake_case, HTTP bodies in
 * any case (Go's encoding/json), with Consul's aliases (`ScriptArgs`/`args`, `CheckID`/`id`).
 * Parsing turns them into one normalized shape, or a DefinitionError naming the field.
 */
export class DefinitionError extends HttpError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(400, `Invalid ${field}: ${reason}`)
    this.name = 'DefinitionError'
  }
}

/** A service as the agent keeps it locally. */
export interface ServiceDefinition extends ServiceInput {
  checks: CheckSpec[]
  token: string
}

/** A check as the agent keeps it: what the runner needs, and the catalog fields. */
export interface CheckSpec {
  runner: CheckDefinition
  /** The catalog shape, without Node/ServiceName/ServiceTags (filled in at sync). */
  record: CheckInput
  deregisterCriticalServiceAfterMs: number | undefined
  token: string
}

const norm = (k: string): string => k.replace(/_/g, '').toLowerCase()

/** Case- and underscore-insensitive field access over a JSON object. */
class Fields {
  readonly #map = new Map<string, unknown>()
  constructor(
    raw: unknown,
    readonly where: string,
  ) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new DefinitionError(where || 'definition', 'must be a JSON object')
    for (const [k, v] of Object.entries(raw)) this.#map.set(norm(k), v)
  }

  get(...names: string[]): unknown {
    for (const n of names) {
      const v = this.#map.get(norm(n))
      if (v !== undefined && v !== null) return v
    }
    return undefined
  }

  #name(field: string): string {
    return this.where ? `${this.where}.${field}` : field
  }

  str(field: string, ...aliases: string[]): string | undefined {
    const v = this.get(field, ...aliases)
    if (v === undefined) return undefined
    if (typeof v !== 'string') throw new DefinitionError(this.#name(field), 'must be a string')
    return v
  }

  int(field: string, min: number, max: number, ...aliases: string[]): number | undefined {
    const v = this.get(field, ...aliases)
    if (v === undefined) return undefined
    const n = typeof v === 'bigint' ? Number(v) : v
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new DefinitionError(this.#name(field), `must be an integer between ${min} and ${max}`)
    return n
  }

  bool(field: string, ...aliases: string[]): boolean | undefined {
    const v = this.get(field, ...aliases)
    if (v === undefined) return undefined
    if (typeof v !== 'boolean') throw new DefinitionError(this.#name(field), 'must be true or false')
    return v
  }

  strings(field: string, ...aliases: string[]): string[] | undefined {
    const v = this.get(field, ...aliases)
    if (v === undefined) return undefined
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new DefinitionError(this.#name(field), 'must be a list of strings')
    return v as string[]
  }

  stringMap(field: string): Record<string, string> | undefined {
    const v = this.get(field)
    if (v === undefined) return undefined
    if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string'))
      throw new DefinitionError(this.#name(field), 'must be an object of strings')
    return v as Record<string, string>
  }

  /** Go durations as strings, or integers in nanoseconds (how Go marshals time.Duration). */
  durationMs(field: string, ...aliases: string[]): number | undefined {
    const v = this.get(field, ...aliases)
    if (v === undefined || v === '') return undefined
    if (typeof v === 'number') return v / 1e6
    if (typeof v !== 'string') throw new DefinitionError(this.#name(field), 'must be a duration such as "10s"')
    try {
      return parseDurationMs(v)
    } catch {
      throw new DefinitionError(this.#name(field), `"${v}" is not a duration such as "10s"`)
    }
  }

  objects(...names: string[]): unknown[] {
    const out: unknown[] = []
    for (const n of names) {
      const v = this.get(n)
      if (v === undefined) continue
      if (Array.isArray(v)) out.push(...v)
      else out.push(v)
    }
    return out
  }
}

const STATUSES: readonly CheckStatus[] = ['passing', 'warning', 'critical']

/** Parses one check. `service` gives the default ID/name of a check inside a service definition. */
export function parseCheck(raw: unknown, opts: { where?: string; service?: { id: string; name: string; ordinal: number | undefined } } = {}): CheckSpec {
  const f = new Fields(raw, opts.where ?? '')
  const svc = opts.service
  const defaultId = svc ? (svc.ordinal === undefined ? `service:${svc.id}` : `service:${svc.id}:${svc.ordinal}`) : undefined
  const name = f.str('Name') ?? (svc ? `Service '${svc.name}' check` : undefined)
  const id = f.str('CheckID', 'ID') ?? defaultId ?? name
  if (!name && !id) throw new DefinitionError(opts.where ? `${opts.where}.Name` : 'Name', 'a check needs a name')
  const status = f.str('Status')
  if (status !== undefined && status !== '' && !STATUSES.includes(status as CheckStatus)) throw new DefinitionError('Status', `"${status}" is not one of passing, warning, critical`)
  const header = f.get('Header')
  if (header !== undefined && (typeof header !== 'object' || Array.isArray(header) || !Object.values(header as object).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'))))
    throw new DefinitionError('Header', 'must map header names to lists of strings')
  const script = f.str('Script')
  const runner: CheckDefinition = {
    id: id!,
    name: name ?? id!,
    serviceId: svc?.id ?? f.str('ServiceID'),
    notes: f.str('Notes'),
    status: (status || 'critical') as CheckStatus,
    intervalMs: f.durationMs('Interval'),
    timeoutMs: f.durationMs('Timeout'),
    args: f.strings('Args', 'ScriptArgs'),
    script,
    shell: f.str('Shell'),
    http: f.str('HTTP'),
    method: f.str('Method'),
    header: header as Record<string, string[]> | undefined,
    body: f.str('Body'),
    tlsSkipVerify: f.bool('TLSSkipVerify'),
    tlsServerName: f.str('TLSServerName'),
    disableRedirects: f.bool('DisableRedirects'),
    tcp: f.str('TCP'),
    udp: f.str('UDP'),
    ttlMs: f.durationMs('TTL'),
    aliasNode: f.str('AliasNode'),
    aliasService: f.str('AliasService'),
    dockerContainerId: f.str('DockerContainerID'),
    distributive: f.str('Distributive'),
    outputMaxSize: f.int('OutputMaxSize', 0, 1 << 30),
    successBeforePassing: f.int('SuccessBeforePassing', 0, 1 << 20),
    failuresBeforeWarning: f.int('FailuresBeforeWarning', 0, 1 << 20),
    failuresBeforeCritical: f.int('FailuresBeforeCritical', 0, 1 << 20),
  }
  for (const k of Object.keys(runner) as Array<keyof CheckDefinition>) if (runner[k] === undefined) delete runner[k]
  const definition: CheckDefinitionRecord = {}
  if (runner.http) Object.assign(definition, { HTTP: runner.http, Header: runner.header, Method: runner.method, Body: runner.body, TLSServerName: runner.tlsServerName, TLSSkipVerify: runner.tlsSkipVerify })
  if (runner.tcp) definition.TCP = runner.tcp
  if (runner.udp) definition.UDP = runner.udp
  if (runner.intervalMs) definition.Interval = formatDurationMs(runner.intervalMs)
  if (runner.timeoutMs) definition.Timeout = formatDurationMs(runner.timeoutMs)
  const deregisterAfter = f.durationMs('DeregisterCriticalServiceAfter')
  if (deregisterAfter) definition.DeregisterCriticalServiceAfter = formatDurationMs(deregisterAfter)
  for (const k of Object.keys(definition) as Array<keyof CheckDefinitionRecord>) if (definition[k] === undefined) delete definition[k]
  return {
    runner,
    record: {
      CheckID: runner.id,
      Name: runner.name,
      Status: runner.status ?? 'critical',
      Notes: runner.notes ?? '',
      Output: '',
      ServiceID: runner.serviceId ?? '',
      Type: kindOf(runner),
      Interval: runner.intervalMs ? formatDurationMs(runner.intervalMs) : '',
      Timeout: runner.timeoutMs ? formatDurationMs(runner.timeoutMs) : '',
      ExposedPort: 0,
      Definition: definition,
    },
    deregisterCriticalServiceAfterMs: deregisterAfter,
    token: f.str('Token') ?? '',
  }
}

/** Consul's check Type names. */
export function kindOf(def: CheckDefinition): string {
  if (def.ttlMs !== undefined) return 'ttl'
  if (def.dockerContainerId) return 'docker'
  if (def.args || def.script) return 'script'
  if (def.http) return 'http'
  if (def.tcp) return 'tcp'
  if (def.udp) return 'udp'
  if (def.distributive) return 'distributive'
  if (def.aliasNode || def.aliasService) return 'alias'
  return ''
}

/** Parses a service definition with its checks (`check` and `checks`). */
export function parseService(raw: unknown, where = ''): ServiceDefinition {
  const f = new Fields(raw, where)
  const name = f.str('Name', 'Service')
  if (!name) throw new DefinitionError(where ? `${where}.Name` : 'Name', 'Missing service name')
  const id = f.str('ID') || name
  const weights = f.get('Weights')
  let Weights = { Passing: 1, Warning: 1 }
  if (weights !== undefined) {
    const w = new Fields(weights, 'Weights')
    Weights = { Passing: w.int('Passing', 1, 65535) ?? 1, Warning: w.int('Warning', 0, 65535) ?? 1 }
  }
  const tagged = f.get('TaggedAddresses')
  const TaggedAddresses: Record<string, { Address: string; Port: number }> = {}
  if (tagged !== undefined) {
    if (typeof tagged !== 'object' || Array.isArray(tagged)) throw new DefinitionError('TaggedAddresses', 'must be an object')
    for (const [k, v] of Object.entries(tagged as object)) {
      const t = new Fields(v, `TaggedAddresses.${k}`)
      TaggedAddresses[k] = { Address: t.str('Address') ?? '', Port: t.int('Port', 0, 65535) ?? 0 }
    }
  }
  const rawChecks = f.objects('Check', 'Checks')
  const checks = rawChecks.map((c, i) =>
    parseCheck(c, { where: `Checks[${i}]`, service: { id, name, ordinal: rawChecks.length > 1 ? i + 1 : undefined } }),
  )
  return {
    ID: id,
    Service: name,
    Tags: f.strings('Tags') ?? [],
    Address: f.str('Address') ?? '',
    TaggedAddresses,
    Meta: f.stringMap('Meta') ?? {},
    Port: f.int('Port', 0, 65535) ?? 0,
    Weights,
    EnableTagOverride: f.bool('EnableTagOverride') ?? false,
    Kind: f.str('Kind') ?? '',
    checks,
    token: f.str('Token') ?? '',
  }
}
