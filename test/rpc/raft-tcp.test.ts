/**
 * Three RaftDrivers over the TCP transport on 127.0.0.1, .2 and .3 (real sockets, the system clock):
 * they elect a leader and replicate proposals, binary payloads intact, to every state machine; a
 * follower left far behind catches up by InstallSnapshot, sent over TCP in several chunks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { decode, encode } from '@msgpack/msgpack'
import { RaftDriver } from '../../src/raft/driver.js'
import { MemoryStorage } from '../../src/raft/memory-storage.js'
import { TcpTransport } from '../../src/raft/tcp-transport.js'
import { RpcServer } from '../../src/rpc/server.js'
import type { RaftServer, StateMachine } from '../../src/raft/types.js'
import { mulberry32 } from '../../src/lib/prng.js'
import { until } from '../helpers/poll.js'

/** Keeps every command it applies; its snapshot is the whole list. */
class ListMachine implements StateMachine {
  values: Uint8Array[] = []
  apply(_index: number, data: Uint8Array): unknown {
    this.values.push(new Uint8Array(data))
    return this.values.length
  }
  skip(): void {}
  async snapshot(): Promise<Uint8Array> {
    return encode(this.values)
  }
  restore(data: Uint8Array): void {
    this.values = (decode(data) as Uint8Array[]).map((v) => new Uint8Array(v))
  }
  digest(): string {
    const h = createHash('sha256')
    for (const v of this.values) h.update(v)
    return `${this.values.length}:${h.digest('hex')}`
  }
}

interface Member {
  id: string
  host: string
  port: number
  storage: MemoryStorage
  fsm: ListMachine
  rpc: RpcServer
  raft: RaftDriver
  transport: TcpTransport
  logs: string[]
}

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
const DRIVER = { raftMultiplier: 1, snapshotThreshold: 16, trailingLogs: 4, snapshotIntervalMs: 0 }

class TcpCluster {
  readonly members = new Map<string, Member>()
  servers: RaftServer[] = []

  /** Binds every server first (ephemeral ports), so the bootstrap configuration has real addresses. */
  async start(): Promise<void> {
    const rpcs = await Promise.all(HOSTS.map(async (host, i) => {
      const id = `s${i + 1}`
      const logs: string[] = []
      const rpc = new RpcServer({ id, datacenter: 'dc1', cluster: 'raft-test', log: (level, m) => logs.push(`${level} ${m}`) })
      const { port } = await rpc.listen(host, 0)
      return { id, host, port, rpc, logs }
    }))
    this.servers = rpcs.map((r) => ({ id: r.id, address: `${r.host}:${r.port}`, voter: true }))
    for (const r of rpcs) await this.open({ ...r, storage: new MemoryStorage(), fsm: new ListMachine() })
  }

  async open(m: Omit<Member, 'raft' | 'transport'>): Promise<void> {
    const transport = new TcpTransport({ rpc: m.rpc, addresses: this.servers.map((s) => [s.id, s.address] as const) })
    const raft = await RaftDriver.open({
      id: m.id, address: `${m.host}:${m.port}`, storage: m.storage, transport, fsm: m.fsm, random: mulberry32(Number(m.id.slice(1)) * 7919),
      bootstrap: this.servers, ...DRIVER, log: (level, line) => m.logs.push(`${level} ${line}`),
    })
    this.members.set(m.id, { ...m, raft, transport })
  }

  /** Stops a server: its raft and its RPC listener, as a killed process would (its storage is kept). */
  async stop(id: string): Promise<Omit<Member, 'raft' | 'rpc' | 'transport'>> {
    const m = this.members.get(id)!
    this.members.delete(id)
    await m.raft.close()
    await m.rpc.close()
    return m
  }

  /** Restarts a stopped server on its address, with its storage and a fresh state machine. */
  async restart(m: Omit<Member, 'raft' | 'rpc' | 'transport'>): Promise<void> {
    const rpc = new RpcServer({ id: m.id, datacenter: 'dc1', cluster: 'raft-test', log: (level, line) => m.logs.push(`${level} ${line}`) })
    await rpc.listen(m.host, m.port)
    await this.open({ ...m, rpc, fsm: new ListMachine() })
  }

