/**
 * A cluster of real `consul agent` processes on loopback that a nemesis can hurt: 3 or 5 servers
 * and some client agents. Server i binds 127.<net>.1.i and advertises 127.<net>.2.i, where fault
 * proxies forward its server RPC and LAN (TCP) ports; agents dial from their bind address, so
 * blocking a source address at a proxy cuts exactly one direction of one link (who dials whom).
 * LAN gossip over UDP goes to the advertised address, where nothing listens: gossip runs on its TCP
 * fallback, through the proxies, so a partition cuts gossip too. Client agents bind 127.<net>.3.j.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, tempDir, removeDir, type RunningAgent } from '../helpers/agent.js'
import { FaultProxy } from '../helpers/fault-proxy.js'

export interface ClusterSpec {
  servers: number
  clients: number
  /** The second octet of every address (127.<net>.x.y): runs that share a machine use different ones. */
  net: number
  /** Extra agent config (merged into each agent's config file). */
  config?: Record<string, unknown>
}

export interface Member {
  name: string
  kind: 'server' | 'client'
  bind: string
  advertise: string
  dataDir: string
  /** Fixed across restarts: a workload keeps using it. */
  httpAddr: string
  /** DNS (UDP and TCP) on the bind address. */
  dnsPort: number
  agent: RunningAgent | undefined
  proxies: FaultProxy[]
  paused: boolean
  /** Environment for the next start (a nemesis may set LD_PRELOAD and friends). */
  env: NodeJS.ProcessEnv
  /** Set while a nemesis stops or kills it on purpose. */
  expectExit: boolean
}

export interface Crash {
  member: string
  code: number | null
  signal: NodeJS.Signals | null
  tail: string
}

export interface Hooks {
  prepare?(m: Member): void
  teardown?(): void
}

export class Cluster {
  readonly servers: Member[] = []
  readonly clients: Member[] = []
  readonly crashes: Crash[] = []
  /** Every earlier process's log per member (a restart starts a new one), for a failed cell's report. */
  readonly #pastLogs = new Map<string, string[]>()
  readonly #dir = tempDir('reliability-')
  readonly #ports: { server: number; lan: number; wan: number; http: number; dns: number }
  readonly #configFile: string
  #hooks: Hooks = {}

