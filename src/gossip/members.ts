/**
 * LAN membership until SWIM gossip lands (issue 14): agents learn of each other by joining an
 * address (`-join`, `retry_join`) and then exchanging their whole member lists with every member
 * they know, once a period, over RPC on the serf LAN port (push-pull, as serf's state sync does).
 * A member that does not answer `failAfter` exchanges in a row is marked failed; one that answers
 * again is alive; a member that leaves says so. The list survives restarts in `snapshotFile`, so a
 * restarted agent rejoins on its own (serf's local.snapshot). The seam gossip will fill: `join`,
 * `list`, `onChange`, `leave`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Clock, Timer } from '../lib/clock.js'
import type { RpcServer } from '../rpc/server.js'

/** serf's member status codes as Consul's API shows them (Status in /v1/agent/members). */
export const MemberStatus = { alive: 1, leaving: 2, left: 3, failed: 4 } as const
export type MemberStatusName = keyof typeof MemberStatus

export interface Member {
  name: string
  /** The agent's LAN address and serf LAN port. */
  addr: string
  port: number
  tags: Record<string, string>
  status: MemberStatusName
}

/** WARNING: on the wire (RPC method names). */
export const PUSH_PULL_METHOD = 'Member.PushPull'
export const LEAVE_METHOD = 'Member.Leave'

export interface MembersOptions {
  /** The RPC server listening on this agent's serf LAN port. */
  rpc: RpcServer
  self: () => Member
  clock: Clock
  log: (level: 'info' | 'warn' | 'error', message: string) => void
  /** Where the member list is kept between runs; none in dev mode. */
  snapshotFile?: string
  periodMs?: number
  failAfter?: number
  callTimeoutMs?: number
}

interface Known extends Member {
  misses: number
}

const isMember = (v: unknown): v is Member => {
  const m = v as Member
  return (
    typeof m === 'object' && m !== null && typeof m.name === 'string' && m.name !== '' && typeof m.addr === 'string' &&
    Number.isInteger(m.port) && typeof m.tags === 'object' && m.tags !== null && typeof m.status === 'string' && m.status in MemberStatus
  )
}

export const memberAddress = (m: Pick<Member, 'addr' | 'port'>): string => (m.addr.includes(':') ? `[${m.addr}]:${m.port}` : `${m.addr}:${m.port}`)

export class Members {
  readonly #o: Required<Omit<MembersOptions, 'snapshotFile'>> & { snapshotFile?: string }
  readonly #known = new Map<string, Known>()
  readonly #listeners = new Set<(m: Member) => void>()
  #timer: Timer | undefined
  #running = false
  #left = false
  /** The list changed since it was last written. */
  #dirty = false