  leader(): Promise<Member> {
    return until('one leader', () => {
      const leaders = [...this.members.values()].filter((m) => m.raft.isLeader())
      return leaders.length === 1 ? leaders[0] : undefined
    })
  }

  /** Proposes through whoever leads, retrying across an election (a retried value may appear twice). */
  async propose(data: Uint8Array): Promise<void> {
    await until('the proposal committed', async () => {
      const leader = await this.leader()
      await leader.raft.apply(data)
      return true
    })
  }

  async close(): Promise<void> {
    for (const id of [...this.members.keys()]) await this.stop(id)
  }
}

function payload(i: number, bytes: number): Uint8Array {
  const r = mulberry32(i)
  const out = Uint8Array.from({ length: bytes }, () => Math.floor(r() * 256))
  new DataView(out.buffer).setUint32(0, i)
  return out
}

const indexOf = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0)

test('three servers on 127.0.0.1/.2/.3 elect a leader over TCP and replicate proposals to every state machine', async (t) => {
  const c = new TcpCluster()
  t.after(() => c.close())
  await c.start()
  const leader = await c.leader()
  assert.deepEqual(leader.raft.servers().map((s) => s.address).sort(), c.servers.map((s) => s.address).sort())
  for (let i = 0; i < 40; i++) await c.propose(payload(i, 4 + (i * 997) % 5000))
  const digest = await until('every state machine has every proposal', () => {
    const digests = new Set([...c.members.values()].map((m) => m.fsm.digest()))
    const values = leader.fsm.values
    return digests.size === 1 && new Set(values.map(indexOf)).size === 40 ? [...digests][0] : undefined
  })
  assert.ok(digest.length > 0)
  for (const m of c.members.values()) {
    for (const v of m.fsm.values) assert.deepEqual(Buffer.from(v), Buffer.from(payload(indexOf(v), v.byteLength)), `${m.id}: bytes intact`)
    const t = m.raft.stats()
    assert.equal(t.num_peers, '2')
    assert.deepEqual(Object.entries(m.rpc.stats()).filter(([k, n]) => k.startsWith('refused_') && n > 0), [], `${m.id}: nothing refused`)
    assert.equal(m.transport.stats().wrong_sender, 0)
    assert.ok(m.transport.stats().received > 0 && m.transport.stats().sent > 0)
    assert.ok(!m.logs.some((l) => l.includes('malformed')), `${m.id}: every decoded message passed the core's checks`)
  }
  const followers = [...c.members.values()].filter((m) => m !== leader)
  for (const f of followers) assert.equal(f.raft.leaderAddress(), `${leader.host}:${leader.port}`, `${f.id} knows the leader's address`)
})

test('a follower far behind catches up through InstallSnapshot over TCP, in several chunks', async (t) => {
  const c = new TcpCluster()
  t.after(() => c.close())
  await c.start()
  const leader = await c.leader()
  await c.propose(payload(0, 100))
  const victim = await c.stop([...c.members.values()].find((m) => m !== leader)!.id)
  // 40 values of 80 KiB: a snapshot of about 3 MiB, several 1 MiB chunks; the log is compacted far past the victim.
  for (let i = 1; i <= 40; i++) await c.propose(payload(i, 80 * 1024))
  const live = await c.leader()
  await until('the leader compacted its log', () => (Number(live.raft.stats().last_snapshot_index) > 20 ? true : undefined))
  await c.restart(victim)
  const back = c.members.get(victim.id)!
  await until(`${victim.id} caught up`, () => (back.fsm.digest() === c.members.get(live.id)!.fsm.digest() ? true : undefined))
  assert.ok(back.logs.some((l) => l.includes("installed the leader's snapshot")), 'by InstallSnapshot, not by replaying the log')
  assert.ok(new Set(back.fsm.values.map(indexOf)).size === 41)
  const bytes = back.fsm.values.reduce((n, v) => n + v.byteLength, 0)
  assert.ok(bytes > 2 * 1024 * 1024, `a snapshot of ${bytes} bytes takes more than one 1 MiB chunk`)
  assert.ok(back.raft.stats().last_snapshot_index !== '0')
  // It is a full member again: it takes later writes too.
  await c.propose(payload(99, 10))
  await until('the next write everywhere', () => ([...c.members.values()].every((m) => m.fsm.values.some((v) => indexOf(v) === 99)) ? true : undefined))
})
