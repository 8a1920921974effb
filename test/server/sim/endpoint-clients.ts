/**
 * Simulated clients of the server endpoint layer (src/server): each runs one operation at a time
 * against one Server, as an HTTP client of Consul's KV API would:
 * - `set`, `cas` (Consul's ?cas=<ModifyIndex> of the entry the client last saw; 0 when it saw none)
 *   and `delete` through KVS.Apply on the server the client believes leads. NotLeader means nothing
 *   was logged: the operation leaves the history. Any other failure (leadership lost, shutdown), a
 *   crash of that server or the client's timeout leave the outcome unknown: the call never returns;
 * - KVS.Get in the three consistency modes: `consistent` (the server's read barrier), `default` (the
 *   leader's own state; a follower refuses) and `stale` (any server's state).
 * Every call and return is recorded with the linearizability checker's event API as it happens; the
 * verdict is the core simulator's (sim-clients.ts checkHistory). Values are distinct per write, so a
 * value names the write, and with it the ModifyIndex a CAS compares (the kvModel's `expected`).
 */
import type { HistoryEvent, KvInput, KvOutput } from '../../../src/lib/linearizability/index.js'
import { NotLeaderError } from '../../../src/raft/errors.js'
import type { Server } from '../../../src/server/server.js'
import type { KvOp } from '../../../src/state/commands.js'
import type { Consistency } from '../../../src/server/types.js'
import { checkHistory, describeInput, type ClientReport, type OpKind } from '../../raft/core/sim-clients.js'

export interface EndpointView {
  now(): number
  /** The running incarnation of server `id`. */
  server(id: string): { server: Server; dead: boolean } | undefined
  up(): string[]
  /** The raft id behind a leader hint (an address). */
  idOf(address: string): string | undefined
  log(line: string): void
  /** A check failed inside a promise continuation: the simulator throws it at the end of the round. */
  fail(what: string): void
}

export interface EndpointClientOptions {
  clients: number
  keys: number
  rate: number
  timeoutTicks: number
}

interface Outstanding { id: number; kind: OpKind; server: string; deadline: number; afterHeal: boolean; key: string }

const b64 = (s: string): string => Buffer.from(s).toString('base64')

export class EndpointClients {
  readonly events: HistoryEvent<KvInput, KvOutput>[] = []
  readonly #kind = new Map<number, OpKind>()
  readonly #abandoned = new Set<number>()
  readonly #busy = new Map<number, Outstanding>()
  readonly #guess = new Map<number, string>()
  /** What each client last saw per key: the value and its ModifyIndex (0: none). */
  readonly #seen = new Map<string, { value: string | null; index: number }>()
  #nextId = 0
  #healedAt = Infinity
  answeredAfterHeal = 0
  answeredWrites = 0

  constructor(readonly view: EndpointView, readonly rand: () => number, readonly opts: EndpointClientOptions) {}

