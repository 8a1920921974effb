import { RaftNode } from '../../../src/raft/core/node.js'
import type { Entry, HardState, Message, Ready, Snapshot } from '../../../src/raft/core/types.js'
import { dec, enc, prng } from './network.js'

/**
 * A small deterministic simulator (TigerBeetle VOPR in spirit): one seeded PRNG drives a virtual
 * clock of ticks, a network that drops, duplicates, delays and so reorders messages, partitions,
 * crashes and restarts from what was persisted. Safety checks run after every step and throw with
 * the seed; `trace` is one line per event, so the same seed gives the same trace.
 */
export interface SimOptions {
  seed: number
  nodes?: number
  /** Servers that start outside the cluster (no peers) and may be added, one at a time, by the leader. */
  spares?: number
  steps?: number
  dropRate?: number
  crashRate?: number
}

interface Storage { hardState: HardState; entries: Entry[]; snapshot: Snapshot | undefined }
interface InFlight { at: number; seq: number; m: Message }

export class Sim {
  readonly trace: string[] = []
  readonly #rand: () => number
  readonly #ids: string[]
  readonly #initial: string[]
  readonly #everAdded = new Set<string>()
  readonly #opts: Required<SimOptions>
  readonly #nodes = new Map<string, RaftNode>()
  readonly #down = new Map<string, number>()
  readonly #storage = new Map<string, Storage>()
  readonly #applied = new Map<string, string[]>()
  readonly #appliedAt = new Map<number, string>()
  readonly #committed = new Map<number, { term: number; commitTerm: number }>()
  readonly #leaderOfTerm = new Map<number, string>()
  readonly #lastCommit = new Map<string, number>()
  #queue: InFlight[] = []
  #seq = 0
  #now = 0
  #isolated = ''
  #healed = false
  #proposals = 0
  #reads = 0
  /** ReadIndex requests in flight: the highest index known committed when each was made. */
  readonly #readFloor = new Map<string, number>()

  constructor(opts: SimOptions) {
    this.#opts = { nodes: 5, spares: 0, steps: 400, dropRate: 0.1, crashRate: 0.01, ...opts }
    this.#rand = prng(opts.seed)
    this.#ids = Array.from({ length: this.#opts.nodes + this.#opts.spares }, (_, i) => `n${i + 1}`)
    this.#initial = this.#ids.slice(0, this.#opts.nodes)
    for (const id of this.#ids) {
      this.#storage.set(id, { hardState: { term: 0, vote: '', commit: 0 }, entries: [], snapshot: undefined })
      this.#start(id)
    }
  }

