/**
 * A stand-in for raft at the unit level: applies each command to the real FSM at once (from its
 * bytes, as a real server does), and lets a test say who leads and when a read barrier completes.
 */
import type { ApplyResult, Consensus, RaftServer } from '../../src/raft/types.js'
import { NotLeaderError } from '../../src/raft/errors.js'
import { decodeCommand } from '../../src/state/commands.js'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'

export class FakeConsensus implements Consensus {
  readonly state: StateStore
  readonly fsm: Fsm
  #leader: boolean
  #index = 1
  /** The leader's address as followers know it ("" for no leader known). */
  leaderHint = '10.0.0.1:8300'
  readonly removed: string[] = []
  readonly transfers: string[] = []
  readonly selfAddress = '10.0.0.1:8300'
  barriers = 0
  /** While set, read barriers wait for it. */
  barrierGate: Promise<void> | undefined
  readonly #listeners = new Set<(isLeader: boolean) => void>()
  /** Every command applied, decoded (for assertions). */
  readonly applied: unknown[] = []

  constructor(opts: { leader: boolean; now?: () => number }) {
    this.#leader = opts.leader
    this.state = new StateStore(opts.now)
    this.fsm = new Fsm(this.state)
  }

  setLeader(leader: boolean, hint = leader ? this.selfAddress : '10.0.0.2:8300'): void {
    this.#leader = leader
    this.leaderHint = hint
    for (const l of [...this.#listeners]) l(leader)
  }

  async apply(data: Uint8Array): Promise<ApplyResult> {
    if (!this.#leader) throw new NotLeaderError(this.leaderHint)
    const command = decodeCommand(data)
    this.applied.push(command)
    const index = ++this.#index
    return { index, response: this.fsm.apply(index, data) }
  }

  /** A follower's barrier with a leader to reach: brings this state up to the leader's (a lagging follower catching up). */
  catchUp: (() => void) | undefined

  async readBarrier(): Promise<void> {
    this.barriers++
    if (!this.#leader && this.catchUp) return this.catchUp()
    if (!this.#leader) throw new NotLeaderError(this.leaderHint)
    await this.barrierGate
  }

  isLeader(): boolean {
    return this.#leader
  }

  leaderAddress(): string {
    return this.#leader ? this.selfAddress : this.leaderHint
  }

  servers(): RaftServer[] {
    return [{ id: 'server-1', address: this.selfAddress, voter: true }]
  }

  configurationIndex(): number {
    return 1
  }

  removeServer(id: string): Promise<{ index: number; response: unknown }> {
    if (!this.#leader) return Promise.reject(new NotLeaderError(this.leaderHint))
    this.removed.push(id)
    return Promise.resolve({ index: ++this.#index, response: undefined })
  }

  transferLeadership(to: string): boolean {
    this.transfers.push(to)
    return this.#leader
  }

  lastContactMs(): number {
    return this.#leader ? 0 : 5
  }

  currentTerm(): number {
    return 1
  }

  replication(): undefined {
    return undefined
  }

  appliedIndex(): number {
    return this.state.lastIndex
  }

  stats(): Record<string, string> {
    return {}
  }

  onLeadershipChange(listener: (isLeader: boolean) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  get listeners(): number {
    return this.#listeners.size
  }

  async close(): Promise<void> {}
}
