/**
 * Several drivers in one process over the in-memory network, on virtual time: election, replication
 * to every state machine, NotLeader with the leader hint, follower reads through ReadIndex, an
 * isolated leader stepping down, membership changes with a new server caught up by snapshot, and
 * garbage on the transport. Deterministic: a seeded PRNG and a VirtualClock.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RaftDriver } from '../../src/raft/driver.js'
import { InMemoryNetwork } from '../../src/raft/inmem-transport.js'
import { MemoryStorage } from '../../src/raft/memory-storage.js'
import { Fsm } from '../../src/state/fsm.js'
import { StateStore } from '../../src/state/store.js'
import { encodeCommand } from '../../src/state/commands.js'
import { LeadershipLostError, NotLeaderError } from '../../src/raft/errors.js'
import { VirtualClock } from '../../src/lib/clock.js'
import { mulberry32 } from '../../src/lib/prng.js'
import type { RaftServer } from '../../src/raft/types.js'

const put = (key: string, value: string) => encodeCommand({ Type: 'kvs', Op: { Verb: 'set', Key: key, Value: Buffer.from(value).toString('base64') } })
const TICK_MS = 50

class Cluster {
  readonly clock = new VirtualClock()
  readonly net = new InMemoryNetwork(this.clock)
  readonly random = mulberry32(7)
  readonly servers = new Map<string, { raft: RaftDriver; fsm: Fsm; storage: MemoryStorage }>()
  readonly logs: string[] = []

  async start(id: string, bootstrap: RaftServer[] | undefined, opts: { snapshotThreshold?: number; storage?: MemoryStorage; recover?: RaftServer[] } = {}): Promise<void> {
    const fsm = new Fsm(new StateStore())
    const storage = opts.storage ?? new MemoryStorage()
    const opening = RaftDriver.open({
      id, address: addr(id), storage, fsm, clock: this.clock, random: this.random, transport: this.net.connect(id),
      bootstrap, addresses: new Map(['a', 'b', 'c', 'd', 'e'].map((x) => [x, addr(x)])), raftMultiplier: 1, tickMs: TICK_MS,
      snapshotThreshold: opts.snapshotThreshold ?? 1_000_000, snapshotIntervalMs: 0, trailingLogs: 2, recoverConfiguration: opts.recover,
      log: (level, m) => this.logs.push(`${id} ${level} ${m}`),
    })
    await this.settle()
    this.servers.set(id, { raft: await opening, fsm, storage })
  }

  /** Lets deferred work, storage promises and message deliveries run until nothing is left. */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      const ran = this.clock.runDeferred()
      await new Promise((r) => setImmediate(r))
      quiet = ran === 0 ? quiet + 1 : 0
    }
  }

  /** Advances virtual time a tick at a time. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += TICK_MS) {
      this.clock.advance(TICK_MS)
      await this.settle()
    }
  }

  leaders(): string[] {
    return [...this.servers].filter(([, s]) => s.raft.isLeader()).map(([id]) => id)
  }

  async leader(): Promise<string> {
    for (let i = 0; i < 200 && this.leaders().length !== 1; i++) await this.run(TICK_MS * 4)
    assert.equal(this.leaders().length, 1, `one leader (${this.leaders().join(',')})`)
    return this.leaders()[0]!
  }

  /** Settles a promise that needs the cluster to make progress. */
  async await<T>(p: Promise<T>, ms = 20_000): Promise<T> {
    let done = false
    const tracked = p.finally(() => (done = true))
    tracked.catch(() => undefined)
    for (let t = 0; t < ms && !done; t += TICK_MS) await this.run(TICK_MS)
    return tracked
  }

  value(id: string, key: string): string | undefined {
    return this.servers.get(id)!.fsm.state.kv.get(key)?.Value?.toString()
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.raft.close()))
  }
}

const addr = (id: string) => `127.0.0.${id.charCodeAt(0) - 96}:8300`
const voters = (...ids: string[]): RaftServer[] => ids.map((id) => ({ id, address: addr(id), voter: true }))

