import type { Message } from '../../../src/raft/core/types.js'

/**
 * The simulator's network: every message is dropped, delayed (which reorders) or duplicated at the
 * rates given, and a partition blocks directed links (so one-way cuts are possible). Randomness comes
 * from the simulator's one PRNG, so a seed fixes every decision.
 */
export interface NetworkRates {
  drop: number
  duplicate: number
  /** Share of messages delayed by 1-3 ticks (the rest arrive in the same tick). */
  delay: number
  /** Share delayed by 5-25 ticks: very old messages arriving late. */
  longDelay: number
}

export type PartitionKind = 'isolate' | 'isolateLeader' | 'halves' | 'bridge' | 'oneWayOut' | 'oneWayIn'
export const PARTITION_KINDS: readonly PartitionKind[] = ['isolate', 'isolateLeader', 'halves', 'bridge', 'oneWayOut', 'oneWayIn']

interface InFlight { at: number; seq: number; m: Message }

export class SimNetwork {
  #queue: InFlight[] = []
  #seq = 0
  /** Blocked directed links, "from>to". */
  #blocked = new Set<string>()
  #partition = ''
  sent = 0
  dropped = 0

  constructor(readonly rand: () => number, public rates: NetworkRates) {}

  get partition(): string { return this.#partition }
  get inFlight(): number { return this.#queue.length }

  /** Faults stay off once `reliable` (after healing), except for partitions already cleared. */
  send(m: Message, now: number, reliable: boolean): void {
    this.sent++
    if (this.#blocked.has(`${m.from}>${m.to}`)) { this.dropped++; return }
    if (!reliable && this.rand() < this.rates.drop) { this.dropped++; return }
    const copies = !reliable && this.rand() < this.rates.duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const r = reliable ? 1 : this.rand()
      const delay = r < this.rates.longDelay ? 5 + Math.floor(this.rand() * 21)
        : r < this.rates.longDelay + this.rates.delay ? 1 + Math.floor(this.rand() * 3) : 0
      this.#queue.push({ at: now + delay, seq: ++this.#seq, m })
    }
  }

  /** Messages due by `now`, in arrival order, removed from the queue. Blocked links drop them on arrival too. */
  due(now: number): Message[] {
    if (this.#queue.length === 0) return []
    const due: InFlight[] = []
    const later: InFlight[] = []
    for (const f of this.#queue) (f.at <= now ? due : later).push(f)
    if (due.length === 0) return []
    this.#queue = later
    due.sort((a, b) => a.at - b.at || a.seq - b.seq)
    const out: Message[] = []
    for (const f of due) {
      if (this.#blocked.has(`${f.m.from}>${f.m.to}`)) this.dropped++
      else out.push(f.m)
    }
    return out
  }

  /** Cuts the network as `kind` says among `ids`; returns a line for the trace. */
  cut(kind: PartitionKind, ids: readonly string[], leader: string): string {
    this.#blocked.clear()
    const pick = (): string => ids[Math.floor(this.rand() * ids.length)]
    const shuffled = [...ids]
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1))
      ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
    }
    let line: string
    switch (kind) {
      case 'isolate': case 'isolateLeader': {
        const x = kind === 'isolateLeader' && leader !== '' ? leader : pick()
        for (const o of ids) if (o !== x) this.#block(x, o, true)
        line = `${kind === 'isolateLeader' && leader !== '' ? 'leader ' : ''}${x} isolated`
        break
      }
      case 'halves': {
        const a = shuffled.slice(0, Math.floor(ids.length / 2))
        const b = shuffled.slice(a.length)
        for (const x of a) for (const y of b) this.#block(x, y, true)
        line = `halves [${a}] | [${b}]`
        break
      }
      case 'bridge': {
        // The bridge is the only server both sides reach (the partial partition of etcd's robustness tests).
        const [bridge, ...rest] = shuffled
        const a = rest.slice(0, Math.floor(rest.length / 2))
        const b = rest.slice(a.length)
        for (const x of a) for (const y of b) this.#block(x, y, true)
        line = `bridge ${bridge} between [${a}] and [${b}]`
        break
      }
      case 'oneWayOut': case 'oneWayIn': {
        const x = this.rand() < 0.5 && leader !== '' ? leader : pick()
        for (const o of ids) if (o !== x) this.#block(kind === 'oneWayOut' ? x : o, kind === 'oneWayOut' ? o : x, false)
        line = kind === 'oneWayOut' ? `${x} cannot send` : `${x} cannot receive`
        break
      }
    }
    this.#partition = line
    return line
  }

  heal(): void {
    this.#blocked.clear()
    this.#partition = ''
  }

  #block(x: string, y: string, both: boolean): void {
    this.#blocked.add(`${x}>${y}`)
    if (both) this.#blocked.add(`${y}>${x}`)
  }
}

/** One short line per message for the trace. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`
  switch (m.type) {
    case 'append':
      return `${head} prev ${m.prevIndex}/${m.prevTerm} [${m.entries.map((e) => `${e.index}/${e.term}`).join(' ')}] commit ${m.commit}`
    case 'appendResp': return `${head} ${m.reject ? `reject ${m.index} hint ${m.hintIndex}/${m.hintTerm}` : `ok ${m.index}`}`
    case 'vote': case 'preVote': return `${head} last ${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`
    case 'voteResp': case 'preVoteResp': return `${head} ${m.reject ? 'reject' : 'grant'}`
    case 'heartbeat': return `${head} commit ${m.commit}${m.context ? ` ctx ${m.context}` : ''}`
    case 'heartbeatResp': return `${head}${m.context ? ` ctx ${m.context}` : ''}`
    case 'snapshot': return `${head} ${m.meta.index}/${m.meta.term} @${m.offset}+${m.data.byteLength}${m.done ? ' done' : ''}`
    case 'snapshotResp': return `${head} ${m.snapshotIndex} @${m.offset}${m.reject ? ' reject' : ''}`
    case 'readIndex': return `${head} ${m.context}`
    case 'readIndexResp': return `${head} ${m.context} -> ${m.index}`
    case 'timeoutNow': return head
  }
}
