import { posix } from 'node:path'
import { ApiError } from '../lib/errors.js'
import { encodeKey, type ConsulClient, type KvPair } from './client.js'

/**
 * Consul's api.Lock and api.Semaphore recipes over the public KV and session API, so `consul lock`
 * interoperates with HashiCorp's CLI and Go clients on the same prefix: the same keys, flags and
 * semaphore JSON.
 */

/** api.LockFlagValue. */
export const LOCK_FLAG = 0x2ddccbc058a50c18n
/** api.SemaphoreFlagValue. */
export const SEMAPHORE_FLAG = 0xe0f69a2baa414de0n
/** Pause between monitor retries after a 5xx (Consul's defaultMonitorRetryTime). */
const MONITOR_RETRY_MS = 1_000

export class Aborted extends Error {}

/** A conflict or "in use" outcome worded as Consul's errors are. */
export class LockError extends Error {}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Aborted())
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(new Aborted())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

const hasFlag = (flags: number | bigint | undefined, want: bigint): boolean => flags !== undefined && BigInt(flags) === want
const retryable = (err: unknown): boolean => !(err instanceof ApiError) || err.status === 0 || err.status >= 500

export interface AcquireOptions {
  /** Give up after this long (0: never). */
  timeoutMs: number
  /** Wait after an acquire refused on a free key (lock-delay). */
  retryMs: number
  signal: AbortSignal
}

/** What `consul lock` needs from a lock or a semaphore. */
export interface Holder {
  readonly key: string
  /** True once held; false on timeout or abort. Throws on conflicts and agent errors. */
  acquire(session: string, opts: AcquireOptions): Promise<boolean>
  /** Resolves after aborting `lost` once the slot is no longer ours (or when `signal` stops it). */
  monitor(session: string, retries: number, signal: AbortSignal, lost: AbortController): Promise<void>
  release(session: string): Promise<void>
  /** Removes the lock key when nobody uses it; false when it is still in use. */
  cleanup(): Promise<boolean>
}

/** One blocking read of a key: the pair (if any) and the index to wait on next. */
async function readKey(client: ConsulClient, key: string, index: number, wait: string | undefined, signal?: AbortSignal): Promise<{ pair: KvPair | undefined; index: number }> {
  const res = await client.read<KvPair[]>(`/v1/kv/${encodeKey(key)}`, { index, wait, allow404: true, signal })
  return { pair: res.value?.[0], index: res.index ?? 0 }
}

async function readPrefix(client: ConsulClient, prefix: string, index: number, wait: string | undefined, signal?: AbortSignal): Promise<{ pairs: KvPair[]; index: number }> {
  const res = await client.read<KvPair[]>(`/v1/kv/${encodeKey(prefix)}`, { index, wait, allow404: true, signal, query: { recurse: true } })
  return { pairs: res.value ?? [], index: res.index ?? 0 }
}

/** The remaining wait of a one-shot acquisition as a query `wait`, or null once it has run out. */
function waitLeft(start: number, timeoutMs: number, attempts: number): string | undefined | null {
  if (timeoutMs <= 0 || attempts === 0) return undefined
  const left = timeoutMs - (Date.now() - start)
  return left <= 0 ? null : `${Math.max(1, Math.ceil(left))}ms`
}

/** A mutual-exclusion lock on `<prefix>/.lock` (api.Lock). */
export class KeyLock implements Holder {
  readonly key: string
  constructor(
    private readonly client: ConsulClient,
    prefix: string,
  ) {
    // The semaphore's key name, so a lock and a semaphore on one prefix conflict visibly.
    this.key = posix.join(prefix, '.lock')
  }

