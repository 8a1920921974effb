/**
 * The leader loop (Consul's agent/consul/leader.go monitorLeadership / establishLeadership /
 * revokeLeadership): duties that only the leader performs start when this server gains
 * leadership and stop when it loses it, so at most one server runs them at a time.
 */
import type { Clock, Timer } from '../lib/clock.js'
import type { Consensus } from '../raft/types.js'

/** One leader-only duty. `establish` and `revoke` alternate, starting with `establish`. */
export interface LeaderDuty {
  readonly name: string
  establish(): void
  revoke(): void
}

/**
 * A leader duty that makes sure something exists once this server leads (the cluster's name, the
 * ACL built-ins): checked at each leadership, created when missing, retried every second until done.
 */
export abstract class EnsureDuty implements LeaderDuty {
  abstract readonly name: string
  #leading = false
  #retry: Timer | undefined

  constructor(
    protected readonly clock: Clock,
    protected readonly log: (level: 'info' | 'warn', message: string) => void,
  ) {}

  /** Whether there is still something to create. */
  protected abstract missing(): boolean
  /** Creates it (through the log); a failure is retried. */
  protected abstract create(): Promise<void>
  /** What the retry's warning says could not be done yet. */
  protected abstract readonly notYet: string

  establish(): void {
    this.#leading = true
    void this.#ensure()
  }

  revoke(): void {
    this.#leading = false
    this.#retry?.cancel()
  }

  async #ensure(): Promise<void> {
    if (!this.#leading) return
    try {
      if (this.missing()) await this.create()
    } catch (err) {
      this.log('warn', `${this.notYet}: ${(err as Error).message}`)
      this.#retry = this.clock.setTimeout(() => void this.#ensure(), 1000)
    }
  }
}

/**
 * A leader duty that keeps something in step with membership (Consul's reconcile): a pass on
 * every membership change and every `intervalMs` besides, one pass at a time (a change during a
 * pass runs another after it). A pass checks `leading` between its writes.
 */
export abstract class ReconcilingDuty implements LeaderDuty {
  abstract readonly name: string
  protected leading = false
  #timer: Timer | undefined
  #unsubscribe: (() => void) | undefined
  #running = false
  #again = false

  constructor(
    private readonly subscribe: (fn: () => void) => () => void,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  protected abstract pass(): Promise<void>

  establish(): void {
    this.leading = true
    this.#unsubscribe = this.subscribe(() => void this.reconcile())
    this.#timer = this.clock.setInterval(() => void this.reconcile(), this.intervalMs)
    void this.reconcile()
  }

  revoke(): void {
    this.leading = false
    this.#unsubscribe?.()
    this.#timer?.cancel()
    this.#unsubscribe = undefined
    this.#timer = undefined
  }

  async reconcile(): Promise<void> {
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = true
    try {
      do {
        this.#again = false
        await this.pass()
      } while (this.#again && this.leading)
    } finally {
      this.#running = false
    }
  }
}

export class LeaderLoop {
  readonly #raft: Consensus
  readonly #duties: LeaderDuty[]
  readonly #log: (level: 'info' | 'warn' | 'error', message: string) => void
  #unsubscribe: (() => void) | undefined
  #leading = false
  /** Times leadership was established here (for tests and stats). */
  terms = 0

  constructor(raft: Consensus, duties: readonly LeaderDuty[], log: (level: 'info' | 'warn' | 'error', message: string) => void) {
    this.#raft = raft
    this.#duties = [...duties]
    this.#log = log
  }

  /** Whether the duties are running. */
  get leading(): boolean {
    return this.#leading
  }

  /** One more duty (one built on the endpoints of the server that owns this loop); it starts now on a leader. */
  add(duty: LeaderDuty): void {
    this.#duties.push(duty)
    if (this.#leading) this.#run(duty, 'establish')
  }

  /** Follows leadership from now on; already the leader (a single server), the duties start at once. */
  start(): void {
    if (this.#unsubscribe) return
    this.#unsubscribe = this.#raft.onLeadershipChange((isLeader) => this.#changed(isLeader))
    this.#changed(this.#raft.isLeader())
  }

  /** Stops following leadership and revokes the duties (shutdown). */
  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#changed(false)
  }

  #changed(isLeader: boolean): void {
    if (isLeader === this.#leading) return
    this.#leading = isLeader
    if (isLeader) {
      this.terms++
      this.#log('info', 'server: leadership established; starting leader duties')
      for (const d of this.#duties) this.#run(d, 'establish')
    } else {
      this.#log('info', 'server: leadership lost; stopping leader duties')
      for (const d of [...this.#duties].reverse()) this.#run(d, 'revoke')
    }
  }

  /** A duty that fails to start or stop is logged; the others still run. */
  #run(duty: LeaderDuty, step: 'establish' | 'revoke'): void {
    try {
      duty[step]()
    } catch (err) {
      this.#log('error', `server: ${duty.name}: ${step} failed: ${(err as Error).message}`)
    }
  }
}
