import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BlockingCounters } from '../../src/server/blocking.js'
import { LeaderLoop, type LeaderDuty } from '../../src/server/leader.js'
import {
  LeadershipLostError,
  NoPathToDatacenterError,
  NotFoundError,
  NotLeaderError,
  RaftShutdownError,
  RejectedError,
  fromWireError,
  toWireError,
} from '../../src/server/errors.js'
import type { KvOp } from '../../src/state/commands.js'
import type { QueryReply } from '../../src/server/types.js'
import { kvPairJson } from '../../src/http/kv.js'
import { FakeConsensus } from './fake-consensus.js'
import { NODE, settle, setup } from './harness.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const set = (Key: string, v: string): { op: KvOp } => ({ op: { Verb: 'set', Key, Value: b64(v) } })
function track<T>(p: Promise<T>): { done: () => boolean; value: () => T; promise: Promise<T> } {
  let settled = false
  let result: T | undefined
  const promise = p.then((v) => {
    settled = true
    result = v
    return v
  })
  return { done: () => settled, value: () => result as T, promise }
}

// ---- consistency ---------------------------------------------------------------------------

test('on the leader a default read reports leader consistency, a known leader and index at least 1', async () => {
  const { server } = setup({ leader: true })
  const empty = await server.kvs.get({ key: 'nothing' })
  assert.deepEqual(empty.value, [])
  assert.deepEqual(empty.meta, { index: 1, knownLeader: true, lastContactMs: 0, consistency: 'leader' })
  const { index } = await server.kvs.apply(set('k', 'v'))
  const read = await server.kvs.get({ key: 'k' })
  assert.equal(read.meta.index, index)
  assert.equal(Buffer.from(read.value[0]!.Value!).toString(), 'v')
})

test('a follower refuses default reads and writes with the leader hint, and answers stale reads itself', async () => {
  const { raft, server } = setup({ leader: true })
  await server.kvs.apply(set('k', 'v'))
  raft.setLeader(false, '10.0.0.2:8300')
  const notLeader = (err: unknown): boolean => err instanceof NotLeaderError && err.leader === '10.0.0.2:8300'
  await assert.rejects(server.kvs.get({ key: 'k' }), notLeader)
  await assert.rejects(server.catalog.listNodes({}), notLeader)
  const applied = raft.applied.length
  await assert.rejects(server.kvs.apply(set('k', 'other')), notLeader)
  await assert.rejects(server.session.apply({ op: 'destroy', id: 'x' }), notLeader)
  assert.equal(raft.applied.length, applied, 'nothing was proposed')
  const stale = await server.kvs.get({ key: 'k', consistency: 'stale' })
  assert.equal(Buffer.from(stale.value[0]!.Value!).toString(), 'v')
  assert.equal(stale.meta.consistency, 'stale')
  assert.equal(stale.meta.lastContactMs, 5)
  // A follower's barrier has no leader to confirm it (forwarding comes with the next issue).
  await assert.rejects(server.kvs.get({ key: 'k', consistency: 'consistent' }), NotLeaderError)
})

test('a consistent read evaluates only after the read barrier, and sees what was written before it completed', async () => {
  const { raft, server, clock } = setup({ leader: true })
  await server.kvs.apply(set('k', 'v1'))
  let open!: () => void
  raft.barrierGate = new Promise<void>((resolve) => (open = resolve))
  const read = track(server.kvs.get({ key: 'k', consistency: 'consistent' }))
  await settle(clock)
  assert.equal(read.done(), false, 'waits for the barrier')
  assert.equal(raft.barriers, 1)
  await server.kvs.apply(set('k', 'v2'))
  open()
  const reply = await read.promise
  assert.equal(Buffer.from(reply.value[0]!.Value!).toString(), 'v2')
  assert.equal(reply.meta.consistency, 'consistent')
  // Stale and default reads never ask for a barrier.
  await server.kvs.get({ key: 'k', consistency: 'stale' })
  await server.kvs.get({ key: 'k' })
  assert.equal(raft.barriers, 1)
})