  async acquire(session: string, opts: AcquireOptions): Promise<boolean> {
    const start = Date.now()
    let index = 0
    let attempts = 0
    try {
      for (;;) {
        if (opts.signal.aborted) return false
        const wait = waitLeft(start, opts.timeoutMs, attempts)
        if (wait === null) return false
        attempts++
        const cur = await readKey(this.client, this.key, index, wait, opts.signal)
        if (cur.pair && !hasFlag(cur.pair.Flags, LOCK_FLAG)) throw new LockError('Existing key does not match lock use')
        if (cur.pair?.Session === session) return true
        if (cur.pair?.Session) {
          // Held: wait for a change. An index that went backwards restarts the wait.
          index = cur.index < index ? 0 : cur.index
          continue
        }
        if (await this.client.kvPut(this.key, '', { flags: LOCK_FLAG.toString(), acquire: session })) return true
        const why = await readKey(this.client, this.key, 0, undefined, opts.signal)
        if (why.pair?.Session) {
          index = why.index
          continue
        }
        // Free but refused: the previous holder's lock-delay is still running.
        index = 0
        await sleep(opts.retryMs, opts.signal)
      }
    } catch (err) {
      if (err instanceof Aborted || opts.signal.aborted) return false
      throw err
    }
  }

  monitor(session: string, retries: number, signal: AbortSignal, lost: AbortController): Promise<void> {
    return watchHeld(
      async (index) => {
        const cur = await readKey(this.client, this.key, index, undefined, signal)
        return { index: cur.index, held: cur.pair?.Session === session }
      },
      retries,
      signal,
      lost,
    )
  }

  async release(session: string): Promise<void> {
    await this.client.kvPut(this.key, '', { flags: LOCK_FLAG.toString(), release: session })
  }

  async cleanup(): Promise<boolean> {
    const pair = await this.client.kvGet(this.key)
    if (!pair) return true
    if (!hasFlag(pair.Flags, LOCK_FLAG)) throw new LockError('Existing key does not match lock use')
    if (pair.Session) return false
    // A CAS miss means someone took it meanwhile: in use, which is fine.
    return this.client.kvDelete(this.key, { cas: pair.ModifyIndex })
  }
}

interface SemaphoreState {
  Limit: number
  Holders: Record<string, boolean>
}

/**
 * A semaphore with `limit` slots (api.Semaphore): each contender holds `<prefix>/<session>` with
 * its session, and `<prefix>/.lock` holds `{"Limit":N,"Holders":{session:true}}`, updated by CAS.
 */
export class Semaphore implements Holder {
  readonly key: string
  constructor(
    private readonly client: ConsulClient,
    private readonly prefix: string,
    private readonly limit: number,
  ) {
    this.key = posix.join(prefix, '.lock')
  }

  private findLock(pairs: readonly KvPair[]): KvPair | undefined {
    return pairs.find((p) => p.Key === this.key)
  }

