/**
 * The leader's view of one follower (etcd-io/raft tracker/progress.go, design.md):
 * - probe: one append in flight until it is answered or a heartbeat comes back; finds the match.
 * - replicate: appends are pipelined optimistically, up to `maxInflight` unacknowledged messages.
 * - snapshot: a snapshot is being streamed; appends wait until it is acknowledged.
 */
export const ProgressState = { Probe: 'probe', Replicate: 'replicate', Snapshot: 'snapshot' } as const
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState]

/** A bounded FIFO of the last index of each append in flight (flow control). */
export class Inflights {
  readonly #max: number
  #items: number[] = []

  constructor(max: number) {
    if (!(max >= 1)) throw new Error('inflights: max must be at least 1')
    this.#max = max
  }

  full(): boolean { return this.#items.length >= this.#max }
  count(): number { return this.#items.length }

  add(lastIndex: number): void {
    if (this.full()) throw new Error('inflights: add while full')
    this.#items.push(lastIndex)
  }

  /** Frees every message whose last index is at or below `index` (acknowledged). */
  freeLE(index: number): void {
    let n = 0
    while (n < this.#items.length && this.#items[n] <= index) n++
    if (n > 0) this.#items.splice(0, n)
  }

  /** Frees the oldest message: lets a full window that lost its messages make progress again. */
  freeFirstOne(): void { this.#items.shift() }

  reset(): void { this.#items = [] }
}

export class Progress {
  match = 0
  next: number
  state: ProgressState = ProgressState.Probe
  /** Probe: an append was sent and is unanswered. */
  probeSent = false
  /** Snapshot: the index of the snapshot being sent, and the next byte offset to send. */
  pendingSnapshot = 0
  snapshotOffset = 0
  snapshotChunkInFlight = false
  /** Heard from since the last check-quorum round. */
  recentActive = false
  readonly inflights: Inflights
  isLearner: boolean

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next
    this.inflights = new Inflights(maxInflight)
    this.isLearner = isLearner
  }

  #reset(state: ProgressState): void {
    this.state = state
    this.probeSent = false
    this.pendingSnapshot = 0
    this.snapshotOffset = 0
    this.snapshotChunkInFlight = false
    this.inflights.reset()
  }

  becomeProbe(): void {
    // After a snapshot, resume from just after it (or after the match, if that is further).
    const next = this.state === ProgressState.Snapshot ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1
    this.#reset(ProgressState.Probe)
    this.next = next
  }

  becomeReplicate(): void {
    this.#reset(ProgressState.Replicate)
    this.next = this.match + 1
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#reset(ProgressState.Snapshot)
    this.pendingSnapshot = snapshotIndex
  }

  /** No more appends to this follower for now (flow control or a probe outstanding). */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe: return this.probeSent
      case ProgressState.Replicate: return this.inflights.full()
      case ProgressState.Snapshot: return true
    }
  }

  /** An acknowledgement up to `index`; false when it is stale (no news). */
  maybeUpdate(index: number): boolean {
    let updated = false
    if (this.match < index) {
      this.match = index
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, index + 1)
    return updated
  }

  /** An append of entries up to `lastIndex` was sent. */
  sentEntries(lastIndex: number, count: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex)
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true
    }
  }

  /**
   * A rejection of the append at `rejected`; `hint` is where to retry from (already
   * adjusted by the caller). False when the rejection is stale.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false
      this.next = Math.max(this.match + 1, Math.min(rejected, hint + 1))
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(1, this.match + 1, Math.min(rejected, hint + 1))
    this.probeSent = false
    return true
  }
}