test('another datacenter has no path', async () => {
  const { server } = setup({ leader: true })
  await assert.rejects(server.kvs.get({ key: 'k', datacenter: 'dc2' }), NoPathToDatacenterError)
  await assert.rejects(server.kvs.apply({ ...set('k', 'v'), datacenter: 'dc2' }), NoPathToDatacenterError)
  assert.deepEqual((await server.kvs.get({ key: 'k', datacenter: 'dc1' })).value, [])
})

// ---- blocking ------------------------------------------------------------------------------

test('a blocking read wakes on a write to what it read, not on other writes, and counts where told', async () => {
  const { server, clock } = setup({ leader: true })
  const { index } = await server.kvs.apply(set('web/a', '1'))
  const counters = new BlockingCounters()
  const read = track(server.kvs.get({ key: 'web/a', minQueryIndex: index, maxQueryTimeMs: 60_000 }, { counters }))
  await settle(clock)
  assert.equal(counters.loops, 1)
  await server.kvs.apply(set('web/b', '1'))
  await settle(clock)
  assert.equal(read.done(), false, 'another key does not wake it')
  const written = await server.kvs.apply(set('web/a', '2'))
  const reply = await read.promise
  assert.equal(reply.meta.outcome, 'changed')
  assert.equal(reply.meta.index, written.index)
  assert.equal(Buffer.from(reply.value[0]!.Value!).toString(), '2')
  assert.deepEqual({ loops: counters.loops, evaluations: counters.evaluations }, { loops: 0, evaluations: 2 })
})

test('a blocking read past its index answers at once; one at its index times out on the clock, jitter included', async () => {
  // random() = 1: the most jitter, wait/16.
  const { server, clock } = setup({ leader: true, random: () => 1 })
  const { index } = await server.kvs.apply(set('k', 'v'))
  const past = await server.kvs.get({ key: 'k', minQueryIndex: index - 1, maxQueryTimeMs: 16_000 })
  assert.equal(past.meta.outcome, 'immediate')
  const read = track(server.kvs.get({ key: 'k', minQueryIndex: index, maxQueryTimeMs: 16_000 }))
  await settle(clock)
  clock.advance(16_999)
  await settle(clock)
  assert.equal(read.done(), false, 'still waiting 1ms before wait + wait/16')
  clock.advance(1)
  const reply = await read.promise
  assert.equal(reply.meta.outcome, 'timeout')
  assert.equal(reply.meta.index, index, 'the unchanged index')
  assert.equal(clock.pending(), 0, 'no timer left behind')
})

test('a blocking read ends when its caller goes away, and keeps a deadline the caller started', async () => {
  const { server, clock } = setup({ leader: true })
  const { index } = await server.kvs.apply(set('k', 'v'))
  const gone = new AbortController()
  const read = track(server.kvs.get({ key: 'k', minQueryIndex: index, maxQueryTimeMs: 60_000 }, { signal: gone.signal }))
  await settle(clock)
  gone.abort()
  assert.equal((await read.promise).meta.outcome, 'aborted')
  const late = await server.kvs.get({ key: 'k', minQueryIndex: index, maxQueryTimeMs: 60_000 }, { blockingDeadline: clock.now() - 1 })
  assert.equal(late.meta.outcome, 'timeout', 'a deadline already passed answers at once')
})

test('a consistent blocking read takes a barrier before every evaluation', async () => {
  const { raft, server, clock } = setup({ leader: true })
  const { index } = await server.kvs.apply(set('k', 'v'))
  const read = track(server.kvs.get({ key: 'k', consistency: 'consistent', minQueryIndex: index, maxQueryTimeMs: 60_000 }))
  await settle(clock)
  assert.equal(raft.barriers, 1)
  await server.kvs.apply(set('k', 'v2'))
  const reply = await read.promise
  assert.equal(reply.meta.outcome, 'changed')
  assert.equal(raft.barriers, 2)
})

