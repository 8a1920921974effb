/**
 * The driver-level cluster simulator: the core simulator's faults (test/raft/core/sim.ts) over the
 * whole server stack. Each server is a RaftDriver running the core over a RaftStorage on the lossy
 * journal (journal-storage.ts), a Transport on the faulty network (sim-transport.ts), the real state
 * machine (state/fsm.ts over a StateStore) and a Server of the endpoint layer (src/server, with its
 * leader loop); clients call KVS.Apply and KVS.Get on the Servers (endpoint-clients.ts).
 *
 * Everything runs on one VirtualClock and one seeded PRNG, and nothing reaches a real timer: a step
 * advances the clock by one raft tick (every driver ticks), then delivers due messages, runs the
 * deferred work (the drivers' Ready loops) and lets promise continuations (the endpoints' awaits)
 * run, until all three are quiet. Storage answers synchronously, so a Ready loop never waits.
 * After every step: the core simulator's safety checks on each driver's core (election safety, log
 * matching, leader completeness, state-machine safety at the raft level), plus state-machine safety
 * on the real FSM (two servers at one applied index hold the same state). `run()` then heals, checks
 * liveness and convergence, and checks the clients' history (consistent reads and writes
 * linearizable; default and stale anomalies counted). A seed replays exactly.
 */
import { VirtualClock } from '../../../src/lib/clock.js'
import { mulberry32 } from '../../../src/lib/prng.js'
import type { Message } from '../../../src/raft/core/types.js'
import { RaftDriver } from '../../../src/raft/driver.js'
import type { RaftServer, StateMachine } from '../../../src/raft/types.js'
import { Server } from '../../../src/server/server.js'
import { Fsm } from '../../../src/state/fsm.js'
import { StateStore } from '../../../src/state/store.js'
import type { ClientReport } from '../../raft/core/sim-clients.js'
import { SafetyChecks } from '../../raft/core/sim-checks.js'
import { PARTITION_KINDS, SimNetwork } from '../../raft/core/sim-network.js'
import { SimStorage } from '../../raft/core/sim-storage.js'
import { SimFailure } from '../../raft/core/sim.js'
import { EndpointClients } from './endpoint-clients.js'
import { JournalStorage } from './journal-storage.js'
import { SimTransport } from './sim-transport.js'

/** The classes under test: a test may pass patched copies (a deliberately broken driver or endpoint layer). */
export interface Implementation {
  RaftDriver: typeof RaftDriver
  Server: typeof Server
}

export interface DriverSimOptions {
  seed: number
  /** Voters (3 to 7). */
  nodes?: number
  steps?: number
  dropRate?: number
  /** Chance per step that a server crashes between steps; half of it again per write that a crash interrupts before its fsync. */
  crashRate?: number
  partitionRate?: number
  /** Chance that a new leader is fragile: it crashes within a few ticks, its messages reaching a minority only. */
  fragileLeaderRate?: number
  /** Every new leader is fragile (leaders come and go with divergent uncommitted tails). */
  leaderChurn?: boolean
  /** Applied entries between the drivers' own snapshots (small, so followers catch up by InstallSnapshot). */
  snapshotThreshold?: number
  trailingLogs?: number
  /** The drivers' log cache: small, so slow followers are served entries read back from storage. */
  logCacheEntries?: number
  clients?: number
  traceMessages?: boolean
  impl?: Implementation
}

export interface DriverSimResult {
  seed: number
  steps: number
  clients: ClientReport
  snapshotsInstalled: number
  crashes: number
}

/** One raft tick of virtual time; with raft_multiplier 1 the election timeout is 10 ticks. */
export const TICK_MS = 100
const HEAL_LOAD_STEPS = 60
const HEAL_QUIET_STEPS_MAX = 240
/** Promise continuations per round: enough for an endpoint's await chain, each one cheap. */
const MICROTASK_TURNS = 6

interface Incarnation {
  id: string
  raft: RaftDriver
  fsm: Fsm
  server: Server
  storage: JournalStorage
  dead: boolean
  /** Identifies this incarnation's transport. */
  token: object
  /** The applied index last digested, for the FSM check. */
  digestedAt: number
}

