import { spawn, type ChildProcess } from 'node:child_process'
import { Flags } from '@oclif/core'
import { ApiCommand, datacenterFlag } from '../client/api-command.js'
import { originalTail, shapesOf, splitGoArgs } from '../client/go-args.js'
import { KeyLock, Semaphore, sleep, type Holder } from '../client/locking.js'
import { parseDurationMs, formatDurationMs } from '../lib/duration.js'

/** Between SIGTERM and SIGKILL for a child whose lock is gone (Consul's lockKillGracePeriod). */
const KILL_GRACE_MS = 5_000
/** Consul's DefaultLockRetryTime: the wait after an acquire refused by lock-delay. */
const LOCK_RETRY_MS = 5_000

export default class Lock extends ApiCommand<typeof Lock> {
  static override summary = 'Run a command while holding a lock.'
  static override description = `Acquires the lock <PREFIX>/.lock (a KV key held by a session) and runs the child command while it is held. Competing \`consul lock\` processes on the same prefix wait their turn; exactly one runs its child at a time. If the lock is lost (session invalidated, key changed, agent unreachable beyond -monitor-retry) the child gets SIGTERM and, after 5s, SIGKILL. When the child exits the lock is released, the session destroyed and the key removed when nobody else waits.

The child runs through $SHELL -c (default /bin/sh) with the words joined by spaces, unless -shell=false; it sees CONSUL_LOCK_HELD=true. Flags end at the first non-flag word, as in Go: everything after PREFIX belongs to the child.

Exit code: 0; with -child-exit-code, 2 when the child failed; 1 when the lock could not be acquired or was lost.

Extensions (not in HashiCorp's CLI): -session-ttl and -lock-delay set the session's TTL (renewed every TTL/2) and lock-delay, both 15s by default as Consul's; shorter values make failover faster. After an acquire refused by lock-delay the retry waits min(5s, -lock-delay).

With -n greater than 1 the prefix becomes a semaphore: up to N processes run their child at once. Each holds <PREFIX>/<session>, and <PREFIX>/.lock keeps {"Limit":N,"Holders":{...}} (flags 0xe0f69a2baa414de0), as HashiCorp's api.Semaphore does; every user of the prefix must pass the same -n.`
  static override usage = 'lock [options] PREFIX CHILD...'
  static override examples = [
    '<%= config.bin %> lock service/leader ./run-as-leader.sh',
    '<%= config.bin %> lock -timeout=10s jobs/backup "pg_dump db > /backups/db.sql"',
    '<%= config.bin %> lock -child-exit-code -shell=false locks/deploy make deploy',
    '<%= config.bin %> lock -session-ttl=10s -lock-delay=1s service/leader sleep 60',
    '<%= config.bin %> lock -n=3 workers/batch ./process-queue.sh',
  ]
  static override strict = false
  static override flags = {
    ...datacenterFlag,
    n: Flags.integer({ description: 'Number of concurrent holders; above 1 the lock becomes a semaphore.', default: 1 }),
    name: Flags.string({ description: 'Session name (default: generated from the child command and prefix).' }),
    timeout: Flags.string({ description: 'Give up acquiring after this long, e.g. 10s (0: wait forever).', default: '0s' }),
    try: Flags.string({ description: 'Deprecated: use -timeout.', hidden: true }),
    'child-exit-code': Flags.boolean({ description: 'Exit 2 if the child exits with an error (default: exit 0).' }),
    'monitor-retry': Flags.integer({ description: 'How many 5xx answers (1s apart) to ride out while monitoring the lock.', default: 3 }),
    'pass-stdin': Flags.boolean({ description: 'Give the child this process\'s standard input.' }),
    shell: Flags.boolean({ description: 'Run the child through $SHELL -c (-shell=false: exec the words directly).', default: true, allowNo: true }),
    verbose: Flags.boolean({ description: 'Say what happens at each step.' }),
    'session-ttl': Flags.string({ description: 'Extension: the lock session\'s TTL (at least 10s).', default: '15s' }),
    'lock-delay': Flags.string({ description: 'Extension: the lock session\'s lock-delay.', default: '15s' }),
  }

  #rest: string[] = []
  #child: ChildProcess | undefined
  #childDone: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> | undefined

  override async init(): Promise<void> {
    // Go's flag rule: our flags stop at PREFIX; the child's words are kept exactly as typed.
    const { flags, rest } = splitGoArgs(this.argv, shapesOf(ApiCommand.baseFlags, Lock.flags))
    this.#rest = originalTail(this.argv, rest.length)
    this.argv = flags
    await super.init()
  }

