import type { RaftNode } from '../../../src/raft/core/node.js'
import type { Entry, ReadState } from '../../../src/raft/core/types.js'
import {
  checkEvents, countStaleReads, kvModel, operationsFromEvents,
  type CheckVerdict, type HistoryEvent, type KvInput, type KvOutput,
} from '../../../src/lib/linearizability/index.js'
import { decodeCommand, encodeCommand, type KvCommand, type KvStateMachine } from './sim-kv.js'

/**
 * Simulated clients of the KV store. Each client runs one operation at a time against one server, as
 * Consul's endpoints would serve it:
 * - put and CAS are proposed on the server the client believes leads; the answer is the state
 *   machine's result when that server applies the entry it proposed. If it applies another entry at
 *   that index, crashes, or the client times out, the outcome is unknown: the call never returns
 *   (the checker lets it take effect at any point after its call, or never);
 * - `consistent` reads take a ReadIndex and read once the server has applied up to it;
 * - `default` reads are served from the local state of a server that believes it leads;
 * - `stale` reads from any server's local state.
 * Every call and return is recorded with the linearizability checker's event API, in the order seen.
 */
export type ReadMode = 'consistent' | 'default' | 'stale'
export type OpKind = 'write' | ReadMode

/** What the clients see of the cluster. */
export interface ClusterView {
  now(): number
  node(id: string): RaftNode | undefined
  fsm(id: string): KvStateMachine | undefined
  up(): string[]
  /** The highest index known committed anywhere (a ReadIndex must not answer below it). */
  maxCommitted(): number
  fail(what: string): never
  log(line: string): void
}

export interface ClientOptions {
  clients: number
  keys: number
  /** Chance per tick that an idle client starts an operation. */
  rate: number
  /** Ticks a client waits for an answer before it gives up (the outcome is then unknown). */
  timeoutTicks: number
  readFloorCheck: boolean
}

export interface ClientReport {
  ops: number
  writes: number
  unknownWrites: number
  consistentReads: number
  defaultReads: number
  staleModeReads: number
  /** Consistent reads and all writes. */
  linearizable: CheckVerdict
  explanation: string
  /** Default and stale reads that returned an older value (anomalies of those modes, counted). */
  staleDefault: number
  staleStale: number
  /** Reads of a value no state before them held: a bug in any mode. */
  impossible: number
  undecided: number
  /** Writes issued after healing that returned a definite answer. */
  answeredAfterHeal: number
}

interface Outstanding { id: number; kind: OpKind; server: string; deadline: number; afterHeal?: boolean }
interface PendingWrite { id: number; client: number; index: number; opId: string }
interface PendingRead { id: number; client: number; key: string; index: number; floor: number }

const UNKNOWN: KvOutput = { kind: 'unknown' }
const STEPS_MAX = 2_000_000

export class SimClients {
  readonly events: HistoryEvent<KvInput, KvOutput>[] = []
  readonly #kind = new Map<number, OpKind>()
  /** Reads that never returned: they constrain nothing and leave the history. */
  readonly #abandoned = new Set<number>()
  readonly #busy = new Map<number, Outstanding>()
  readonly #writes = new Map<string, Map<number, PendingWrite>>()
  readonly #reads = new Map<string, Map<string, PendingRead>>()
  readonly #guess = new Map<number, string>()
  /** The last value each client saw per key, for CAS. */
  readonly #seen = new Map<string, string | null>()
  #nextId = 0
  #healedAt = Infinity
  answeredAfterHeal = 0
  /** Writes that returned a definite answer. */
  answeredWrites = 0

  constructor(readonly view: ClusterView, readonly rand: () => number, readonly opts: ClientOptions) {}

