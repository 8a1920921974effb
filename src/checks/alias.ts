import { CHECK_LIMITS } from './limits.js'
import type { AliasedCheck, AliasSource, CheckClock, CheckNotifier, CheckStatus, RunningCheck } from './types.js'

/**
 * The status and output Consul's CheckAlias derives from the aliased checks: critical if any is critical,
 * else warning if any is warning, else passing (`All checks passing.`, or `No checks found.` when there
 * are none). A failing check is named: `Aliased check "<name>" failing: <output>`. When none of the
 * checks belongs to the service and the source says the service does not exist, critical
 * `Service <id> could not be found on node <node>`.
 */
export function aliasVerdict(
  checks: readonly AliasedCheck[],
  target: { serviceId: string; node?: string | undefined; serviceExists?: (() => boolean) | undefined },
): { status: CheckStatus; output: string } {
  const { serviceId, node, serviceExists } = target
  let status: CheckStatus = 'passing'
  let output = 'No checks found.'
  let serviceFound = false
  for (const chk of checks) {
    const owner = chk.serviceId ?? ''
    // A check that names its service counts only for that service; node-level checks always count.
    if (owner !== '' && owner !== serviceId) continue
    if (owner === serviceId) serviceFound = true
    if (chk.status === 'critical' || chk.status === 'warning') {
      status = chk.status
      output = `Aliased check "${chk.name ?? chk.checkId}" failing: ${chk.output ?? ''}`
      if (chk.status === 'critical') break
    } else if (status === 'passing') {
      output = 'All checks passing.'
    }
  }
  if (!serviceFound && serviceExists !== undefined && !serviceExists()) {
    return { status: 'critical', output: `Service ${serviceId} could not be found on node ${node ?? ''}` }
  }
  return { status, output }
}

/**
 * An alias check: mirrors another service's (or node's) health. It evaluates at start, on every change
 * the source signals, and at least every `aliasRefreshMs` in case a change was missed. Reports go straight
 * to the notifier; Consul applies no thresholds to aliases.
 */
export class AliasRunner implements RunningCheck {
  readonly kind = 'alias' as const
  readonly #checkId: string
  readonly #node: string | undefined
  readonly #serviceId: string
  readonly #source: AliasSource
  readonly #notifier: CheckNotifier
  readonly #clock: CheckClock
  #unsubscribe: (() => void) | undefined
  #timer: unknown
  #started = false
  #stopped = false

  constructor(
    checkId: string,
    opts: { node: string | undefined; serviceId: string; source: AliasSource; notifier: CheckNotifier; clock: CheckClock },
  ) {
    this.#checkId = checkId
    this.#node = opts.node
    this.#serviceId = opts.serviceId
    this.#source = opts.source
    this.#notifier = opts.notifier
    this.#clock = opts.clock
  }

  start(): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    this.#unsubscribe = this.#source.subscribe(this.#node, this.#serviceId, () => this.#evaluate())
    this.#evaluate()
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  idle(): Promise<void> {
    return Promise.resolve()
  }

  #evaluate(): void {
    if (this.#stopped) return
    const src = this.#source
    const exists = src.serviceExists ? () => src.serviceExists!(this.#node, this.#serviceId) : undefined
    let verdict: { status: CheckStatus; output: string }
    try {
      verdict = aliasVerdict(src.checks(this.#node, this.#serviceId), { serviceId: this.#serviceId, node: this.#node, serviceExists: exists })
    } catch (err) {
      verdict = { status: 'critical', output: `Failure checking aliased node or service: ${(err as Error).message}` }
    }
    this.#notifier.update(this.#checkId, verdict.status, verdict.output)
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#evaluate()
    }, CHECK_LIMITS.aliasRefreshMs)
  }
}
