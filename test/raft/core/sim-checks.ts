import type { RaftNode } from '../../../src/raft/core/node.js'
import type { Entry } from '../../../src/raft/core/types.js'

/**
 * The Raft safety properties (Raft paper, Figure 3), checked incrementally so that a step costs what
 * changed, not the length of the logs:
 * - election safety: at most one leader per term;
 * - log matching: every entry any server ever appends is registered with the term before it and a
 *   digest of its content; two logs holding the same (index, term) must agree on both, which by
 *   induction makes them identical up to there (an entry's predecessor cannot change while it is held);
 * - leader completeness: a leader holds every entry committed in an earlier term, checked when the
 *   leader is first seen and whenever an entry commits later;
 * - state-machine safety: no two servers apply different entries at one index, and no index commits twice
 *   with different terms;
 * - a server's commit index never goes backwards while it runs.
 * `fail` receives the first violation (it throws, with the seed and trace).
 */
/** What the checks read of a server's core (a RaftNode, or a driver's view of the one it runs). */
export type CheckedNode = Pick<RaftNode, 'id' | 'role' | 'term' | 'log'>

export class SafetyChecks {
  readonly #leaderOfTerm = new Map<number, string>()
  /** (index, term) -> term before it and a digest of the entry. */
  readonly #entries = new Map<number, { prevTerm: number; digest: number }>()
  /** index -> the committed entry's term and the lowest term known to have committed it. */
  readonly #committed = new Map<number, { term: number; commitTerm: number }>()
  readonly #appliedAt = new Map<number, string>()
  readonly #lastCommit = new Map<string, number>()
  #maxCommitted = 0
  violations = 0

  constructor(readonly fail: (what: string) => never) {}

  get maxCommitted(): number { return this.#maxCommitted }

  /** Before `n` persists `entries` (a Ready's, or a bootstrap): every entry enters some log this way. */
  appended(n: CheckedNode, entries: readonly Entry[]): void {
    for (const e of entries) {
      const prevTerm = n.log.term(e.index - 1)
      if (prevTerm === undefined) this.#fail(`log matching: ${n.id} appends ${e.index}/${e.term} with no entry before it`)
      const key = entryKey(e.index, e.term)
      const digest = digestOf(e)
      const seen = this.#entries.get(key)
      if (seen === undefined) this.#entries.set(key, { prevTerm: prevTerm!, digest })
      else if (seen.prevTerm !== prevTerm) this.#fail(`log matching: ${n.id} holds ${e.index}/${e.term} after term ${prevTerm}, another server after term ${seen.prevTerm}`)
      else if (seen.digest !== digest) this.#fail(`log matching: ${n.id} holds a different entry ${e.index}/${e.term} than another server`)
    }
  }

  applied(id: string, e: Entry): void {
    const key = `${e.index}/${e.term}/${e.type}/${digestOf(e)}`
    const seen = this.#appliedAt.get(e.index)
    if (seen !== undefined && seen !== key) this.#fail(`state-machine safety: ${id} applies ${key}, another server applied ${seen}`)
    this.#appliedAt.set(e.index, key)
  }

  /**
   * A server (re)started: its commit index starts again from what it persisted. What it holds as
   * committed is recorded at the next step (it may have committed it just before crashing).
   */
  started(n: CheckedNode): void {
    this.#lastCommit.set(n.id, n.log.snapshotIndex)
  }

  /** After every step, over the running servers. */
  step(nodes: Iterable<CheckedNode>, log: (line: string) => void): void {
    const leaders: CheckedNode[] = []
    for (const n of nodes) {
      const last = this.#lastCommit.get(n.id) ?? 0
      if (n.log.committed < last) this.#fail(`${n.id} commit index went backwards (${last} to ${n.log.committed})`)
      for (let i = Math.max(last, n.log.snapshotIndex) + 1; i <= n.log.committed; i++) this.#commit(i, n.log.term(i)!, n.term, n.id)
      this.#lastCommit.set(n.id, n.log.committed)
      if (n.role !== 'leader') continue
      leaders.push(n)
      const seen = this.#leaderOfTerm.get(n.term)
      if (seen !== undefined && seen !== n.id) this.#fail(`election safety: ${seen} and ${n.id} both lead term ${n.term}`)
      if (seen === undefined) {
        this.#leaderOfTerm.set(n.term, n.id)
        log(`${n.id} leads term ${n.term}`)
        for (const [i, c] of this.#committed) this.#complete(n, i, c)
      }
    }
    for (const [i, c] of this.#fresh) for (const n of leaders) this.#complete(n, i, c)
    this.#fresh.clear()
  }

  /** Entries committed during this step, to check against the leaders after it. */
  readonly #fresh = new Map<number, { term: number; commitTerm: number }>()

  #commit(index: number, term: number, commitTerm: number, by: string): void {
    const c = this.#committed.get(index)
    if (c === undefined) {
      const rec = { term, commitTerm }
      this.#committed.set(index, rec)
      this.#fresh.set(index, rec)
      if (index > this.#maxCommitted) this.#maxCommitted = index
      return
    }
    if (c.term !== term) this.#fail(`state-machine safety: ${by} commits ${index}/${term}, ${index}/${c.term} was committed before`)
    if (commitTerm < c.commitTerm) c.commitTerm = commitTerm
  }

  #complete(n: CheckedNode, index: number, c: { term: number; commitTerm: number }): void {
    if (n.term <= c.commitTerm || index <= n.log.snapshotIndex) return
    const t = n.log.term(index)
    if (t !== c.term) this.#fail(`leader completeness: ${n.id} leads term ${n.term} without ${index}/${c.term} (committed by term ${c.commitTerm}; it has ${t === undefined ? 'nothing' : `term ${t}`} there)`)
  }

  #fail(what: string): never {
    this.violations++
    return this.fail(what)
  }
}

/** Index and term in one number (both stay far below 2^26 in a simulation). */
function entryKey(index: number, term: number): number {
  return index * 67108864 + term
}

/** FNV-1a over the type and data: equal entries give equal digests. */
function digestOf(e: Entry): number {
  let h = 0x811c9dc5 ^ (e.type === 'normal' ? 1 : e.type === 'config' ? 2 : 3)
  for (let i = 0; i < e.data.length; i++) h = Math.imul(h ^ e.data[i], 16777619)
  return h >>> 0
}