  run(): void {
    for (let i = 0; i < this.#opts.steps; i++) this.step(true, true)
    // Heal everything and check that the cluster recovers and converges.
    this.#isolated = ''
    this.#healed = true
    for (const id of [...this.#down.keys()]) this.#restart(id)
    for (let i = 0; i < 300; i++) this.step(false, i < 200)
    const leaders = [...this.#nodes.values()].filter((n) => n.role === 'leader')
    this.#assert(leaders.length === 1, `no single leader after healing (${leaders.length})`)
    const want = this.#applied.get(leaders[0].id)!.join(',')
    const conf = leaders[0].conf()
    for (const id of [...conf.voters, ...conf.learners]) this.#assert(this.#applied.get(id)!.join(',') === want, `${id} did not converge`)
  }

  step(faults: boolean, proposals: boolean): void {
    this.#now++
    if (faults) this.#faults()
    for (const [id, n] of this.#nodes) {
      n.tick()
      if (proposals && n.role === 'leader' && this.#rand() < 0.3) {
        const r = n.propose(enc(`p${++this.#proposals}`))
        if (r.ok) this.#log(`${id} proposes p${this.#proposals} at ${r.index}`)
      }
      if (proposals && this.#rand() < 0.05) {
        const ctx = `${id}.r${++this.#reads}`
        if (n.readIndex(ctx)) this.#readFloor.set(ctx, this.#maxCommitted())
      }
      if (proposals && n.role === 'leader' && this.#rand() < 0.01) this.#changeMembership(n)
      if (proposals && n.role === 'leader' && this.#rand() < 0.01) {
        const to = this.#ids[Math.floor(this.#rand() * this.#ids.length)]
        if (n.transferLeadership(to)) this.#log(`${id} transfers leadership to ${to}`)
      }
    }
    this.#drain()
    this.#check()
  }

  #faults(): void {
    const r = this.#rand()
    if (r < this.#opts.crashRate) {
      const up = [...this.#nodes.keys()]
      if (up.length > 0) {
        const id = up[Math.floor(this.#rand() * up.length)]
        this.#nodes.delete(id)
        this.#down.set(id, this.#now + 5 + Math.floor(this.#rand() * 20))
        this.#log(`${id} crashes`)
      }
    } else if (r < this.#opts.crashRate + 0.02) {
      this.#isolated = this.#isolated === '' ? this.#ids[Math.floor(this.#rand() * this.#ids.length)] : ''
      this.#log(this.#isolated ? `${this.#isolated} isolated` : 'partition healed')
    } else if (r < this.#opts.crashRate + 0.03) {
      const up = [...this.#nodes.values()]
      const n = up[Math.floor(this.#rand() * up.length)]
      if (n && n.log.applied > n.log.snapshotIndex) {
        const meta = n.compact(n.log.applied, enc(JSON.stringify(this.#applied.get(n.id))), 2)
        if (meta) {
          const st = this.#storage.get(n.id)!
          st.snapshot = { meta, data: enc(JSON.stringify(this.#applied.get(n.id))) }
          st.entries = st.entries.filter((e) => e.index > meta.index - 2)
          this.#log(`${n.id} snapshots at ${meta.index}`)
        }
      }
    }
    for (const [id, at] of this.#down) if (at <= this.#now) this.#restart(id)
  }

  /** Adds a spare (once) or removes a member, one change at a time. */
  #changeMembership(n: RaftNode): void {
    const conf = n.conf()
    const spare = this.#ids.find((id) => !this.#everAdded.has(id) && !this.#initial.includes(id))
    if (spare !== undefined && this.#rand() < 0.6) {
      const r = n.addServer(spare)
      if (r.ok) { this.#everAdded.add(spare); this.#log(`${n.id} adds ${spare} at ${r.index}`) }
      return
    }
    if (conf.voters.length <= 3) return
    const victim = conf.voters[Math.floor(this.#rand() * conf.voters.length)]
    const r = n.proposeConfChange({ type: 'remove', id: victim })
    if (r.ok) this.#log(`${n.id} removes ${victim} at ${r.index}`)
  }

  #crashMidReady(id: string, when: string): void {
    this.#nodes.delete(id)
    this.#down.set(id, this.#now + 1 + Math.floor(this.#rand() * 10))
    this.#log(`${id} crashes ${when}`)
  }

  #start(id: string): void {
    const st = this.#storage.get(id)!
    const peers = this.#initial.includes(id) ? { voters: this.#initial, learners: [] } : undefined
    const n = new RaftNode(
      { id, random: prng(Math.floor(this.#rand() * 2 ** 31)), peers,
        electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 10, snapshotChunkBytes: 64, maxMsgBytes: 256 },
      { hardState: st.hardState, entries: st.entries, snapshot: st.snapshot },
    )
    this.#nodes.set(id, n)
    this.#applied.set(id, st.snapshot ? (JSON.parse(dec(st.snapshot.data)) as string[]) : [])
    this.#lastCommit.set(id, n.log.committed)
  }

  #restart(id: string): void {
    this.#down.delete(id)
    this.#start(id)
    this.#log(`${id} restarts at term ${this.#nodes.get(id)!.term}`)
  }

  /** Ready loops and message delivery for this tick, until quiet. */
  #drain(): void {
    for (let round = 0; round < 50; round++) {
      let worked = false
      for (const [id, n] of this.#nodes) {
        const rd = n.ready()
        if (rd) { worked = true; this.#handleReady(id, n, rd) }
      }
      const due = this.#queue.filter((f) => f.at <= this.#now).sort((a, b) => a.at - b.at || a.seq - b.seq)
      this.#queue = this.#queue.filter((f) => f.at > this.#now)
      for (const f of due) this.#nodes.get(f.m.to)?.step(f.m)
      if (!worked && due.length === 0) return
    }
  }

  #handleReady(id: string, n: RaftNode, rd: Ready): void {
    const st = this.#storage.get(id)!
    // A crash in the middle of a Ready leaves any prefix of its writes, in contract order, and sends nothing.
    const crashAfter = !this.#healed && this.#rand() < this.#opts.crashRate / 2 ? Math.floor(this.#rand() * 4) : -1
    if (crashAfter === 0) return this.#crashMidReady(id, 'before persisting')
    if (rd.snapshot) {
      const s = rd.snapshot.meta
      st.snapshot = rd.snapshot
      st.entries = st.entries.filter((e) => e.index > s.index && n.log.term(e.index) === e.term)
      this.#applied.set(id, JSON.parse(dec(rd.snapshot.data)) as string[])
      this.#log(`${id} installs snapshot ${s.index}`)
    }
    if (crashAfter === 1) return this.#crashMidReady(id, 'after the snapshot')
    if (rd.entries.length > 0) {
      const first = rd.entries[0].index
      // A torn append keeps a prefix of the new entries.
      const kept = crashAfter === 2 ? rd.entries.slice(0, Math.floor(this.#rand() * (rd.entries.length + 1))) : rd.entries
      st.entries = [...st.entries.filter((e) => e.index < first), ...kept]
    }
    if (crashAfter === 2) return this.#crashMidReady(id, 'during the append')
    if (rd.hardState) st.hardState = rd.hardState
    if (crashAfter === 3) return this.#crashMidReady(id, 'before sending')
    for (const r of rd.readStates) {
      // Linearizable reads: the read point covers every write committed before the read began.
      const floor = this.#readFloor.get(r.context)
      this.#assert(floor !== undefined, `read state ${r.context} was never asked for`)
      this.#assert(r.index >= floor!, `ReadIndex ${r.context} answered ${r.index} < ${floor} committed before it`)
      this.#readFloor.delete(r.context)
      this.#log(`${id} read ${r.context} at ${r.index}`)
    }
    for (const m of rd.messages) this.#send(m)
    for (const e of rd.committedEntries) {
      const key = `${e.index}/${e.term}/${e.type === 'normal' ? dec(e.data) : e.type}`
      const seen = this.#appliedAt.get(e.index)
      this.#assert(seen === undefined || seen === key, `state-machine safety: ${id} applies ${key}, another applied ${seen}`)
      this.#appliedAt.set(e.index, key)
      this.#applied.get(id)!.push(key)
    }
    n.advance(rd)
  }

  #send(m: Message): void {
    if (this.#isolated !== '' && (m.from === this.#isolated || m.to === this.#isolated)) return
    if (!this.#healed && this.#rand() < this.#opts.dropRate) return
    const copies = !this.#healed && this.#rand() < 0.05 ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const delay = this.#rand() < 0.5 ? 0 : 1 + Math.floor(this.#rand() * 3)
      this.#queue.push({ at: this.#now + delay, seq: ++this.#seq, m })
    }
  }

  #check(): void {
    const nodes = [...this.#nodes.values()]
    for (const n of nodes) {
      if (n.role === 'leader') {
        const seen = this.#leaderOfTerm.get(n.term)
        this.#assert(seen === undefined || seen === n.id, `election safety: ${seen} and ${n.id} lead term ${n.term}`)
        if (seen === undefined) this.#log(`${n.id} leads term ${n.term}`)
        this.#leaderOfTerm.set(n.term, n.id)
        for (let i = n.log.snapshotIndex + 1; i <= n.log.committed; i++) {
          if (!this.#committed.has(i)) this.#committed.set(i, { term: n.log.term(i)!, commitTerm: n.term })
        }
      }
      this.#assert(n.log.committed >= (this.#lastCommit.get(n.id) ?? 0), `${n.id} commit index went backwards`)
      this.#lastCommit.set(n.id, n.log.committed)
    }
    for (let a = 0; a < nodes.length; a++) for (let b = a + 1; b < nodes.length; b++) this.#checkLogMatching(nodes[a], nodes[b])
    for (const n of nodes) {
      if (n.role !== 'leader') continue
      for (const [i, c] of this.#committed) {
        if (n.term <= c.commitTerm || i <= n.log.snapshotIndex) continue
        this.#assert(n.log.term(i) === c.term, `leader completeness: ${n.id} (term ${n.term}) lacks ${i}/${c.term}`)
      }
    }
  }

  /** Raft §5.3: if two logs hold an entry with the same index and term, they are identical up to it. */
  #checkLogMatching(x: RaftNode, y: RaftNode): void {
    const lo = Math.max(x.log.snapshotIndex, y.log.snapshotIndex) + 1
    let matched = false
    for (let i = Math.min(x.log.lastIndex(), y.log.lastIndex()); i >= lo; i--) {
      const same = x.log.term(i) === y.log.term(i)
      if (matched) this.#assert(same, `log matching: ${x.id} and ${y.id} differ at ${i} below a common entry`)
      else if (same) matched = true
    }
  }

  #maxCommitted(): number {
    let max = 0
    for (const i of this.#committed.keys()) if (i > max) max = i
    for (const n of this.#nodes.values()) if (n.log.committed > max) max = n.log.committed
    return max
  }

  #log(line: string): void {
    this.trace.push(`t${this.#now} ${line}`)
  }

  /** One line per server: the state a failure report needs. */
  describe(): string[] {
    return this.#ids.map((id) => {
      const n = this.#nodes.get(id)
      if (!n) return `${id} down`
      const c = n.conf()
      return `${id} ${n.role} term ${n.term} leader ${n.leader || '-'} last ${n.log.lastIndex()}/${n.log.lastTerm()} commit ${n.log.committed} ` +
        `applied ${n.log.applied} snap ${n.log.snapshotIndex} voters [${c.voters}] learners [${c.learners}]`
    })
  }

  #assert(ok: boolean, what: string): void {
    if (!ok) {
      throw new Error(`SIM_SEED=${this.#opts.seed} at tick ${this.#now}: ${what}\n${this.trace.slice(-30).join('\n')}\n${this.describe().join('\n')}`)
    }
  }
}