  get busy(): number { return this.#busy.size }

  healed(): void { this.#healedAt = this.events.length }

  tick(issue: boolean): void {
    for (const [client, o] of this.#busy) if (o.deadline <= this.view.now()) this.#giveUp(client, o, 'times out')
    if (!issue) return
    for (let c = 0; c < this.opts.clients; c++) if (!this.#busy.has(c) && this.rand() < this.opts.rate) this.#start(c)
  }

  /** After healing, until one is answered: client 0, when idle, writes through the normal path. */
  probeWrite(): void {
    if (this.answeredAfterHeal === 0 && !this.#busy.has(0)) this.#write(0, 'k0', 'put')
  }

  /** Operations on a crashed server never return. */
  crashed(server: string): void {
    for (const [client, o] of this.#busy) if (o.server === server) this.#giveUp(client, o, `lost ${server}`)
  }

  report(): ClientReport {
    return { ...checkHistory(this.events, this.#kind, this.#abandoned), answeredAfterHeal: this.answeredAfterHeal }
  }

  #start(client: number): void {
    const key = `k${Math.floor(this.rand() * this.opts.keys)}`
    const r = this.rand()
    if (r < 0.45) return this.#write(client, key, r < 0.25 ? 'put' : r < 0.41 ? 'cas' : 'delete')
    const mode: Consistency = r < 0.7 ? 'consistent' : r < 0.85 ? 'default' : 'stale'
    const up = this.view.up()
    if (up.length === 0) return
    const server = mode === 'stale' ? up[Math.floor(this.rand() * up.length)] : this.#target(client, up)
    const s = this.view.server(server)!
    const o = this.#call(client, mode, server, key, { op: 'get', key })
    s.server.kvs.get({ key, consistency: mode }).then(
      (reply) => {
        if (!this.#current(client, o, s)) return
        const e = reply.value[0]
        const value = e?.Value == null ? null : Buffer.from(e.Value).toString()
        this.#return(client, o, { kind: 'value', value })
        this.#seen.set(`${client}/${key}`, { value, index: e?.ModifyIndex ?? 0 })
      },
      (err: Error) => {
        if (!this.#current(client, o, s)) return
        this.#redirect(client, err)
        this.#giveUp(client, o, `fails (${err.name})`)
      },
    )
  }

  #write(client: number, key: string, verb: 'put' | 'cas' | 'delete'): void {
    const up = this.view.up()
    if (up.length === 0) return
    const server = this.#target(client, up)
    const s = this.view.server(server)!
    const value = `v${this.#nextId}`
    const seen = this.#seen.get(`${client}/${key}`) ?? { value: null, index: 0 }
    const op: KvOp = verb === 'put' ? { Verb: 'set', Key: key, Value: b64(value) }
      : verb === 'cas' ? { Verb: 'cas', Key: key, Value: b64(value), Index: seen.index }
      : { Verb: 'delete', Key: key }
    const input: KvInput = verb === 'put' ? { op: 'put', key, value } : verb === 'cas' ? { op: 'cas', key, expected: seen.value, value } : { op: 'delete', key }
    const o = this.#call(client, 'write', server, key, input)
    s.server.kvs.apply({ op }).then(
      (reply) => {
        if (!this.#current(client, o, s)) return
        const ok = reply.value
        if (typeof ok !== 'boolean') return this.view.fail(`KVS.Apply answered op ${o.id} (${describeInput(input)}) with ${JSON.stringify(ok)}, not a boolean`)
        this.#return(client, o, { kind: 'ok', ok })
        this.answeredWrites++
        if (o.afterHeal) this.answeredAfterHeal++
        if (ok === true) this.#seen.set(`${client}/${key}`, verb === 'delete' ? { value: null, index: 0 } : { value, index: reply.index })
      },
      (err: Error) => {
        if (!this.#current(client, o, s)) return
        this.#redirect(client, err)
        // NotLeader is answered before anything is logged: the write certainly had no effect.
        if (err instanceof NotLeaderError) {
          this.#busy.delete(client)
          this.#abandoned.add(o.id)
          this.view.log(`client ${client} op ${o.id} refused (not the leader): no effect`)
        } else {
          this.#giveUp(client, o, `fails (${err.name}: ${err.message})`)
        }
      },
    )
  }

  /** Whether an answer still counts: the client still waits for it, from a server that has not crashed since. */
  #current(client: number, o: Outstanding, s: { dead: boolean }): boolean {
    return this.#busy.get(client) === o && !s.dead
  }

  #target(client: number, up: string[]): string {
    const g = this.#guess.get(client)
    return g !== undefined && up.includes(g) ? g : up[Math.floor(this.rand() * up.length)]
  }

  /** A NotLeader answer carries the leader hint; the client tries there next time. */
  #redirect(client: number, err: Error): void {
    const to = err instanceof NotLeaderError ? this.view.idOf(err.leader) : undefined
    if (to !== undefined) this.#guess.set(client, to)
    else this.#guess.delete(client)
  }

  #call(client: number, kind: OpKind, server: string, key: string, input: KvInput): Outstanding {
    const o: Outstanding = { id: this.#nextId++, kind, server, key, deadline: this.view.now() + this.opts.timeoutTicks, afterHeal: this.events.length >= this.#healedAt }
    this.#kind.set(o.id, kind)
    this.#busy.set(client, o)
    this.#guess.set(client, server)
    this.events.push({ kind: 'call', id: o.id, clientId: client, input })
    this.view.log(`client ${client} op ${o.id} ${kind} ${describeInput(input)} at ${server}`)
    return o
  }

  #return(client: number, o: Outstanding, output: KvOutput): void {
    this.#busy.delete(client)
    this.events.push({ kind: 'return', id: o.id, output })
    this.view.log(`client ${client} op ${o.id} -> ${output.kind === 'ok' ? String(output.ok) : output.kind === 'value' ? JSON.stringify(output.value) : '?'}`)
  }

  /** The client stops waiting: a write's outcome stays unknown, a read leaves the history. */
  #giveUp(client: number, o: Outstanding, why: string): void {
    this.#busy.delete(client)
    if (o.kind !== 'write') this.#abandoned.add(o.id)
    this.view.log(`client ${client} op ${o.id} ${why}: ${o.kind === 'write' ? 'outcome unknown' : 'read abandoned'}`)
  }
}
