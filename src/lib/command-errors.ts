import { Errors, type Command } from '@oclif/core'

/**
 * Prints a command's failure as one plain line on stderr (no oclif banner, no stack trace)
 * and exits with its code: the error's own exit code, or `fallbackExit`.
 * An ExitError (from `this.exit`) passes through untouched.
 */
export function exitWithError(cmd: Command, err: Error & { oclif?: { exit?: number | false } }, fallbackExit: number, prefix = ''): never {
  if (err instanceof Errors.ExitError) throw err
  const exit = typeof err.oclif?.exit === 'number' ? err.oclif.exit : fallbackExit
  const message = err.message.split('\n').find((l) => l.trim()) ?? err.message
  cmd.logToStderr(`${prefix}${message.trim()}`)
  cmd.exit(exit)
}