test('three servers elect one leader, replicate to every state machine, and point followers at the leader', async () => {
  const c = new Cluster()
  for (const id of ['a', 'b', 'c']) await c.start(id, voters('a', 'b', 'c'))
  const leader = await c.leader()
  const follower = ['a', 'b', 'c'].find((id) => id !== leader)!
  const r = await c.await(c.servers.get(leader)!.raft.apply(put('k', 'v1')))
  assert.equal(r.response, true)
  await c.run(1000)
  for (const id of ['a', 'b', 'c']) assert.equal(c.value(id, 'k'), 'v1', `${id} applied the write`)
  await assert.rejects(c.servers.get(follower)!.raft.apply(put('k', 'v2')), (err: Error) => err instanceof NotLeaderError && err.leader === addr(leader))
  assert.equal(c.servers.get(follower)!.raft.leaderAddress(), addr(leader))
  assert.deepEqual(c.servers.get(follower)!.raft.servers().map((s) => s.id).sort(), ['a', 'b', 'c'])
  // A read point on a follower: the leader confirms its index, the follower waits until it has applied it.
  const write = c.servers.get(leader)!.raft.apply(put('k', 'v3'))
  const read = c.servers.get(follower)!.raft.readBarrier()
  await c.await(Promise.all([write, read]))
  assert.equal(c.value(follower, 'k'), 'v3', 'the follower reads what was acknowledged before its barrier')
  await c.stop()
})

test('an isolated leader steps down and fails what it had in flight; the others elect a new one; all converge after healing', async () => {
  const c = new Cluster()
  for (const id of ['a', 'b', 'c']) await c.start(id, voters('a', 'b', 'c'))
  const old = await c.leader()
  const changes: boolean[] = []
  c.servers.get(old)!.raft.onLeadershipChange((l) => changes.push(l))
  c.net.isolate(old, ['a', 'b', 'c'])
  const stranded = c.servers.get(old)!.raft.apply(put('lost', 'x'))
  await assert.rejects(c.await(stranded), LeadershipLostError)
  assert.deepEqual(changes, [false], 'the old leader told its listeners')
  const others = ['a', 'b', 'c'].filter((id) => id !== old)
  for (let i = 0; i < 100 && !others.some((id) => c.servers.get(id)!.raft.isLeader()); i++) await c.run(200)
  const next = others.find((id) => c.servers.get(id)!.raft.isLeader())
  assert.ok(next, 'a new leader among the connected majority')
  await c.await(c.servers.get(next)!.raft.apply(put('after', 'y')))
  await assert.rejects(c.servers.get(old)!.raft.readBarrier(), NotLeaderError, 'no consistent read without a leader')
  c.net.heal()
  await c.run(3000)
  assert.equal(c.leaders().length, 1)
  for (const id of ['a', 'b', 'c']) {
    assert.equal(c.value(id, 'after'), 'y', `${id} converged`)
    assert.equal(c.value(id, 'lost'), undefined, 'the stranded write never committed')
  }
  await c.stop()
})

test('membership: a new server joins as a non-voter, catches up by snapshot, is promoted; a removed leader steps down', async () => {
  const c = new Cluster()
  for (const id of ['a', 'b', 'c']) await c.start(id, voters('a', 'b', 'c'), { snapshotThreshold: 20 })
  let leader = await c.leader()
  for (let i = 0; i < 60; i++) await c.await(c.servers.get(leader)!.raft.apply(put(`k/${i}`, String(i))))
  await c.run(500)
  assert.ok(Number(c.servers.get(leader)!.raft.stats().last_snapshot_index) > 20, 'the leader compacted its log')
  await c.start('d', undefined)
  await c.await(c.servers.get(leader)!.raft.addServer('d', addr('d')))
  await c.run(3000)
  const d = c.servers.get('d')!.raft
  assert.equal(c.value('d', 'k/59'), '59', 'the new server has everything')
  assert.ok(c.logs.some((l) => l.startsWith('d ') && l.includes("installed the leader's snapshot")), 'it caught up by InstallSnapshot')
  assert.deepEqual(d.servers().filter((s) => s.voter).map((s) => s.id).sort(), ['a', 'b', 'c', 'd'], 'promoted to voter once caught up')
  // Removing the leader itself: it commits the change, steps down, and the rest elect a leader.
  await c.await(c.servers.get(leader)!.raft.removeServer(leader)).catch(() => undefined)
  await c.run(5000)
  const removed = leader
  assert.equal(c.servers.get(removed)!.raft.isLeader(), false, 'the removed leader stepped down')
  leader = await (async () => {
    for (let i = 0; i < 100; i++) {
      const l = c.leaders().filter((id) => id !== removed)
      if (l.length === 1) return l[0]!
      await c.run(200)
    }
    throw new Error('no leader after removal')
  })()
  assert.deepEqual(c.servers.get(leader)!.raft.servers().map((s) => s.id).sort(), ['a', 'b', 'c', 'd'].filter((id) => id !== removed))
  await c.await(c.servers.get(leader)!.raft.apply(put('after-removal', 'z')))
  await c.stop()
})