  async run(): Promise<void> {
    const f = this.flags
    const say = (msg: string): void => {
      if (f.verbose) this.log(msg)
    }
    if (f.n <= 0) this.error('Lock holder limit must be positive', { exit: 1 })
    if (this.#rest.length < 2) this.error('Key prefix and child command must be specified', { exit: 1 })
    const duration = (flag: string, value: string): number => {
      try {
        return parseDurationMs(value)
      } catch (err) {
        this.error(`invalid value "${value}" for flag -${flag}: ${(err as Error).message}`, { exit: 1 })
      }
    }
    const timeoutMs = duration(f.try ? 'try' : 'timeout', f.try ?? f.timeout)
    if (timeoutMs < 0) this.error('Timeout must be positive', { exit: 1 })
    if (f['monitor-retry'] < 0) this.error("Number for 'monitor-retry' must be >= 0", { exit: 1 })
    const ttlMs = duration('session-ttl', f['session-ttl'])
    const lockDelayMs = duration('lock-delay', f['lock-delay'])

    const prefix = this.#rest[0]!.replace(/^\/+/, '')
    const childWords = this.#rest.slice(1)
    const semaphore = f.n > 1
    const holder: Holder = semaphore ? new Semaphore(this.client, prefix, f.n) : new KeyLock(this.client, prefix)
    const name = f.name || `Consul lock for '${childWords.join(' ')}' at '${prefix}'`
    const oneshot = timeoutMs > 0

    try {
      await this.client.agentNodeName()
    } catch (err) {
      this.error(`Error querying Consul agent: ${(err as Error).message}`, { exit: 1 })
    }
    say(semaphore ? `Setting up semaphore (limit ${f.n}) at prefix: ${prefix}` : `Setting up lock at path: ${holder.key}`)

    // SIGINT/SIGTERM: forwarded to the child as Consul does, and the lock is given up cleanly.
    const shutdown = new AbortController()
    const onSignal = (sig: NodeJS.Signals): void => {
      if (this.#child?.pid && this.#child.exitCode === null && this.#child.signalCode === null) this.signalChild(sig)
      shutdown.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // Aborted when the session can no longer be renewed, the lock is lost, or we are done.
    const lost = new AbortController()
    const stopAll = new AbortController()

    try {
      say('Attempting lock acquisition')
      let session: string
      try {
        session = await this.client.sessionCreate({ Name: name, TTL: formatDurationMs(ttlMs), LockDelay: formatDurationMs(lockDelayMs), Behavior: 'release' })
      } catch (err) {
        this.error(`Lock acquisition failed: failed to create session: ${(err as Error).message}`, { exit: 1 })
      }
      const renewer = this.renewLoop(session, ttlMs, stopAll.signal, lost)

      let held = false
      try {
        held = await holder.acquire(session, { timeoutMs: oneshot ? timeoutMs : 0, retryMs: Math.min(LOCK_RETRY_MS, Math.max(lockDelayMs, 100)), signal: AbortSignal.any([shutdown.signal, lost.signal]) })
      } catch (err) {
        stopAll.abort()
        await renewer
        await this.client.sessionDestroy(session).catch(() => undefined)
        this.error(`Lock acquisition failed: ${(err as Error).message}`, { exit: 1 })
      }
      if (!held) {
        stopAll.abort()
        await renewer
        await this.client.sessionDestroy(session).catch(() => undefined)
        this.error('Shutdown triggered or timeout during lock acquisition', { exit: 1 })
      }

      let childCode = 0
      if (shutdown.signal.aborted) {
        this.logToStderr('Shutdown triggered during lock acquisition')
      } else {
        const monitor = holder.monitor(session, f['monitor-retry'], AbortSignal.any([stopAll.signal, lost.signal]), lost)
        const outcome = await this.runChild(childWords, { shell: f.shell, passStdin: f['pass-stdin'], say }, shutdown.signal, lost.signal)
        if (outcome === 'exited') {
          const done = await this.#childDone!
          if (done.error) {
            this.logToStderr(`Error starting handler: ${done.error.message}`)
            childCode = 2
          } else if (done.code !== 0) {
            this.logToStderr(`Error running handler: ${done.signal ? `signal: ${signalText(done.signal)}` : `exit status ${done.code}`}`)
            childCode = 2
          }
          say('Child terminated, releasing lock')
        } else {
          say(outcome === 'shutdown' ? 'Shutdown triggered, killing child' : 'Lock lost, killing child')
          await this.killChild(say)
        }
        stopAll.abort()
        await monitor
      }
      stopAll.abort()
      await renewer

      // Release, then remove the key unless someone else is already waiting on it.
      if (lost.signal.aborted) {
        await this.client.sessionDestroy(session).catch(() => undefined)
        this.error(`Lock release failed: ${semaphore ? 'Semaphore' : 'Lock'} not held`, { exit: 1 })
      }
      try {
        await holder.release(session)
      } catch (err) {
        await this.client.sessionDestroy(session).catch(() => undefined)
        this.error(`Lock release failed: ${(err as Error).message}`, { exit: 1 })
      }
      await this.client.sessionDestroy(session).catch(() => undefined)
      let cleaned: boolean
      try {
        cleaned = await holder.cleanup()
      } catch (err) {
        this.error(`Lock cleanup failed: ${(err as Error).message}`, { exit: 1 })
      }
      say(cleaned ? 'Cleanup succeeded' : 'Cleanup aborted, lock in use')
      if (f['child-exit-code'] && childCode !== 0) this.exit(childCode)
    } finally {
      stopAll.abort()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }

  /** Renews every TTL/2; when the agent no longer knows the session (or renewals fail for a whole TTL) the lock is lost. */
  private async renewLoop(session: string, ttlMs: number, stop: AbortSignal, lost: AbortController): Promise<void> {
    let lastOk = Date.now()
    let delay = ttlMs / 2
    for (;;) {
      try {
        await sleep(delay, stop)
      } catch {
        return
      }
      try {
        if (!(await this.client.sessionRenew(session))) {
          lost.abort()
          return
        }
        lastOk = Date.now()
        delay = ttlMs / 2
      } catch {
        if (Date.now() - lastOk > ttlMs) {
          lost.abort()
          return
        }
        delay = 1_000
      }
    }
  }

  /** Starts the child and resolves with what ended the wait: its exit, a shutdown, or the lock's loss. */
  private async runChild(
    words: string[],
    opts: { shell: boolean; passStdin: boolean; say: (m: string) => void },
    shutdown: AbortSignal,
    lost: AbortSignal,
  ): Promise<'exited' | 'shutdown' | 'lost'> {
    opts.say('Starting handler')
    const shell = process.env.SHELL || '/bin/sh'
    const [cmd, args] = opts.shell ? [shell, ['-c', words.join(' ')]] : [words[0]!, words.slice(1)]
    // Its own process group, so a lost lock stops the whole tree the child started, not just the shell.
    const child = spawn(cmd, args, {
      stdio: [opts.passStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      env: { ...process.env, CONSUL_LOCK_HELD: 'true' },
      detached: true,
    })
    this.#child = child
    this.#childDone = new Promise((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }))
      child.once('exit', (code, signal) => resolve({ code, signal }))
    })
    const abortedBy = (s: AbortSignal, what: 'shutdown' | 'lost'): Promise<'shutdown' | 'lost'> =>
      new Promise((resolve) => (s.aborted ? resolve(what) : s.addEventListener('abort', () => resolve(what), { once: true })))
    return Promise.race([this.#childDone.then(() => 'exited' as const), abortedBy(shutdown, 'shutdown'), abortedBy(lost, 'lost')])
  }

  private signalChild(sig: NodeJS.Signals): void {
    const pid = this.#child?.pid
    if (!pid) return
    try {
      process.kill(-pid, sig)
    } catch {
      try {
        process.kill(pid, sig)
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, a grace period, then SIGKILL (Consul's killChild). */
  private async killChild(say: (m: string) => void): Promise<void> {
    const child = this.#child
    if (!child?.pid) {
      say('No child process to kill')
      return
    }
    say(`Terminating child pid ${child.pid}`)
    this.signalChild('SIGTERM')
    const grace = new AbortController()
    const exited = await Promise.race([this.#childDone!.then(() => true), sleep(KILL_GRACE_MS, grace.signal).then(() => false, () => true)])
    grace.abort() // no stray 5s timer keeping the process alive
    if (exited) {
      say('Child terminated')
      return
    }
    say(`Child did not exit after grace period of ${KILL_GRACE_MS / 1000}s`)
    say(`Killing child pid ${child.pid}`)
    this.signalChild('SIGKILL')
    await this.#childDone
  }
}

/** Go's names for the signals a child commonly dies of ("signal: killed"). */
function signalText(sig: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGQUIT: 'quit', SIGABRT: 'aborted', SIGSEGV: 'segmentation fault' }
  return names[sig] ?? sig
}