export class DriverSim {
  readonly trace: string[] = []
  readonly checks: SafetyChecks
  readonly clients: EndpointClients
  readonly clock = new VirtualClock(0)
  readonly #o: Required<Omit<DriverSimOptions, 'impl'>> & { impl: Implementation }
  readonly #rand: () => number
  readonly #ids: string[]
  readonly #disks = new Map<string, SimStorage>()
  readonly #up = new Map<string, Incarnation>()
  readonly #down = new Map<string, number>()
  /** Crashed incarnations whose driver and server still have to be stopped (outside their own loop). */
  readonly #dying: Incarnation[] = []
  readonly #net: SimNetwork
  readonly #transport: SimTransport
  /** Fragile leaders: the tick they crash at, and the servers their messages reach until then. */
  readonly #doomed = new Map<string, { at: number; reach: Set<string> | undefined }>()
  /** FSM state digest per applied index (the first server to report it). */
  readonly #stateAt = new Map<number, { digest: string; by: string }>()
  #tick = 0
  #steps = 0
  #healed = false
  #proposals = 0
  #crashes = 0
  #installs = 0
  /** The first check that failed inside a promise continuation, thrown by the step loop. */
  #failure: Error | undefined

  constructor(opts: DriverSimOptions) {
    this.#o = {
      nodes: 5, steps: 400, dropRate: 0.1, crashRate: 0.01, partitionRate: 0.02, fragileLeaderRate: 0.15, leaderChurn: false,
      snapshotThreshold: 24, trailingLogs: 2, logCacheEntries: 2, clients: 3, traceMessages: false, ...opts, impl: opts.impl ?? { RaftDriver, Server },
    }
    if (this.#o.nodes < 1 || this.#o.nodes > 7) throw new RangeError('the driver simulator runs 1 to 7 servers')
    this.#rand = mulberry32(opts.seed)
    this.#net = new SimNetwork(this.#rand, { drop: this.#o.dropRate, duplicate: 0.05, delay: 0.45, longDelay: 0.02 })
    this.#transport = new SimTransport(this.#net, {
      now: () => this.#tick,
      reliable: () => this.#healed,
      admit: (m, token) => this.#admit(m, token),
    })
    this.checks = new SafetyChecks((what) => this.#fail(what))
    this.#ids = Array.from({ length: this.#o.nodes }, (_, i) => `n${i + 1}`)
    this.clients = new EndpointClients(
      {
        now: () => this.#tick,
        server: (id) => this.#up.get(id),
        up: () => [...this.#up.keys()],
        idOf: (address) => this.#ids.find((id) => address === addressOf(id)),
        log: (line) => this.#log(line),
        fail: (what) => {
          try { this.#fail(what) } catch (err) { this.#failure ??= err as Error }
        },
      },
      this.#rand,
      { clients: this.#o.clients, keys: 3, rate: 0.3, timeoutTicks: 40 },
    )
    for (const id of this.#ids) this.#disks.set(id, new SimStorage())
  }

  get now(): number { return this.#tick }
  get ids(): readonly string[] { return this.#ids }
  incarnation(id: string): Incarnation | undefined { return this.#up.get(id) }
  /** The running leader of the highest term, if any. */
  leader(): Incarnation | undefined {
    let best: Incarnation | undefined
    for (const s of this.#up.values()) if (s.raft.core.role === 'leader' && (best === undefined || s.raft.core.term > best.raft.core.term)) best = s
    return best
  }

  /** Starts every server (awaited: a driver opens asynchronously). */
  async start(): Promise<void> {
    for (const id of this.#ids) await this.#start(id)
  }

  async run(): Promise<DriverSimResult> {
    await this.start()
    for (let i = 0; i < this.#o.steps; i++) await this.step(true, true)
    await this.heal()
    for (let i = 0; i < HEAL_LOAD_STEPS; i++) await this.step(false, true)
    for (let i = 0; i < HEAL_QUIET_STEPS_MAX; i++) {
      if (i % 5 === 0 && this.converged() === '' && this.clients.busy === 0 && this.clients.answeredAfterHeal > 0) break
      this.clients.probeWrite()
      await this.step(false, false)
    }
    const why = this.converged()
    if (why !== '') this.#fail(`liveness: ${why}`)
    await this.#checkProbe()
    const report = this.clients.report()
    if (report.linearizable !== 'ok') this.#fail(`linearizability: consistent reads and writes are ${report.linearizable}\n${report.explanation}`)
    if (report.impossible > 0) this.#fail(`${report.impossible} read(s) returned a value no earlier state held`)
    if (report.answeredAfterHeal === 0) this.#fail('liveness: no client write issued after healing was answered')
    for (const s of this.#up.values()) {
      s.server.stop()
      await s.raft.close()
    }
    return { seed: this.#o.seed, steps: this.#steps, clients: report, snapshotsInstalled: this.#installs, crashes: this.#crashes }
  }

  /** Ends every fault: the network is whole and reliable, and every crashed server restarts. */
  async heal(): Promise<void> {
    this.#healed = true
    this.#net.heal()
    this.#doomed.clear()
    for (const id of [...this.#down.keys()]) await this.#restart(id)
    this.clients.healed()
    this.#log('healed: network whole and reliable, all servers up')
  }

  async step(faults: boolean, load: boolean): Promise<void> {
    this.#tick++
    this.#steps++
    if (faults) this.#faults()
    for (const [id, at] of this.#down) if (at <= this.#tick) await this.#restart(id)
    if (load) {
      for (const s of this.#up.values()) {
        if (s.raft.core.role === 'leader' && this.#rand() < 0.3) {
          const p = ++this.#proposals
          // Background load through the same endpoint, unrecorded.
          s.server.kvs.apply({ op: { Verb: 'set', Key: '_load', Value: Buffer.from(`p${p}`).toString('base64') } }).catch(() => undefined)
        }
      }
    }
    this.clients.tick(load)
    this.#bury()
    this.clock.advance(TICK_MS)
    await this.#drain()
    this.#bury()
    this.checks.step([...this.#up.values()].map((s) => s.raft.core), (line) => this.#newLeader(line))
    this.#checkStates()
  }

  crash(id: string, why: string): void {
    const s = this.#up.get(id)
    if (s === undefined) return
    s.dead = true
    this.#up.delete(id)
    this.#dying.push(s)
    this.#doomed.delete(id)
    this.#crashes++
    this.#down.set(id, this.#tick + 5 + Math.floor(this.#rand() * 20))
    const r = this.#disks.get(id)!.crash(this.#rand)
    this.#log(`${id} crashes ${why}${r.lost ? `, losing ${r.lost} unsynced record(s)${r.torn ? ', the first torn' : ''}` : ''}`)
    this.clients.crashed(id)
  }

  /** '' once there is one leader and every member is up with the leader's applied index and state; else why not. */
  converged(): string {
    const leaders = [...this.#up.values()].filter((s) => s.raft.core.role === 'leader')
    if (leaders.length !== 1) return `${leaders.length} leaders after healing`
    const l = leaders[0]
    const log = l.raft.core.log
    if (l.raft.appliedIndex() !== log.lastIndex()) return `the leader ${l.id} applied ${l.raft.appliedIndex()} of ${log.lastIndex()}`
    const want = l.fsm.snapshotText()
    for (const id of l.raft.core.conf().voters) {
      const s = this.#up.get(id)
      if (s === undefined) return `member ${id} is down after healing`
      if (s.raft.appliedIndex() !== l.raft.appliedIndex()) return `${id} applied ${s.raft.appliedIndex()}, the leader ${l.raft.appliedIndex()}`
      if (s.fsm.snapshotText() !== want) return `${id}'s state differs from the leader's`
    }
    return ''
  }

  /** After healing: a write through the leader's endpoint commits within a few election timeouts. */
  async #checkProbe(): Promise<void> {
    const l = this.leader()!
    let answer: string | undefined
    l.server.kvs.apply({ op: { Verb: 'set', Key: '_probe', Value: Buffer.from('probe').toString('base64') } }).then(
      (r) => void (answer = `ok ${String(r.value)}`),
      (err: Error) => void (answer = `${err.name}: ${err.message}`),
    )
    for (let i = 0; i < 50 && answer === undefined; i++) await this.step(false, false)
    if (answer !== 'ok true') this.#fail(`liveness: a write through the leader's KVS.Apply after healing: ${answer ?? 'no answer within 50 ticks'}`)
    if (l.fsm.state.kv.get('_probe')?.Value?.toString() !== 'probe') this.#fail('liveness: the probe write is not in the leader\'s state')
  }

  /** Deliveries, Ready loops and promise continuations, until two rounds in a row find nothing to do. */
  async #drain(): Promise<void> {
    const trace = this.#o.traceMessages ? (line: string) => this.#log(line) : undefined
    for (let round = 0, quiet = 0; quiet < 2; round++) {
      if (round > 10_000) this.#fail('the cluster does not settle within a tick')
      const delivered = this.#transport.deliver(trace)
      const ran = this.clock.runDeferred()
      // Continuations may propose or read (deferring a driver loop); what the loops sent may be due now.
      for (let i = 0; i < MICROTASK_TURNS; i++) await null
      if (this.#failure) throw this.#failure
      quiet = delivered === 0 && ran === 0 ? quiet + 1 : 0
    }
  }

  /** Stops what crashed servers left running: their timers, leader duties and pending calls. */
  #bury(): void {
    for (const s of this.#dying.splice(0)) {
      s.server.stop()
      void s.raft.close()
    }
  }

  /**
   * State-machine safety on the real FSM: two servers that applied the same index hold the same KV
   * table (entries with their indexes, and tombstones). The whole state (catalog, sessions, queries
   * too) is compared once converged; serialising it after every step would cost most of the run.
   */
  #checkStates(): void {
    for (const s of this.#up.values()) {
      const at = s.raft.appliedIndex()
      if (at === s.digestedAt) continue
      s.digestedAt = at
      const digest = kvDigest(s.fsm.state)
      const seen = this.#stateAt.get(at)
      if (seen === undefined) this.#stateAt.set(at, { digest, by: s.id })
      else if (seen.digest !== digest) this.#fail(`state-machine safety: ${s.id} and ${seen.by} hold different states at applied index ${at}\n${s.id}: ${digest}\n${seen.by}: ${seen.digest}`)
    }
  }

  #faults(): void {
    const r = this.#rand()
    const up = [...this.#up.keys()]
    if (r < this.#o.crashRate) {
      if (up.length > 0) this.crash(up[Math.floor(this.#rand() * up.length)], 'between steps')
    } else if (r < this.#o.crashRate + this.#o.partitionRate) {
      if (this.#net.partition !== '' && this.#rand() < 0.5) {
        this.#net.heal()
        this.#log('partition healed')
      } else {
        const kind = PARTITION_KINDS[Math.floor(this.#rand() * PARTITION_KINDS.length)]
        this.#log(`partition: ${this.#net.cut(kind, this.#ids, this.leader()?.id ?? '')}`)
      }
    }
    for (const [id, d] of this.#doomed) if (d.at <= this.#tick) this.crash(id, 'soon after its election')
  }

  /** Whether `m` leaves its sender: a dead incarnation sends nothing, a fragile leader reaches its minority only. */
  #admit(m: Message, token: object): boolean {
    const s = this.#up.get(m.from)
    if (s === undefined || s.dead || s.token !== token) return false
    // A crash while a Ready's messages go out: the rest of them are lost, and nothing after them happens.
    if (!this.#healed && this.#rand() < this.#o.crashRate / 20) {
      this.crash(m.from, `while sending (${m.type} to ${m.to} lost)`)
      return false
    }
    const reach = this.#doomed.get(m.from)?.reach
    return reach === undefined || reach.has(m.to)
  }

  #newLeader(line: string): void {
    this.#log(line)
    if (this.#healed) return
    for (const s of this.#up.values()) {
      const n = s.raft.core
      if (n.role !== 'leader' || this.#doomed.has(n.id)) continue
      if (!this.#o.leaderChurn && this.#rand() >= this.#o.fragileLeaderRate) continue
      const others = n.conf().voters.filter((v) => v !== n.id)
      // A minority of the voters with the leader itself: what it appends there cannot commit.
      const reach = this.#rand() < 0.7 ? new Set(others.filter(() => this.#rand() < 0.5).slice(0, Math.floor((others.length + 1) / 2) - 1)) : undefined
      this.#doomed.set(n.id, { at: this.#tick + 1 + Math.floor(this.#rand() * 5), reach })
      this.#log(`${n.id} is fragile${reach ? `: its messages reach [${[...reach]}] only` : ''}`)
    }
  }

  async #start(id: string): Promise<void> {
    const disk = this.#disks.get(id)!
    const store = new StateStore(() => this.clock.now())
    const fsm = new Fsm(store)
    let me: Incarnation | undefined
    const token = {}
    const storage = new JournalStorage(disk, {
      appending: (entries) => { if (me !== undefined && entries.length > 0) this.checks.appended(me.raft.core, entries) },
      crashBeforeSync: (what) => {
        if (this.#healed || this.#rand() >= this.#o.crashRate / 2) return false
        this.crash(id, `${what}, before its fsync`)
        return true
      },
      dead: () => me?.dead ?? false,
    })
    const applied = (index: number): void => {
      const e = me?.raft.core.log.entry(index)
      if (e !== undefined) this.checks.applied(id, e)
    }
    const machine: StateMachine = {
      apply: (index, data) => { applied(index); return fsm.apply(index, data) },
      skip: (index) => { applied(index); fsm.skip(index) },
      // Synchronous, so the driver's snapshot step is too (no event-loop turn inside a step).
      snapshot: () => Buffer.from(fsm.snapshotText(), 'utf8'),
      restore: (data) => {
        fsm.restore(data)
        if (me !== undefined) { this.#installs++; this.#log(`${id} restores a snapshot through ${fsm.state.lastIndex}`) }
      },
    }
    const bootstrap: RaftServer[] = this.#ids.map((x) => ({ id: x, address: addressOf(x), voter: true }))
    const { RaftDriver: Driver, Server: EndpointServer } = this.#o.impl
    const raft = await Driver.open({
      id, address: addressOf(id), storage, fsm: machine, clock: this.clock, random: mulberry32(Math.floor(this.#rand() * 2 ** 31)),
      transport: this.#transport.connect(id, token), bootstrap, addresses: new Map(this.#ids.map((x) => [x, addressOf(x)])),
      raftMultiplier: 1, tickMs: TICK_MS, snapshotThreshold: this.#o.snapshotThreshold, snapshotIntervalMs: 0, trailingLogs: this.#o.trailingLogs, logCacheEntries: this.#o.logCacheEntries,
      log: (level, message) => { if (level !== 'info' || !message.startsWith('raft: ignored')) this.#log(`${id} ${level} ${message}`) },
    })
    let ids = 0
    const idRand = mulberry32(Math.floor(this.#rand() * 2 ** 31))
    const server = new EndpointServer({
      state: store, raft, datacenter: 'dc1', clock: this.clock,
      log: (level, message) => { if (level !== 'debug') this.#log(`${id} ${level} ${message}`) },
      self: () => ({ serverId: id, serverPort: 8300, node: { ID: `00000000-0000-0000-0000-00000000000${id.slice(1)}`, Node: id, Address: addressOf(id).split(':')[0], Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} } }),
      random: mulberry32(Math.floor(this.#rand() * 2 ** 31)),
      newId: () => `${id}-${++ids}-${Math.floor(idRand() * 1e9)}`,
    })
    me = { id, raft, fsm, server, storage, dead: false, token, digestedAt: -1 }
    this.#up.set(id, me)
    server.start()
    this.checks.started(raft.core)
    if (storage.tornBytes > 0) this.#log(`${id} drops a torn last record (${storage.tornBytes} bytes)`)
  }

  async #restart(id: string): Promise<void> {
    this.#down.delete(id)
    await this.#start(id)
    const n = this.#up.get(id)!.raft.core
    this.#log(`${id} restarts at term ${n.term}, last ${n.log.lastIndex()}/${n.log.lastTerm()}, commit ${n.log.committed}, applied ${this.#up.get(id)!.raft.appliedIndex()}`)
  }

  #log(line: string): void {
    this.trace.push(`t${this.#tick} ${line}`)
  }

  /** One line per server: the state a failure report needs. */
  describe(): string[] {
    return this.#ids.map((id) => {
      const s = this.#up.get(id)
      if (!s) return `${id} down`
      const n = s.raft.core
      const c = n.conf()
      return `${id} ${n.role} term ${n.term} leader ${n.leader || '-'} last ${n.log.lastIndex()}/${n.log.lastTerm()} commit ${n.log.committed} ` +
        `applied ${s.raft.appliedIndex()} snap ${n.log.snapshotIndex} voters [${c.voters}] kv ${JSON.stringify([...s.fsm.state.kv.entries.values()].filter((e) => !e.Key.startsWith('_')).map((e) => `${e.Key}=${e.Value?.toString()}@${e.ModifyIndex}`))}`
    })
  }

  #fail(what: string): never {
    const tail = this.trace.slice(this.#o.traceMessages ? -200 : -60)
    throw new SimFailure(this.#o.seed, `DRIVER_SIM_SEED=${this.#o.seed} (${this.#o.nodes} servers) at tick ${this.#tick}: ${what}\n${tail.join('\n')}\n${this.describe().join('\n')}`, what)
  }
}

const addressOf = (id: string): string => `10.0.0.${id.slice(1)}:8300`

/** The KV table as text: every entry with its value and indexes, every tombstone, the table's index. */
function kvDigest(state: StateStore): string {
  const parts: string[] = [String(state.lastIndex)]
  state.kv.entries.forEach((e) => void parts.push(`${e.Key}=${e.Value?.toString('base64') ?? '-'}@${e.CreateIndex}/${e.ModifyIndex}/${e.LockIndex}/${e.Flags}/${e.Session ?? ''}`))
  state.kv.tombstones.forEach((i, k) => void parts.push(`-${k}@${i}`))
  return parts.join(' ')
}