  private decode(pair: KvPair | undefined): SemaphoreState {
    if (!pair || pair.Value === null) return { Limit: this.limit, Holders: {} }
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.from(pair.Value, 'base64').toString('utf8'))
    } catch (err) {
      throw new LockError(`lock decoding failed: ${(err as Error).message}`)
    }
    const s = parsed as Partial<SemaphoreState>
    return { Limit: Number(s.Limit ?? 0), Holders: { ...(s.Holders ?? {}) } }
  }

  /** Holders whose contender key no longer carries a session are gone (their session died). */
  private prune(state: SemaphoreState, pairs: readonly KvPair[]): void {
    const alive = new Set(pairs.filter((p) => p.Session).map((p) => p.Session!))
    for (const h of Object.keys(state.Holders)) if (!alive.has(h)) delete state.Holders[h]
  }

  /** Go's json.Marshal of the state: Limit first, holders sorted. */
  private encode(state: SemaphoreState): string {
    const holders: Record<string, boolean> = {}
    for (const h of Object.keys(state.Holders).sort()) holders[h] = true
    return JSON.stringify({ Limit: state.Limit, Holders: holders })
  }

  async acquire(session: string, opts: AcquireOptions): Promise<boolean> {
    const contender = posix.join(this.prefix, session)
    if (!(await this.client.kvPut(contender, '', { flags: SEMAPHORE_FLAG.toString(), acquire: session })))
      throw new LockError('failed to make contender entry: <nil>')
    const start = Date.now()
    let index = 0
    let attempts = 0
    try {
      for (;;) {
        if (opts.signal.aborted) return false
        const wait = waitLeft(start, opts.timeoutMs, attempts)
        if (wait === null) return false
        attempts++
        const cur = await readPrefix(this.client, this.prefix, index, wait, opts.signal)
        const lockPair = this.findLock(cur.pairs)
        if (lockPair && !hasFlag(lockPair.Flags, SEMAPHORE_FLAG)) throw new LockError('Existing key does not match semaphore use')
        const state = this.decode(lockPair)
        if (state.Limit !== this.limit) throw new LockError(`semaphore limit conflict (lock: ${state.Limit}, local: ${this.limit})`)
        this.prune(state, cur.pairs)
        if (state.Holders[session]) return true
        if (Object.keys(state.Holders).length >= state.Limit) {
          index = cur.index < index ? 0 : cur.index
          continue
        }
        state.Holders[session] = true
        const ok = await this.client.kvPut(this.key, this.encode(state), { flags: SEMAPHORE_FLAG.toString(), cas: lockPair?.ModifyIndex ?? 0 })
        if (ok) return true
        // Lost a race with another contender: read again at once.
        index = 0
      }
    } catch (err) {
      if (err instanceof Aborted || opts.signal.aborted) return false
      throw err
    }
  }

  monitor(session: string, retries: number, signal: AbortSignal, lost: AbortController): Promise<void> {
    return watchHeld(
      async (index) => {
        const cur = await readPrefix(this.client, this.prefix, index, undefined, signal)
        const state = this.decode(this.findLock(cur.pairs))
        this.prune(state, cur.pairs)
        return { index: cur.index, held: Boolean(state.Holders[session]) }
      },
      retries,
      signal,
      lost,
    )
  }

  async release(session: string): Promise<void> {
    for (;;) {
      const pair = await this.client.kvGet(this.key)
      const state = this.decode(pair)
      if (!state.Holders[session]) break
      delete state.Holders[session]
      if (await this.client.kvPut(this.key, this.encode(state), { flags: SEMAPHORE_FLAG.toString(), cas: pair?.ModifyIndex ?? 0 })) break
    }
    await this.client.kvDelete(posix.join(this.prefix, session))
  }

  async cleanup(): Promise<boolean> {
    const { pairs } = await readPrefix(this.client, this.prefix, 0, undefined)
    const lockPair = this.findLock(pairs)
    if (!lockPair) return true
    if (!hasFlag(lockPair.Flags, SEMAPHORE_FLAG)) throw new LockError('Existing key does not match semaphore use')
    const state = this.decode(lockPair)
    this.prune(state, pairs)
    if (Object.keys(state.Holders).length > 0) return false
    return this.client.kvDelete(this.key, { cas: lockPair.ModifyIndex })
  }
}

/**
 * Watches with blocking reads while the lock (or semaphore slot) is held, and aborts `lost`
 * when it is not, or when reads keep failing after `retries` retries (Consul's -monitor-retry).
 */
async function watchHeld(
  read: (index: number) => Promise<{ index: number; held: boolean }>,
  retries: number,
  signal: AbortSignal,
  lost: AbortController,
): Promise<void> {
  let index = 0
  let left = retries
  while (!signal.aborted) {
    try {
      const cur = await read(index)
      left = retries
      if (!cur.held) return void lost.abort()
      index = cur.index < index ? 0 : cur.index
    } catch (err) {
      if (signal.aborted) return
      if (retryable(err) && left > 0) {
        left--
        index = 0
        await sleep(MONITOR_RETRY_MS, signal).catch(() => undefined)
        continue
      }
      return void lost.abort()
    }
  }
}
