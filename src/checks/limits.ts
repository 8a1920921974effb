/**
 * Every bound the check runners enforce, named once. Values follow Consul's `agent/checks` where Consul
 * has one (MinInterval, DefaultBufSize, the per-kind default timeouts); the rest are ours and say why.
 */
export const CHECK_LIMITS = {
  /** Consul's `checks.MinInterval`: shorter intervals are raised to this (with a warning) so a typo cannot fork-bomb. */
  minIntervalMs: 1_000,
  /** Interval checks run on a 100 ms grid (at most that much late) so a thousand of them share wakeups. */
  wakeupGranularityMs: 100,
  /** Consul's `checks.DefaultBufSize`: output kept per run unless `output_max_size` says otherwise. */
  defaultOutputMaxSize: 4 * 1024,
  /** Script (and, ours, Docker exec) checks: Consul's CheckMonitor default timeout. */
  defaultScriptTimeoutMs: 30_000,
  /** HTTP, TCP and UDP checks: the default client/dialer timeout in Consul. */
  defaultNetTimeoutMs: 10_000,
  /** Redirects an HTTP check follows before failing, as Go's http.Client. */
  httpMaxRedirects: 10,
  /**
   * Bytes of an HTTP check's response body read before we stop; only the last `outputMaxSize` are kept.
   * Consul reads until its timeout; a cap keeps an endless body from costing a whole timeout of CPU.
   */
  httpBodyReadMax: 16 * 1024 * 1024,
  /** Bytes of a Docker Engine API JSON answer (create/inspect exec) we parse; real answers are < 4 KB. */
  dockerJsonMax: 1024 * 1024,
  /** Alias checks re-read the aliased checks at least this often, in case a change event was missed (Consul: 1m). */
  aliasRefreshMs: 60_000,
  /** Bytes read from the script wrapper's exit-status pipe (a decimal number and a newline). */
  exitStatusMax: 64,
} as const
