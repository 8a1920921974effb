/**
 * Check runners: the library the agent uses to run a service's health checks and report their status,
 * as Consul's `agent/checks`. The agent validates a definition (`validateCheck`), records its initial
 * status (`initialStatus`), then creates and starts a runner that reports every later status through the
 * CheckNotifier it was given.
 *
 * @example
 * validateCheck(def, { scriptChecksAllowed: config.enableLocalScriptChecks })
 * const runner = createCheckRunner(def, { update: (id, status, output) => state.updateCheck(id, status, output) })
 * runner.start()
 * // later: runner.stop(); await runner.idle()
 */
import { AliasRunner } from './alias.js'
import { dockerProbe } from './docker.js'
import { httpProbe } from './http.js'
import { IntervalRunner, realClock, type Probe } from './interval.js'
import { CHECK_LIMITS } from './limits.js'
import { tcpProbe, udpProbe } from './net.js'
import { scriptProbe } from './script.js'
import { StatusHandler } from './status-handler.js'
import { TtlRunner } from './ttl.js'
import { truncateHead } from './output.js'
import type { CheckDefinition, CheckDeps, CheckNotifier, CheckStatus, RunningCheck, TtlCheckRunner } from './types.js'
import { checkType, DEFAULT_DOCKER_SOCKET } from './validate.js'

export * from './types.js'
export { CHECK_LIMITS } from './limits.js'
export { StatusHandler, type Thresholds } from './status-handler.js'
export { aliasVerdict } from './alias.js'
export { checkType, validateCheck, isScript, DEFAULT_DOCKER_SOCKET, type ValidateOptions } from './validate.js'

/** The status a check has from registration until its runner first reports: the definition's, else critical. */
export function initialStatus(def: CheckDefinition): CheckStatus {
  return def.status ?? 'critical'
}

/** True for the runner of a TTL check, which takes pass/warn/fail/update. */
export function isTtlRunner(runner: RunningCheck): runner is TtlCheckRunner {
  return runner.kind === 'ttl'
}

/**
 * Builds the runner for a definition that passed `validateCheck`. It does nothing until `start()`.
 * Interval checks share one loop (random first delay, thresholds, no overlap); an interval below 1s is
 * raised to 1s with a warning through `deps.warn`, as Consul does.
 *
 * @throws CheckDefinitionError when the definition has no check kind; Error for an alias check without
 *   `deps.aliasSource`.
 */
export function createCheckRunner(def: CheckDefinition, notifier: CheckNotifier, deps: CheckDeps = {}): RunningCheck {
  const kind = checkType(def)
  const clock = deps.clock ?? realClock
  const outputMaxSize = def.outputMaxSize && def.outputMaxSize > 0 ? def.outputMaxSize : CHECK_LIMITS.defaultOutputMaxSize

  if (kind === 'ttl') return new TtlRunner(def.id, { ttlMs: def.ttlMs!, outputMaxSize, notifier, clock })
  if (kind === 'alias') {
    if (!deps.aliasSource) throw new Error(`check ${def.id}: alias checks need an aliasSource`)
    return new AliasRunner(def.id, {
      node: def.aliasNode || undefined,
      serviceId: def.aliasService ?? '',
      source: deps.aliasSource,
      notifier,
      clock,
    })
  }

  let intervalMs = def.intervalMs ?? 0
  if (intervalMs < CHECK_LIMITS.minIntervalMs) {
    deps.warn?.(`check "${def.id}" has interval below minimum of 1s; using 1s`)
    intervalMs = CHECK_LIMITS.minIntervalMs
  }
  const timeout = (fallback: number): number => (def.timeoutMs && def.timeoutMs > 0 ? def.timeoutMs : fallback)
  const argv = (def.args?.length ?? 0) > 0 ? def.args! : ['/bin/sh', '-c', def.script ?? '']

  let probe: Probe
  switch (kind) {
    case 'script':
      probe = scriptProbe({ argv, timeoutMs: timeout(CHECK_LIMITS.defaultScriptTimeoutMs), outputMaxSize })
      break
    case 'http':
      probe = httpProbe({
        url: def.http!,
        ...(def.method !== undefined ? { method: def.method } : {}),
        ...(def.header !== undefined ? { header: def.header } : {}),
        ...(def.body !== undefined ? { body: def.body } : {}),
        ...(def.tlsSkipVerify !== undefined ? { tlsSkipVerify: def.tlsSkipVerify } : {}),
        ...(def.tlsServerName !== undefined ? { tlsServerName: def.tlsServerName } : {}),
        ...(def.disableRedirects !== undefined ? { disableRedirects: def.disableRedirects } : {}),
        ...(deps.httpsCa !== undefined ? { ca: deps.httpsCa } : {}),
        timeoutMs: timeout(CHECK_LIMITS.defaultNetTimeoutMs),
        outputMaxSize,
      })
      break
    case 'tcp':
      probe = tcpProbe(def.tcp!, timeout(CHECK_LIMITS.defaultNetTimeoutMs))
      break
    case 'udp':
      probe = udpProbe(def.udp!, timeout(CHECK_LIMITS.defaultNetTimeoutMs))
      break
    case 'distributive': {
      const file = def.distributive!
      const perCheckMs = timeout(CHECK_LIMITS.defaultScriptTimeoutMs)
      probe = async ({ signal }) => {
        // Loaded on first use: agents without such checks never pay for the checklist engine.
        const { runDistributiveCheck } = await import('../distributive/index.js')
        const r = await runDistributiveCheck(file, { timeoutMs: perCheckMs, signal })
        return { status: r.status, output: truncateHead(r.output, outputMaxSize) }
      }
      break
    }
    case 'docker': {
      // Legacy `script` runs through the container's shell; /bin/sh unless the definition names one.
      const cmd = (def.args?.length ?? 0) > 0 ? def.args! : [def.shell || '/bin/sh', '-c', def.script ?? '']
      probe = dockerProbe({
        socketPath: deps.dockerSocket ?? DEFAULT_DOCKER_SOCKET,
        containerId: def.dockerContainerId!,
        cmd,
        timeoutMs: timeout(CHECK_LIMITS.defaultScriptTimeoutMs),
        outputMaxSize,
      })
      break
    }
  }

  // Consul routes script timeouts straight to the notifier, bypassing the thresholds; we let every result
  // through them, so a flaky timeout is tolerated exactly like any other failure.
  const handler = new StatusHandler(notifier, def.id, {
    ...(def.successBeforePassing !== undefined ? { successBeforePassing: def.successBeforePassing } : {}),
    ...(def.failuresBeforeWarning !== undefined ? { failuresBeforeWarning: def.failuresBeforeWarning } : {}),
    ...(def.failuresBeforeCritical !== undefined ? { failuresBeforeCritical: def.failuresBeforeCritical } : {}),
  })
  return new IntervalRunner({ kind, intervalMs, probe, handler, clock, random: deps.random ?? Math.random })
}
