import { statSync } from 'node:fs'
import { CheckDefinitionError, type CheckDefinition, type CheckKind } from './types.js'

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock'

const STATUSES = new Set(['passing', 'warning', 'critical'])

/** Consul's CheckType.IsScript: argv given (or, legacy, a script line). */
export function isScript(def: CheckDefinition): boolean {
  return (def.args?.length ?? 0) > 0 || (def.script ?? '') !== ''
}

function isAlias(def: CheckDefinition): boolean {
  return (def.aliasNode ?? '') !== '' || (def.aliasService ?? '') !== ''
}

/**
 * The kind of a check, decided in the order Consul's agent tests for them: TTL, HTTP, TCP, UDP, Docker
 * (a script with a container), script, alias. Throws CheckDefinitionError when no kind applies.
 */
export function checkType(def: CheckDefinition): CheckKind {
  if ((def.ttlMs ?? 0) > 0) return 'ttl'
  if ((def.http ?? '') !== '') return 'http'
  if ((def.tcp ?? '') !== '') return 'tcp'
  if ((def.udp ?? '') !== '') return 'udp'
  if (isScript(def) && (def.dockerContainerId ?? '') !== '') return 'docker'
  if (isScript(def)) return 'script'
  if ((def.distributive ?? '') !== '') return 'distributive'
  if (isAlias(def)) return 'alias'
  throw invalid('TTL', 'TTL must be > 0 for TTL checks')
}

/** Consul's agent endpoint answers a failed CheckType.Validate with 400 and this prefix. */
function invalid(field: string, reason: string): CheckDefinitionError {
  return new CheckDefinitionError(field, `Invalid check: ${reason}`, 400)
}

export interface ValidateOptions {
  /** `enable_script_checks`, or for config-file checks `enable_local_script_checks`. */
  scriptChecksAllowed: boolean
  /** Where the check came from; only changes the wording of the script refusal, as in Consul. Default 'local'. */
  source?: 'local' | 'remote'
  /** Docker Engine API socket that Docker checks will use. Default /var/run/docker.sock. */
  dockerSocket?: string
}

/**
 * Refuses a definition the agent must not register, with Consul's words. Checks, in Consul's order:
 * name and status, then CheckType.Validate (interval vs TTL, a missing interval, alias conflicts, a
 * negative output size, warning threshold above critical), then the agent's own refusals (script checks
 * disabled; a Docker check without a Docker socket). An interval below the 1s minimum is *not* an error:
 * Consul raises it with a warning, and so does createCheckRunner.
 *
 * @throws CheckDefinitionError
 */
export function validateCheck(def: CheckDefinition, opts: ValidateOptions): void {
  if ((def.name ?? '') === '') throw new CheckDefinitionError('Name', 'Missing check name', 400)
  if (def.status !== undefined && !STATUSES.has(def.status)) {
    throw new CheckDefinitionError('Status', 'Bad check status', 400)
  }

  const interval = def.intervalMs ?? 0
  const ttl = def.ttlMs ?? 0
  const intervalCheck = isScript(def) || (def.http ?? '') !== '' || (def.tcp ?? '') !== '' || (def.udp ?? '') !== '' || (def.distributive ?? '') !== ''
  const alias = isAlias(def)
  if (interval > 0 && ttl > 0) throw invalid('Interval', 'Interval and TTL cannot both be specified')
  if (intervalCheck && !(interval > 0)) {
    throw invalid('Interval', 'Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks')
  }
  if (intervalCheck && alias) {
    throw invalid((def.aliasService ?? '') !== '' ? 'AliasService' : 'AliasNode', 'Interval cannot be set for Alias checks')
  }
  if (alias && ttl > 0) throw invalid('TTL', 'TTL must be not be set for Alias checks')
  if (!intervalCheck && !alias && !(ttl > 0)) throw invalid('TTL', 'TTL must be > 0 for TTL checks')
  if ((def.outputMaxSize ?? 0) < 0) throw invalid('OutputMaxSize', 'MaxOutputMaxSize must be positive')
  for (const key of ['successBeforePassing', 'failuresBeforeWarning', 'failuresBeforeCritical'] as const) {
    const v = def[key]
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      const field = key.charAt(0).toUpperCase() + key.slice(1)
      throw invalid(field, `${field} must be a non-negative integer`)
    }
  }
  if ((def.failuresBeforeWarning ?? 0) > (def.failuresBeforeCritical ?? 0)) {
    throw invalid('FailuresBeforeWarning', "FailuresBeforeWarning can't be higher than FailuresBeforeCritical")
  }

  if (isScript(def) && !opts.scriptChecksAllowed) {
    const field = (def.args?.length ?? 0) > 0 ? 'Args' : 'Script'
    const message =
      opts.source === 'remote'
        ? "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"
        : "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"
    throw new CheckDefinitionError(field, message, 500)
  }

  if (checkType(def) === 'docker') {
    const socket = opts.dockerSocket ?? DEFAULT_DOCKER_SOCKET
    let why: string | undefined
    try {
      if (!statSync(socket).isSocket()) why = 'it is not a socket'
    } catch (err) {
      why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message
    }
    if (why !== undefined) {
      throw new CheckDefinitionError(
        'DockerContainerID',
        `Docker checks need the Docker Engine API, but the Docker socket ${socket} cannot be used: ${why}`,
        500,
      )
    }
  }
}
