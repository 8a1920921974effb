/** What every fuzz target is, and how it reports what it found. */
import type { Mutator } from './mutate.js'

export class Finding extends Error {
  /** How many inputs before this one may have caused it (an agent's log line can trail its answer). */
  constructor(message: string, readonly lookBack = 0) {
    super(message)
  }
}

export interface Target {
  name: string
  what: string
  /** Valid inputs the mutations start from. */
  corpus(): Uint8Array[]
  /** Runs one input; a live target answers with a promise. */
  run(input: Uint8Array, m: Mutator): void | Promise<void>
  /** Set up and torn down once per run (a live target starts its agent here). */
  open?(): Promise<void>
  close?(): Promise<void>
}

/** Runs `fn`; an exception that is not one of `allowed` is a finding. */
export function only(allowed: ReadonlyArray<new (...a: never[]) => Error>, fn: () => void): void {
  try {
    fn()
  } catch (err) {
    if (allowed.some((k) => err instanceof k)) return
    throw new Finding(`unexpected ${(err as Error)?.constructor?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`)
  }
}
