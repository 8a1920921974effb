/**
 * The shapes shared by every check runner: the normalized definition the agent hands in, the notifier the
 * runners report through (Consul's `CheckNotifier.UpdateCheck`), and the injected clock and alias source.
 */

export type CheckStatus = 'passing' | 'warning' | 'critical'

/** Check statuses from best to worst (maintenance worst of all): the worst one decides an aggregate. */
export const STATUS_RANK: Record<string, number> = { passing: 0, warning: 1, critical: 2, maintenance: 3 }

/** The kinds of check this library runs, in the order Consul's agent tests for them. */
/** `distributive` is ours: a checklist run in-process, with no script checks to enable. */
export type CheckKind = 'script' | 'http' | 'tcp' | 'udp' | 'ttl' | 'alias' | 'docker' | 'distributive'

/**
 * A check definition after the agent has parsed it (snake_case or PascalCase keys, Go durations).
 * Durations are milliseconds. Exactly one kind is set: `ttlMs`, `args`/`script` (with `dockerContainerId`
 * for Docker), `http`, `tcp`, `udp`, or `aliasNode`/`aliasService`.
 */
export interface CheckDefinition {
  id: string
  name: string
  serviceId?: string
  notes?: string
  /** Initial status, which the agent records at registration (Consul's default: critical). Runners do not emit it. */
  status?: CheckStatus
  intervalMs?: number
  timeoutMs?: number
  /** Script checks: argv, run without a shell. */
  args?: string[]
  /** Legacy script checks: one command line, run through `/bin/sh -c`. */
  script?: string
  /** Docker checks with `script`: the shell inside the container (default /bin/sh). */
  shell?: string
  http?: string
  method?: string
  header?: Record<string, string[]>
  body?: string
  tlsSkipVerify?: boolean
  tlsServerName?: string
  disableRedirects?: boolean
  tcp?: string
  udp?: string
  ttlMs?: number
  aliasNode?: string
  aliasService?: string
  dockerContainerId?: string
  /** Path of a distributive checklist to run in-process (our check type; exit mapping as a script's). */
  distributive?: string
  /** Bytes of output kept per run; default 4096. */
  outputMaxSize?: number
  successBeforePassing?: number
  failuresBeforeWarning?: number
  failuresBeforeCritical?: number
}

/** Receives every status a runner decides on. Must be idempotent: the same status may be reported again. */
export interface CheckNotifier {
  update(checkId: string, status: CheckStatus, output: string): void
}

/** A started check. `stop()` is idempotent; after it returns, the runner never calls its notifier again. */
export interface CheckRunner {
  start(): void
  stop(): void
}

/**
 * What `createCheckRunner` returns: a runner that also says what it is and lets callers (tests, agent
 * shutdown) wait until no probe is in flight, so every child process and socket it made has been closed.
 */
export interface RunningCheck extends CheckRunner {
  readonly kind: CheckKind
  /** Resolves once no probe is running (immediately if none is). Use after `stop()` to await cleanup. */
  idle(): Promise<void>
}

/** A TTL check: the application reports its own health; silence for longer than the TTL means critical. */
export interface TtlCheckRunner extends RunningCheck {
  readonly kind: 'ttl'
  /** Each of these reports at once, records the (truncated) output and restarts the TTL. Returns the output kept. */
  pass(note?: string): string
  warn(note?: string): string
  fail(note?: string): string
  update(status: CheckStatus, output?: string): string
}

/** Timers the runners use; injected so tests can drive TTLs, intervals and staggering without sleeping. */
export interface CheckClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /**
   * When set, interval checks fire on multiples of this many ms, so checks due close together
   * share one event-loop wakeup (a thousand checks at 10s: ~10 wakeups a second, not 100).
   */
  wakeupGranularityMs?: number
}

/** One check as an alias source reports it. Only `status` and `checkId` are required. */
export interface AliasedCheck {
  status: CheckStatus
  checkId: string
  name?: string
  output?: string
  /** The service the check belongs to; empty or absent for node-level checks. */
  serviceId?: string
}

/**
 * Where alias checks read the checks they mirror. `node` undefined means this agent's node.
 * `checks` returns the aliased service's checks and the node-level checks of that node (as Consul counts
 * both); with `serviceId` empty it returns the node's checks alone.
 */
export interface AliasSource {
  subscribe(node: string | undefined, serviceId: string, onChange: () => void): () => void
  checks(node: string | undefined, serviceId: string): AliasedCheck[]
  /** Optional: whether the service exists at all; when it does not, the alias is critical (as Consul). */
  serviceExists?(node: string | undefined, serviceId: string): boolean
}

/** Everything a runner needs from outside. All optional except `aliasSource` for alias checks. */
export interface CheckDeps {
  clock?: CheckClock
  /** Uniform in [0, 1); used for the first-run stagger. Default Math.random. */
  random?: () => number
  aliasSource?: AliasSource
  /** Docker Engine API unix socket. Default /var/run/docker.sock. */
  dockerSocket?: string
  /** Extra CA certificates (PEM) trusted by HTTPS checks, e.g. the agent's `ca_file`. */
  httpsCa?: string | Buffer | Array<string | Buffer>
  /** Where non-fatal remarks go (an interval raised to the minimum). Default: dropped. */
  warn?: (message: string) => void
}

/**
 * A check definition the agent must refuse. `message` is the text Consul answers with; `httpStatus` the
 * status Consul's agent endpoint uses for it (400 for a malformed definition, which Consul rejects in the
 * handler; 500 for refusals Consul's agent raises while adding the check, such as disabled script
 * checks); `field` names the offending definition field in Consul's spelling.
 */
export class CheckDefinitionError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly httpStatus: 400 | 500 = 400,
  ) {
    super(message)
    this.name = 'CheckDefinitionError'
  }
}