test('a query function that throws answers with its error (an unknown prepared query)', async () => {
  const { server } = setup({ leader: true })
  await assert.rejects(server.preparedQuery.get({ id: 'nope' }), (err) => err instanceof NotFoundError && err.message === 'Query not found')
})

// ---- the leader loop -----------------------------------------------------------------------

test('leader duties start and stop with leadership: session TTL timers and the consul service', async () => {
  const { raft, server, clock } = setup({ leader: true })
  await server.catalog.register({ node: NODE, checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Notes: '', Output: '', ServiceID: '', Type: '', Interval: '', Timeout: '', ExposedPort: 0, Definition: {} }] })
  const session = { Name: '', Node: 'n1', LockDelay: 0, Behavior: 'release' as const, TTL: '10s', NodeChecks: ['serfHealth'], ServiceChecks: [] }
  const { value: id } = await server.session.apply({ op: 'create', session })
  assert.equal(server.sessionTimers.size, 0, 'no timers before the loop runs')
  raft.setLeader(false)
  server.start()
  assert.equal(server.leader.leading, false)
  assert.equal(raft.listeners, 1)

  raft.setLeader(true)
  assert.equal(server.leader.leading, true)
  assert.equal(server.sessionTimers.size, 1, 'a timer for the TTL session')
  await settle(clock)
  assert.ok(raft.state.catalog.service('n1', 'consul'), 'the leader registered its consul service')

  raft.setLeader(false)
  assert.equal(server.leader.leading, false)
  assert.equal(server.sessionTimers.size, 0, 'timers stop with leadership')
  clock.advance(30_000)
  await settle(clock)
  assert.ok(raft.state.sessions.get(id), 'a follower does not expire sessions')

  raft.setLeader(true)
  assert.equal(server.leader.terms, 2)
  clock.advance(19_999)
  await settle(clock)
  assert.ok(raft.state.sessions.get(id), 'alive until twice its TTL')
  clock.advance(1)
  await settle(clock)
  assert.equal(raft.state.sessions.get(id), undefined, 'expired and destroyed through the log')
  assert.ok(raft.applied.some((c) => JSON.stringify(c) === JSON.stringify({ Type: 'session', Op: 'destroy', ID: id })))

  server.stop()
  assert.equal(raft.listeners, 0)
  assert.equal(server.leader.leading, false)
})

test('the leader puts its consul service back when someone else removes it', async () => {
  const { server, raft, clock } = setup({ leader: true })
  server.start()
  await settle(clock)
  assert.ok(raft.state.catalog.service('n1', 'consul'))
  await server.catalog.deregister({ node: 'n1', serviceId: 'consul' })
  await settle(clock)
  assert.ok(raft.state.catalog.service('n1', 'consul'), 'registered again')
  const registered = raft.applied.filter((c) => (c as { Service?: { ID: string } }).Service?.ID === 'consul').length
  assert.equal(registered, 2)
  await server.kvs.apply(set('unrelated', 'x'))
  await settle(clock)
  assert.equal(raft.applied.filter((c) => (c as { Service?: { ID: string } }).Service?.ID === 'consul').length, 2, 'no registration without a cause')
  server.stop()
})

test('a duty that fails to start is logged and does not keep the others from running', () => {
  const raft = new FakeConsensus({ leader: false })
  const steps: string[] = []
  const duty = (name: string, fail = false): LeaderDuty => ({
    name,
    establish: () => {
      steps.push(`+${name}`)
      if (fail) throw new Error('boom')
    },
    revoke: () => void steps.push(`-${name}`),
  })
  const logs: string[] = []
  const loop = new LeaderLoop(raft, [duty('a', true), duty('b')], (level, m) => logs.push(`${level} ${m}`))
  loop.start()
  assert.deepEqual(steps, [])
  raft.setLeader(true)
  raft.setLeader(true)
  raft.setLeader(false)
  assert.deepEqual(steps, ['+a', '+b', '-b', '-a'], 'once per change, revoked in reverse order')
  assert.ok(logs.some((l) => l.startsWith('error') && l.includes('a: establish failed: boom')))
  loop.stop()
  raft.setLeader(true)
  assert.equal(steps.length, 4, 'not followed after stop')
})