  constructor(o: MembersOptions) {
    this.#o = { ...o, periodMs: o.periodMs ?? 1000, failAfter: o.failAfter ?? 3, callTimeoutMs: o.callTimeoutMs ?? 1000 }
    o.rpc.handle(PUSH_PULL_METHOD, (body) => this.#pushPull(body))
    o.rpc.handle(LEAVE_METHOD, (body) => {
      const name = (body as { name?: unknown } | null)?.name
      const m = typeof name === 'string' ? this.#known.get(name) : undefined
      if (m && m.status !== 'left') this.#set(m, 'left')
      return true
    })
  }

  /** Every member, this agent first. */
  list(): Member[] {
    return [this.#o.self(), ...[...this.#known.values()].map(({ misses: _, ...m }) => m)]
  }

  /** Called with a member that appeared or changed status. */
  onChange(fn: (m: Member) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /** Starts the periodic exchange, and rejoins the members of the last run. */
  start(): void {
    this.#running = true
    // Members of the last run are who to rejoin, not known alive: each is alive once it answers.
    for (const m of this.#readSnapshot()) this.#learn({ ...m, status: 'failed' })
    this.#schedule()
  }

  /**
   * Exchanges lists with each address (`host`, `host:port`; the default port is `defaultPort`).
   * Resolves with the number that answered and why the others did not.
   */
  async join(addresses: readonly string[], defaultPort: number): Promise<{ joined: number; errors: string[] }> {
    this.#left = false
    const results = await Promise.all(
      addresses.map((a) => {
        const address = withPort(a, defaultPort)
        // retry_join has its own interval: each attempt really dials, whatever the last one found.
        this.#o.rpc.retryNow(address)
        return this.#exchange(address)
      }),
    )
    const errors = results.filter((r): r is string => typeof r === 'string')
    return { joined: results.length - errors.length, errors }
  }

  /** Tells every member this agent leaves, and stops. */
  async leave(): Promise<void> {
    this.#left = true
    const me = this.#o.self().name
    await Promise.all([...this.#known.values()].filter((m) => m.status === 'alive').map((m) => this.#o.rpc.call(memberAddress(m), LEAVE_METHOD, { name: me }, { timeoutMs: this.#o.callTimeoutMs })))
    this.stop()
  }

  stop(): void {
    this.#running = false
    this.#timer?.cancel()
    this.#timer = undefined
  }

  #schedule(): void {
    if (!this.#running) return
    this.#timer = this.#o.clock.setTimeout(() => void this.#round().finally(() => this.#schedule()), this.#o.periodMs)
  }

  async #round(): Promise<void> {
    const peers = [...this.#known.values()].filter((m) => m.status !== 'left')
    await Promise.all(peers.map((m) => this.#exchange(memberAddress(m), m)))
    if (this.#dirty) this.#writeSnapshot()
  }

  /** One push-pull; undefined on success, else the reason. */
  async #exchange(address: string, known?: Known): Promise<string | undefined> {
    const r = await this.#o.rpc.call<{ members?: unknown }>(address, PUSH_PULL_METHOD, { members: this.list() }, { timeoutMs: this.#o.callTimeoutMs })
    if (!r.ok) {
      if (known && known.status === 'alive' && ++known.misses >= this.#o.failAfter) {
        this.#set(known, 'failed')
        this.#o.log('warn', `memberlist: ${known.name} (${address}) did not answer ${known.misses} times: failed`)
      }
      return `${address}: ${r.error.message}`
    }
    if (known) known.misses = 0
    this.#merge(r.value?.members)
    return undefined
  }

  #pushPull(body: unknown): { members: Member[] } {
    this.#merge((body as { members?: unknown } | null)?.members)
    return { members: this.list() }
  }

  /**
   * What another member says. The sender itself (first in its list) is alive: it just spoke. Of
   * the others only new members and addresses are taken: a status is this agent's own finding.
   */
  #merge(members: unknown): void {
    if (!Array.isArray(members)) return
    const me = this.#o.self().name
    members.forEach((m: unknown, i) => {
      if (!isMember(m) || m.name === me) return
      const known = this.#known.get(m.name)
      if (i === 0) {
        if (known) {
          known.misses = 0
          const changed = known.addr !== m.addr || known.port !== m.port || JSON.stringify(known.tags) !== JSON.stringify(m.tags)
          Object.assign(known, { addr: m.addr, port: m.port, tags: { ...m.tags } })
          if (known.status !== 'alive') this.#set(known, 'alive')
          else if (changed) this.#emit(known)
        } else this.#learn({ ...m, status: 'alive' })
        return
      }
      if (!known && (m.status === 'alive' || m.status === 'failed')) this.#learn({ ...m, status: m.status })
    })
  }

  #learn(m: Member): void {
    if (this.#left || m.name === this.#o.self().name || this.#known.has(m.name)) return
    const known: Known = { name: m.name, addr: m.addr, port: m.port, tags: { ...m.tags }, status: m.status, misses: 0 }
    this.#known.set(m.name, known)
    this.#o.log('info', `memberlist: ${m.name} (${memberAddress(m)}) joined`)
    this.#emit(known)
  }

  #set(m: Known, status: MemberStatusName): void {
    m.status = status
    m.misses = 0
    this.#emit(m)
  }

  #emit(m: Known): void {
    this.#dirty = true
    const { misses: _, ...member } = m
    for (const fn of this.#listeners) fn(member)
  }

  #readSnapshot(): Member[] {
    if (!this.#o.snapshotFile) return []
    try {
      const list = JSON.parse(readFileSync(this.#o.snapshotFile, 'utf8')) as unknown
      return Array.isArray(list) ? list.filter(isMember) : []
    } catch {
      return []
    }
  }

  #writeSnapshot(): void {
    const file = this.#o.snapshotFile
    this.#dirty = false
    if (!file) return
    try {
      mkdirSync(dirname(file), { recursive: true })
      const list = [...this.#known.values()].filter((m) => m.status !== 'left').map(({ misses: _, ...m }) => m)
      writeFileSync(`${file}.tmp`, JSON.stringify(list))
      renameSync(`${file}.tmp`, file)
    } catch (err) {
      this.#o.log('warn', `memberlist: cannot write ${file}: ${(err as Error).message}`)
    }
  }
}

/** `host` or `host:port` (IPv6 in brackets) as `host:port`. */
export function withPort(address: string, defaultPort: number): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address
  if (/^\[.*\]$/.test(address)) return `${address}:${defaultPort}`
  if (address.includes(':')) return `[${address}]:${defaultPort}`
  return `${address}:${defaultPort}`
}