  private constructor(readonly spec: ClusterSpec) {
    const base = 20000 + Math.floor(Math.random() * 20000)
    this.#ports = { server: base, lan: base + 1, wan: base + 2, http: base + 3, dns: base + 4 }
    this.#configFile = join(this.#dir, 'agent.json')
    // Consul's dev timing (elections within about a second), and reconnects fast enough for short runs.
    writeFileSync(this.#configFile, JSON.stringify({ performance: { raft_multiplier: 1 }, ...spec.config }))
  }

  get members(): Member[] {
    return [...this.servers, ...this.clients]
  }

  /** `hooks.prepare` runs on each member before its first start, `hooks.teardown` after the last stop. */
  static async start(spec: ClusterSpec, hooks: Hooks = {}): Promise<Cluster> {
    const c = new Cluster(spec)
    c.#hooks = hooks
    for (let i = 1; i <= spec.servers; i++) c.servers.push(await c.#member('server', i))
    for (let j = 1; j <= spec.clients; j++) c.clients.push(await c.#member('client', j))
    for (const m of c.members) hooks.prepare?.(m)
    await Promise.all(c.members.map((m) => c.startMember(m)))
    return c
  }

  async #member(kind: 'server' | 'client', i: number): Promise<Member> {
    const n = this.spec.net
    const bind = kind === 'server' ? `127.${n}.1.${i}` : `127.${n}.3.${i}`
    const advertise = kind === 'server' ? `127.${n}.2.${i}` : bind
    const dataDir = join(this.#dir, `${kind[0]}${i}`)
    mkdirSync(dataDir, { recursive: true })
    const proxies = kind === 'server' ? await Promise.all([this.#ports.server, this.#ports.lan].map((port) => FaultProxy.start({ host: advertise, port }, { host: bind, port }))) : []
    return { name: `${kind[0]}${i}`, kind, bind, advertise, dataDir, httpAddr: `http://${bind}:${this.#ports.http}`, dnsPort: this.#ports.dns, agent: undefined, proxies, paused: false, env: {}, expectExit: false }
  }

  /** Starts (or restarts, on its data dir) one member; an exit nobody asked for is a crash. */
  async startMember(m: Member): Promise<void> {
    const join = `-retry-join=${this.servers[0]!.advertise}:${this.#ports.lan}`
    const args = [`-bind=${m.bind}`, `-advertise=${m.advertise}`, `-client=${m.bind}`, `-http-port=${this.#ports.http}`, `-dns-port=${this.#ports.dns}`, `-serf-lan-port=${this.#ports.lan}`, join, '-retry-interval=200ms', `-config-file=${this.#configFile}`]
    const agent = m.kind === 'server'
      ? await startAgent({ dataDir: m.dataDir, node: m.name, bootstrapExpect: this.spec.servers, env: m.env, args: [...args, `-server-port=${this.#ports.server}`, `-serf-wan-port=${this.#ports.wan}`] })
      : await startAgent({ dataDir: m.dataDir, node: m.name, client: true, env: m.env, args })
    m.agent = agent
    m.expectExit = false
    m.paused = false
    agent.proc.once('exit', (code, signal) => {
      const past = this.#pastLogs.get(m.name) ?? []
      past.push(`==== ${m.name} exited (${code ?? signal}) at ${new Date().toISOString()}\n${agent.output()}`)
      this.#pastLogs.set(m.name, past)
      if (m.expectExit || m.agent !== agent) return
      this.crashes.push({ member: m.name, code, signal, tail: agent.output().split('\n').slice(-30).join('\n') })
      m.agent = undefined
    })
  }

  /** Writes every member's logs so far (earlier processes first) to `dir`/<member>.log. */
  saveLogs(dir: string): void {
    mkdirSync(dir, { recursive: true })
    for (const m of this.members) {
      const live = m.agent && this.up(m) ? [`==== ${m.name} running\n${m.agent.output()}`] : []
      writeFileSync(join(dir, `${m.name}.log`), [...(this.#pastLogs.get(m.name) ?? []), ...live].join('\n'))
    }
  }

  up(m: Member): boolean {
    return m.agent !== undefined && m.agent.proc.exitCode === null && m.agent.proc.signalCode === null
  }

  /** The leader every live, running server names, once they agree; undefined when they do not (yet). */
  async leader(): Promise<Member | undefined> {
    const live = this.servers.filter((m) => this.up(m) && !m.paused)
    const seen = await Promise.all(live.map((m) => fetch(`${m.httpAddr}/v1/status/leader`, { signal: AbortSignal.timeout(2000) }).then((r) => r.json() as Promise<string>).catch(() => '')))
    if (seen.length === 0 || seen[0] === '' || seen.some((l) => l !== seen[0])) return undefined
    return this.servers.find((m) => seen[0] === `${m.advertise}:${this.#ports.server}`)
  }

  async kill9(m: Member): Promise<void> {
    if (!this.up(m)) return
    m.expectExit = true
    if (m.paused) m.agent!.proc.kill('SIGCONT')
    await m.agent!.kill9()
    m.paused = false
  }

  async restart(m: Member): Promise<void> {
    if (this.up(m)) return
    await this.startMember(m)
  }

  pause(m: Member): void {
    if (!this.up(m) || m.paused) return
    m.agent!.proc.kill('SIGSTOP')
    m.paused = true
  }

  resume(m: Member): void {
    if (!m.paused) return
    if (this.up(m)) m.agent!.proc.kill('SIGCONT')
    m.paused = false
  }

  /** From now on `from` cannot reach `to` (its connections to `to` are cut and refused); `to` may still reach `from`. */
  block(from: Member, to: Member): void {
    for (const p of to.proxies) p.block(from.bind)
  }

  /** Both directions between every member of `a` and every member of `b`. */
  cut(a: readonly Member[], b: readonly Member[]): void {
    for (const x of a) for (const y of b) {
      this.block(x, y)
      this.block(y, x)
    }
  }

  heal(): void {
    for (const m of this.members) for (const p of m.proxies) for (const other of this.members) p.unblock(other.bind)
  }

  /** Everything back: no partition, nothing paused, every member running. */
  async restore(): Promise<void> {
    this.heal()
    for (const m of this.members) this.resume(m)
    for (const m of this.members) if (!this.up(m)) await this.restart(m)
  }

  async stop(): Promise<void> {
    this.heal()
    for (const m of this.members) this.resume(m)
    await Promise.all(this.members.map(async (m) => {
      m.expectExit = true
      await m.agent?.stop()
    }))
    await Promise.all(this.members.flatMap((m) => m.proxies.map((p) => p.close())))
    this.#hooks.teardown?.()
    removeDir(this.#dir)
  }
}
