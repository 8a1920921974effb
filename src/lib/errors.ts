/**
 * Every error a user can see is defined here, once. HTTP handlers throw HttpError;
 * the server turns it into a text/plain answer with Consul's status and message.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message)
export const forbidden = (message = 'Permission denied'): HttpError => new HttpError(403, message)
export const notFound = (message: string): HttpError => new HttpError(404, message)
export const unknownPath = (): HttpError => new HttpError(404, 'Invalid URL path: not a recognized HTTP API endpoint')
export const methodNotAllowed = (method: string, allow: readonly string[]): HttpError =>
  new HttpError(405, `method ${method} not allowed`, { Allow: allow.join(',') })
export const tooLarge = (message: string): HttpError => new HttpError(413, message)
export const noLeader = (): HttpError => new HttpError(500, 'No cluster leader')
export const noPathToDatacenter = (): HttpError => new HttpError(500, 'No path to datacenter')

/** A config file, key or flag value that cannot be used. Names where and why. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${source}: ${key ? `${key}: ` : ''}${reason}`)
    this.name = 'ConfigError'
  }
}

/** A request to an agent that failed: carries the HTTP status (0 when nothing answered). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/**
 * The log or snapshot store on disk is unusable: the agent must not start on it. `transient`: the
 * disk was full and the write rolled back whole, so the same write may be tried again later.
 */
export class StorageError extends Error {
  readonly transient: boolean
  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options)
    this.name = 'StorageError'
    this.transient = options?.transient ?? false
  }
}

/** A full disk (SQLite's SQLITE_FULL, or ENOSPC from a file write): nothing was written. */
export const isDiskFull = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | undefined)?.code
  return code === 'SQLITE_FULL' || code === 'ENOSPC'
}
