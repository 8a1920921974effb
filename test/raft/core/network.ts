import { RaftNode, type InitialState } from '../../../src/raft/core/node.js'
import type { RaftConfig } from '../../../src/raft/core/config.js'
import type { Entry, Message } from '../../../src/raft/core/types.js'
import { mulberry32 } from '../../../src/lib/prng.js'

/** The seeded PRNG for election jitter and the randomized tests. */
export const prng = mulberry32

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/**
 * Nodes wired in memory: `stabilize()` runs every node's Ready loop (persist = accept, send =
 * queue, apply = record) and delivers queued messages until nothing moves. `cut` drops messages
 * between two servers (both directions) until `heal()`.
 */
export class Network {
  readonly nodes = new Map<string, RaftNode>()
  readonly applied = new Map<string, Entry[]>()
  readonly logLines: string[] = []
  /** Snapshots each node was told to install, in order. */
  readonly installed = new Map<string, Uint8Array[]>()
  readonly #cuts = new Set<string>()
  queue: Message[] = []
  /** Optional extra filter: return false to drop a message. */
  filter: (m: Message) => boolean = () => true

  constructor(ids: string[], opts: Partial<RaftConfig> & { seed?: number } = {}, initial: Record<string, InitialState> = {}) {
    const random = prng(opts.seed ?? 1)
    for (const id of ids) this.add(id, { peers: { voters: ids, learners: [] }, ...opts, random }, initial[id])
  }

  add(id: string, opts: Partial<RaftConfig> & { random: () => number }, initial?: InitialState): RaftNode {
    const n = new RaftNode({ electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 10, ...opts, id, logger: (l) => this.logLines.push(l) }, initial)
    this.nodes.set(id, n)
    this.applied.set(id, [])
    return n
  }

  node(id: string): RaftNode { return this.nodes.get(id)! }

  cut(a: string, b: string): void { this.#cuts.add(`${a}>${b}`); this.#cuts.add(`${b}>${a}`) }
  isolate(id: string): void { for (const o of this.nodes.keys()) if (o !== id) this.cut(id, o) }
  heal(): void { this.#cuts.clear(); this.filter = () => true }

  /** Runs one Ready cycle on every node; returns whether any work was done. */
  processReadies(): boolean {
    let any = false
    for (const [id, n] of this.nodes) {
      const rd = n.ready()
      if (!rd) continue
      any = true
      if (rd.snapshot) {
        this.applied.set(id, [])
        this.installed.set(id, [...(this.installed.get(id) ?? []), rd.snapshot.data])
      }
      for (const m of rd.messages) this.send(m)
      this.applied.get(id)!.push(...rd.committedEntries)
      n.advance(rd)
    }
    return any
  }

  send(m: Message): void {
    if (this.#cuts.has(`${m.from}>${m.to}`) || !this.filter(m)) return
    this.queue.push(m)
  }

  /** Delivers everything until quiet (bounded). */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      const worked = this.processReadies()
      const q = this.queue
      this.queue = []
      for (const m of q) this.nodes.get(m.to)?.step(m)
      if (!worked && q.length === 0) return
    }
    throw new Error('network did not stabilize')
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.tick()
      this.stabilize()
    }
  }

  leaders(): RaftNode[] { return [...this.nodes.values()].filter((n) => n.role === 'leader') }

  /** Normal entries each node applied, decoded. */
  appliedData(id: string): string[] {
    return this.applied.get(id)!.filter((e) => e.type === 'normal').map((e) => dec(e.data))
  }
}

/** Every entry of a node's in-memory log as "index/term". */
export function describeLog(n: RaftNode): string {
  const out: string[] = []
  for (let i = n.log.firstIndex(); i <= n.log.lastIndex(); i++) out.push(`${i}/${n.log.term(i)}`)
  return out.join(' ')
}