// ---- serialisable results ------------------------------------------------------------------

test('FSM results are plain data and refusals become typed errors at the endpoint', async () => {
  const { raft, server } = setup({ leader: true })
  const lock = raft.fsm.applyCommand(100, { Type: 'kvs', Op: { Verb: 'lock', Key: 'k', Session: 'ghost' } })
  assert.deepEqual(lock, { error: { kind: 'invalid-session', message: 'invalid session "ghost"' } })
  assert.deepEqual(structuredClone(lock), lock)
  assert.deepEqual(JSON.parse(JSON.stringify(lock)), lock)
  await assert.rejects(server.kvs.apply({ op: { Verb: 'lock', Key: 'k', Session: 'ghost' } }), (err) => err instanceof RejectedError && err.kind === 'invalid-session')
  await assert.rejects(
    server.session.apply({ op: 'create', session: { Name: '', Node: 'nobody', LockDelay: 0, Behavior: 'release', TTL: '', NodeChecks: [], ServiceChecks: [] } }),
    (err) => err instanceof RejectedError && err.message === 'Missing node registration',
  )
  await server.kvs.apply(set('k', 'value'))
  const txn = await server.txn.apply({ ops: [{ Verb: 'get', Key: 'k' }, { Verb: 'set', Key: 'j', Value: null }] })
  assert.equal(txn.value.Results![0]!.KV.Value, b64('value'), 'values in base64')
  assert.deepEqual(structuredClone(txn.value), txn.value)
  assert.deepEqual(JSON.parse(JSON.stringify(txn.value)), txn.value)
})

test('replies survive structured clone: read entries arrive as bytes and render the same KVPair', async () => {
  const { server } = setup({ leader: true })
  await server.kvs.apply(set('a/1', 'one'))
  await server.catalog.register({ node: NODE, service: { ID: 'web', Service: 'web', Tags: ['t'], Address: '', TaggedAddresses: {}, Meta: {}, Port: 80, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Kind: '' } })
  const list = await server.kvs.list({ prefix: 'a/' })
  const cloned = structuredClone(list)
  assert.ok(cloned.value[0]!.Value instanceof Uint8Array && !Buffer.isBuffer(cloned.value[0]!.Value))
  assert.deepEqual(kvPairJson(cloned.value[0]!), kvPairJson(list.value[0]!))
  const replies: Array<QueryReply<unknown>> = [
    await server.health.serviceNodes({ service: 'web' }),
    await server.catalog.listServices({}),
    await server.catalog.nodeServices({ node: 'n1' }),
    await server.internal.nodeInfo({ node: 'n1' }),
    await server.session.list({}),
  ]
  for (const reply of replies) assert.deepEqual(structuredClone(reply), reply)
})

test('endpoint errors round-trip through their wire form', () => {
  const errors = [new NotLeaderError('10.0.0.2:8300'), new LeadershipLostError(), new RaftShutdownError(), new NoPathToDatacenterError(), new NotFoundError('Query not found'), new RejectedError('rejected', 'Missing node registration')]
  for (const err of errors) {
    const wire = JSON.parse(JSON.stringify(toWireError(err))) as ReturnType<typeof toWireError>
    const back = fromWireError(wire)
    assert.equal(back.constructor, err.constructor)
    assert.equal(back.message, err.message)
  }
  assert.equal((fromWireError(toWireError(new NotLeaderError('10.0.0.2:8300'))) as NotLeaderError).leader, '10.0.0.2:8300')
  assert.equal(toWireError(new TypeError('x')).kind, 'internal')
})