test('garbage on the transport is dropped: no crash, no change to the log', async () => {
  const c = new Cluster()
  for (const id of ['a', 'b', 'c']) await c.start(id, voters('a', 'b', 'c'))
  const leader = await c.leader()
  await c.await(c.servers.get(leader)!.raft.apply(put('k', 'v')))
  await c.run(500)
  const victim = ['a', 'b', 'c'].find((id) => id !== leader)!
  const before = c.servers.get(victim)!.raft.stats()
  for (const junk of [null, 42, 'x', {}, { type: 'append', from: leader, to: victim }, { type: 'append', from: leader, to: victim, term: 1e9, prevIndex: -1, prevTerm: 0, entries: 'no', commit: 0 },
    { type: 'vote', from: 'stranger', to: victim, term: Number(before.term) + 5, lastLogIndex: 0, lastLogTerm: 0, transfer: false }]) {
    c.net.inject(victim, junk)
  }
  await c.run(200)
  const after = c.servers.get(victim)!.raft.stats()
  assert.equal(after.last_log_index, before.last_log_index)
  assert.ok(c.logs.some((l) => l.startsWith(`${victim} `) && l.includes('malformed message')), 'each one is logged')
  assert.equal(c.leaders().length, 1, 'the leader keeps its lease against a stranger\'s vote request')
  await c.await(c.servers.get(leader)!.raft.apply(put('k', 'w')))
  await c.stop()
})

test('peers.json recovery: the one survivor of three comes back with every write, as the only voter', async () => {
  const c = new Cluster()
  for (const id of ['a', 'b', 'c']) await c.start(id, voters('a', 'b', 'c'))
  const leader = await c.leader()
  for (let i = 0; i < 5; i++) await c.await(c.servers.get(leader)!.raft.apply(put(`k/${i}`, String(i))))
  await c.run(1000)
  const survivor = ['a', 'b', 'c'].find((id) => id !== leader)!
  // Two servers are lost for good; the survivor alone has no quorum.
  for (const id of ['a', 'b', 'c'].filter((x) => x !== survivor)) {
    await c.servers.get(id)!.raft.close()
    c.servers.delete(id)
  }
  const storage = c.servers.get(survivor)!.storage
  await c.run(5000)
  assert.equal(c.servers.get(survivor)!.raft.isLeader(), false, 'no leader without a quorum')
  await c.servers.get(survivor)!.raft.close()
  c.servers.delete(survivor)
  await c.start(survivor, undefined, { storage, recover: [{ id: survivor, address: addr(survivor), voter: true }] })
  const raft = c.servers.get(survivor)!.raft
  assert.equal(raft.isLeader(), true, 'the recovered server leads alone')
  assert.deepEqual(raft.servers(), [{ id: survivor, address: addr(survivor), voter: true }])
  for (let i = 0; i < 5; i++) assert.equal(c.value(survivor, `k/${i}`), String(i), 'its data is all there')
  await c.await(raft.apply(put('after', 'recovery')))
  // And it stays recovered across a plain restart.
  await raft.close()
  c.servers.delete(survivor)
  await c.start(survivor, undefined, { storage })
  assert.equal(c.value(survivor, 'after'), 'recovery')
  assert.equal(c.servers.get(survivor)!.raft.isLeader(), true)
  await c.stop()
})