  get busy(): number { return this.#busy.size }

  healed(): void { this.#healedAt = this.events.length }

  /** Once per tick: time out what waited too long, start new operations. */
  tick(issue: boolean): void {
    for (const [client, o] of this.#busy) if (o.deadline <= this.view.now()) this.#giveUp(client, o, 'times out')
    if (!issue) return
    for (let c = 0; c < this.opts.clients; c++) {
      if (!this.#busy.has(c) && this.rand() < this.opts.rate) this.#start(c)
    }
  }

  /** After healing, until one is answered: client 0, when idle, writes through the normal path. */
  probeWrite(): void {
    if (this.answeredAfterHeal === 0 && !this.#busy.has(0)) this.#write(0, 'k0', 'put')
  }

  /** `server` applied `e` with the state machine's `result`. */
  applied(server: string, e: Entry, result: unknown): void {
    const pending = this.#writes.get(server)
    const w = pending?.get(e.index)
    if (w === undefined) return
    pending!.delete(e.index)
    const o = this.#busy.get(w.client)
    if (o === undefined || o.id !== w.id) return
    const c = decodeCommand(e.data)
    if (c?.id !== w.opId) return this.#giveUp(w.client, o, `lost its entry ${e.index}`)
    const ok = (result as { ok: boolean }).ok
    this.#return(w.client, o, { kind: 'ok', ok })
    this.answeredWrites++
    if (ok) this.#seen.set(`${w.client}/${c.key}`, c.value)
    if (o.afterHeal) this.answeredAfterHeal++
  }

  /** `server` installed a snapshot through `index`: its writes at or below it will not be applied there. */
  restored(server: string, index: number): void {
    const pending = this.#writes.get(server)
    if (pending === undefined) return
    for (const [i, w] of pending) {
      if (i > index) continue
      pending.delete(i)
      const o = this.#busy.get(w.client)
      if (o?.id === w.id) this.#giveUp(w.client, o, `skipped by a snapshot at ${index}`)
    }
  }

  readState(server: string, rs: ReadState): void {
    const r = this.#reads.get(server)?.get(rs.context)
    if (r === undefined) return
    if (this.opts.readFloorCheck && rs.index < r.floor) this.view.fail(`ReadIndex ${rs.context} answered ${rs.index} < ${r.floor}, committed before it was asked`)
    r.index = rs.index
  }

  /** Serves the consistent reads `server` can answer now. */
  serve(server: string): void {
    const reads = this.#reads.get(server)
    if (reads === undefined || reads.size === 0) return
    const n = this.view.node(server)
    const fsm = this.view.fsm(server)
    if (n === undefined || fsm === undefined) return
    for (const [ctx, r] of reads) {
      if (r.index < 0 || n.log.applied < r.index) continue
      reads.delete(ctx)
      const o = this.#busy.get(r.client)
      if (o?.id === r.id) this.#answerRead(r.client, o, r.key, fsm.get(r.key))
    }
  }

  crashed(server: string): void {
    for (const [client, o] of this.#busy) if (o.server === server) this.#giveUp(client, o, `lost ${server}`)
    this.#writes.delete(server)
    this.#reads.delete(server)
  }

  /** Checks the history: consistent reads and writes must be linearizable; other reads are counted. */
  report(): ClientReport {
    return { ...checkHistory(this.events, this.#kind, this.#abandoned), answeredAfterHeal: this.answeredAfterHeal }
  }

  #start(client: number): void {
    const key = `k${Math.floor(this.rand() * this.opts.keys)}`
    const r = this.rand()
    if (r < 0.45) return this.#write(client, key, r < 0.3 ? 'put' : 'cas')
    const mode: ReadMode = r < 0.7 ? 'consistent' : r < 0.85 ? 'default' : 'stale'
    const up = this.view.up()
    if (up.length === 0) return
    const server = mode === 'stale' ? up[Math.floor(this.rand() * up.length)] : this.#target(client, up)
    const n = this.view.node(server)!
    if (mode === 'consistent') {
      const id = this.#nextId
      const ctx = `c${client}.${id}`
      if (!n.readIndex(ctx)) return this.#redirect(client, n)
      this.#call(client, { id, kind: mode, server, deadline: this.view.now() + this.opts.timeoutTicks }, { op: 'get', key })
      let reads = this.#reads.get(server)
      if (reads === undefined) this.#reads.set(server, (reads = new Map()))
      reads.set(ctx, { id, client, key, index: -1, floor: this.view.maxCommitted() })
      return
    }
    if (mode === 'default' && n.role !== 'leader') return this.#redirect(client, n)
    const o: Outstanding = { id: this.#nextId, kind: mode, server, deadline: this.view.now() }
    this.#call(client, o, { op: 'get', key })
    this.#answerRead(client, o, key, this.view.fsm(server)!.get(key))
  }

  #write(client: number, key: string, op: 'put' | 'cas'): void {
    const up = this.view.up()
    if (up.length === 0) return
    const server = this.#target(client, up)
    const n = this.view.node(server)!
    const id = this.#nextId
    const value = `v${id}`
    const opId = `w${id}`
    const cmd: KvCommand = op === 'put' ? { id: opId, op, key, value } : { id: opId, op, key, expected: this.#seen.get(`${client}/${key}`) ?? null, value }
    const r = n.propose(encodeCommand(cmd))
    // Refused before anything was logged: the operation certainly had no effect, so it is not recorded.
    if (!r.ok) return this.#redirect(client, n)
    const input: KvInput = cmd.op === 'put' ? { op: 'put', key, value } : { op: 'cas', key, expected: cmd.expected, value }
    this.#call(client, { id, kind: 'write', server, deadline: this.view.now() + this.opts.timeoutTicks }, input)
    let pending = this.#writes.get(server)
    if (pending === undefined) this.#writes.set(server, (pending = new Map()))
    pending.set(r.index, { id, client, index: r.index, opId })
  }

  #target(client: number, up: string[]): string {
    const g = this.#guess.get(client)
    return g !== undefined && up.includes(g) ? g : up[Math.floor(this.rand() * up.length)]
  }

  /** A NotLeader answer carries the leader hint; the client tries there next time. */
  #redirect(client: number, n: RaftNode): void {
    if (n.leader !== '' && n.leader !== n.id) this.#guess.set(client, n.leader)
    else this.#guess.delete(client)
  }

  #call(client: number, o: Outstanding, input: KvInput): void {
    this.#nextId++
    o.afterHeal = this.events.length >= this.#healedAt
    this.#kind.set(o.id, o.kind)
    this.#busy.set(client, o)
    this.#guess.set(client, o.server)
    this.events.push({ kind: 'call', id: o.id, clientId: client, input })
    this.view.log(`client ${client} op ${o.id} ${o.kind} ${describeInput(input)} at ${o.server}`)
  }

  #return(client: number, o: Outstanding, output: KvOutput): void {
    this.#busy.delete(client)
    this.events.push({ kind: 'return', id: o.id, output })
    this.view.log(`client ${client} op ${o.id} -> ${output.kind === 'ok' ? String(output.ok) : output.kind === 'value' ? JSON.stringify(output.value) : '?'}`)
  }

  #answerRead(client: number, o: Outstanding, key: string, value: string | null): void {
    this.#return(client, o, { kind: 'value', value })
    this.#seen.set(`${client}/${key}`, value)
  }

  /** The client stops waiting: a write's outcome stays unknown, a read leaves the history. */
  #giveUp(client: number, o: Outstanding, why: string): void {
    this.#busy.delete(client)
    if (o.kind !== 'write') this.#abandoned.add(o.id)
    this.view.log(`client ${client} op ${o.id} ${why}: ${o.kind === 'write' ? 'outcome unknown' : 'read abandoned'}`)
  }
}

/**
 * The verdict on a client history (shared by the core and the driver-level simulators): writes and
 * consistent reads must be linearizable; default and stale reads are judged one at a time against
 * the writes and counted. `kind` names each operation's mode; `abandoned` operations (reads that never
 * returned, writes known to have had no effect) leave the history.
 */
export function checkHistory(events: readonly HistoryEvent<KvInput, KvOutput>[], kind: ReadonlyMap<number, OpKind>, abandoned: ReadonlySet<number>): Omit<ClientReport, 'answeredAfterHeal'> {
  const inLin = (id: number) => kind.get(id) === 'write' || kind.get(id) === 'consistent'
  const keep = (pick: (id: number) => boolean) => events.filter((e) => pick(e.id) && !abandoned.has(e.id))
  const pendingOutput = () => UNKNOWN
  const lin = checkEvents(kvModel, keep(inLin), { pendingOutput, stepsMax: STEPS_MAX })
  const staleOf = (mode: ReadMode) => {
    const ops = operationsFromEvents(keep((id) => kind.get(id) === 'write' || kind.get(id) === mode), { pendingOutput })
    return countStaleReads(kvModel, ops.filter((o) => o.input.op !== 'get'), ops.filter((o) => o.input.op === 'get'), { stepsMax: STEPS_MAX })
  }
  const d = staleOf('default')
  const s = staleOf('stale')
  const count = (k: OpKind) => [...kind].filter(([id, x]) => x === k && !abandoned.has(id)).length
  const returned = new Set(events.filter((e) => e.kind === 'return').map((e) => e.id))
  const writes = count('write')
  return {
    ops: kind.size - abandoned.size,
    writes,
    unknownWrites: [...kind].filter(([id, k]) => k === 'write' && !returned.has(id) && !abandoned.has(id)).length,
    consistentReads: count('consistent'),
    defaultReads: count('default'),
    staleModeReads: count('stale'),
    linearizable: lin.result,
    explanation: lin.explanation?.text ?? '',
    staleDefault: d.stale.length,
    staleStale: s.stale.length,
    impossible: d.impossible.length + s.impossible.length,
    undecided: d.undecided.length + s.undecided.length + (d.base === 'unknown' ? 1 : 0) + (s.base === 'unknown' ? 1 : 0),
  }
}

export function describeInput(i: KvInput): string {
  if (i.op === 'get') return `get ${i.key}`
  if (i.op === 'put') return `put ${i.key}=${i.value}`
  if (i.op === 'cas') return `cas ${i.key} ${i.expected}=>${i.value}`
  return `delete ${i.key}`
}
