/** The agent's log levels (hclog's), shared by the logger and the HTTP monitor that asks for one. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Accepts Consul's spellings (`WARN`, `warning`, `err`). */
export function parseLogLevel(text: string): LogLevel | undefined {
  const t = text.trim().toLowerCase()
  if (t === 'warning') return 'warn'
  if (t === 'err') return 'error'
  return (LOG_LEVELS as readonly string[]).includes(t) ? (t as LogLevel) : undefined
}
