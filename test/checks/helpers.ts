import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCheckRunner, type CheckDefinition, type CheckDeps, type CheckClock, type CheckNotifier, type CheckStatus } from '../../src/checks/index.js'

export interface Update {
  checkId: string
  status: CheckStatus
  output: string
}

/** A notifier that records every update and lets a test await the next one. */
export class Recorder implements CheckNotifier {
  readonly updates: Update[] = []
  #read = 0
  #waiters: Array<() => void> = []

  update(checkId: string, status: CheckStatus, output: string): void {
    this.updates.push({ checkId, status, output })
    for (const w of this.#waiters.splice(0)) w()
  }

  /** The next update not yet consumed by `next()`, waiting for it if needed. */
  async next(): Promise<Update> {
    while (this.#read >= this.updates.length) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
    }
    return this.updates[this.#read++]!
  }
}

/** Virtual time: timers fire only when the test advances the clock. */
export class FakeClock implements CheckClock {
  #now = 0
  #seq = 0
  readonly #timers = new Map<number, { at: number; fn: () => void }>()

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq
    this.#timers.set(id, { at: this.#now + ms, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Delays of the pending timers, from now. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b)
  }

  /** Moves time forward, firing due timers in order (including ones they schedule within the window). */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      let nextId: number | undefined
      let next: { at: number; fn: () => void } | undefined
      for (const [id, t] of this.#timers) {
        if (t.at <= end && (next === undefined || t.at < next.at)) {
          next = t
          nextId = id
        }
      }
      if (next === undefined || nextId === undefined) break
      this.#timers.delete(nextId)
      this.#now = next.at
      next.fn()
    }
    this.#now = end
  }
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `checks-${prefix}-`))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Runs one probe of an interval check on the real clock (the stagger forced to 0, an interval long enough
 * that no second run starts), stops the runner and waits until its process or sockets are gone.
 */
export async function runOnce(def: Partial<CheckDefinition>, deps: CheckDeps = {}): Promise<Update> {
  const rec = new Recorder()
  const full: CheckDefinition = { id: 'c1', name: 'c1', intervalMs: 60_000, ...def }
  const runner = createCheckRunner(full, rec, { random: () => 0, ...deps })
  runner.start()
  try {
    return await rec.next()
  } finally {
    runner.stop()
    await runner.idle()
  }
}
