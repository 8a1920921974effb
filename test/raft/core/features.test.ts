import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Network, describeLog, enc, prng } from './network.js'
import type { ReadState } from '../../../src/raft/core/types.js'

function elected(ids = ['1', '2', '3'], opts = {}): Network {
  const net = new Network(ids, opts)
  net.node('1').campaign()
  net.stabilize()
  return net
}

/** Runs Ready cycles by hand, collecting read states (the network helper drops them). */
function collectReads(net: Network): Map<string, ReadState[]> {
  const out = new Map<string, ReadState[]>()
  for (let i = 0; i < 100; i++) {
    let worked = false
    for (const [id, n] of net.nodes) {
      const rd = n.ready()
      if (!rd) continue
      worked = true
      out.set(id, [...(out.get(id) ?? []), ...rd.readStates])
      for (const m of rd.messages) net.send(m)
      net.applied.get(id)!.push(...rd.committedEntries)
      n.advance(rd)
    }
    const q = net.queue
    net.queue = []
    for (const m of q) net.node(m.to).step(m)
    if (!worked && q.length === 0) break
  }
  return out
}

test('ReadIndex on the leader and through a follower returns the commit index after a quorum heartbeat', () => {
  const net = elected()
  net.node('1').propose(enc('a'))
  net.stabilize()
  assert.equal(net.node('1').readIndex('r1'), true)
  assert.equal(net.node('3').readIndex('r2'), true)
  const reads = collectReads(net)
  assert.deepEqual(reads.get('1'), [{ context: 'r1', index: 3 }])
  assert.deepEqual(reads.get('3'), [{ context: 'r2', index: 3 }])
})

test('ReadIndex is not answered by a leader cut off from the quorum', () => {
  const net = elected()
  net.isolate('1')
  net.node('1').readIndex('r1')
  const reads = collectReads(net)
  assert.deepEqual(reads.get('1') ?? [], [])
})

test('barrier: an entry whose application means all earlier ones are applied', () => {
  const net = elected()
  net.node('1').propose(enc('a'))
  const b = net.node('1').barrier()
  assert.ok(b.ok)
  net.stabilize()
  const applied = net.applied.get('1')!
  assert.equal(applied.at(-1)?.index, b.index)
  assert.equal(applied.at(-1)?.type, 'noop')
})

test('leadership transfer: the target catches up, campaigns on TimeoutNow and wins', () => {
  const net = elected()
  net.isolate('3')
  net.node('1').propose(enc('a'))
  net.stabilize()
  net.heal()
  assert.equal(net.node('1').transferLeadership('3'), true)
  assert.equal(net.node('1').propose(enc('b')).ok, false, 'proposals wait during a transfer')
  net.stabilize()
  assert.equal(net.node('3').role, 'leader')
  assert.equal(net.node('1').role, 'follower')
  assert.equal(net.node('1').leader, '3')
  assert.equal(net.node('1').transferLeadership('9'), false)
})

test('snapshot: a follower far behind is sent the snapshot in chunks, installs it and catches up', () => {
  const net = elected(['1', '2', '3'], { snapshotChunkBytes: 7 })
  net.isolate('3')
  for (let i = 0; i < 20; i++) net.node('1').propose(enc(`v${i}`))
  net.stabilize()
  const leader = net.node('1')
  const state = enc(JSON.stringify(net.appliedData('1')))
  const meta = leader.compact(leader.log.applied, state)
  assert.ok(meta)
  assert.equal(leader.log.firstIndex(), meta.index + 1)
  let chunks = 0
  net.heal()
  net.filter = (m) => { if (m.type === 'snapshot') chunks++; return true }
  const n3 = net.node('3')
  net.tickAll(5)
  assert.ok(chunks >= Math.ceil(state.byteLength / 7), `sent in ${chunks} chunks`)
  assert.equal(n3.log.snapshotIndex, meta.index)
  assert.deepEqual(net.installed.get('3'), [state], 'installed once, byte for byte')
  assert.equal(describeLog(n3), describeLog(leader))
  leader.propose(enc('after'))
  net.stabilize()
  assert.equal(n3.log.committed, leader.log.committed)
})

test('a snapshot whose bytes do not match its metadata is refused and changes nothing', () => {
  const net = elected()
  const f = net.node('2')
  const before = describeLog(f)
  const term = f.term
  const meta = { index: 50, term, conf: { voters: ['1', '2', '3'], learners: [] }, size: 3, crc32: 12345 }
  const r = f.step({ type: 'snapshot', from: '1', to: '2', term, meta, offset: 0, data: enc('abc'), done: true })
  assert.equal(r, undefined)
  assert.equal(describeLog(f), before)
  const rd = f.ready()!
  assert.equal(rd.snapshot, undefined)
  const resp = rd.messages.find((m) => m.type === 'snapshotResp')
  assert.ok(resp && resp.type === 'snapshotResp' && resp.reject)
  assert.ok(net.logLines.some((l) => /checksum does not match/.test(l)))
  f.advance(rd)
  const short = f.step({ type: 'snapshot', from: '1', to: '2', term, meta: { ...meta, size: 2 }, offset: 0, data: enc('abc'), done: true })
  assert.equal(short, undefined)
  assert.ok(net.logLines.some((l) => /more bytes than the metadata size/.test(l)))
})

test('membership: a new server joins as a learner, catches up, then is promoted to voter', () => {
  const net = elected()
  for (let i = 0; i < 5; i++) net.node('1').propose(enc(`v${i}`))
  net.stabilize()
  net.add('4', { random: prng(9), electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 10 })
  assert.equal(net.node('4').isVoter(), false)
  const r = net.node('1').addServer('4')
  assert.ok(r.ok)
  assert.equal(net.node('1').proposeConfChange({ type: 'remove', id: '2' }).ok, false, 'one change at a time')
  net.stabilize()
  net.tickAll(3)
  for (const id of ['1', '2', '3', '4']) {
    assert.deepEqual([...net.node(id).conf().voters].sort(), ['1', '2', '3', '4'], `conf seen by ${id}`)
    assert.deepEqual(net.appliedData(id), ['v0', 'v1', 'v2', 'v3', 'v4'])
  }
  // Removing a voter: it stops counting, and the leader can remove itself and step down.
  assert.ok(net.node('1').proposeConfChange({ type: 'remove', id: '1' }).ok)
  net.stabilize()
  assert.equal(net.node('1').role, 'follower')
  net.tickAll(40)
  const leaders = net.leaders()
  assert.equal(leaders.length, 1)
  assert.notEqual(leaders[0].id, '1')
  assert.deepEqual([...leaders[0].conf().voters].sort(), ['2', '3', '4'])
})

test('snapshot: a lost chunk is sent again and the transfer completes', () => {
  const net = elected(['1', '2', '3'], { snapshotChunkBytes: 5 })
  net.isolate('3')
  for (let i = 0; i < 10; i++) net.node('1').propose(enc(`v${i}`))
  net.stabilize()
  const leader = net.node('1')
  const state = enc('0123456789abcdefghij')
  const meta = leader.compact(leader.log.applied, state)!
  net.heal()
  let dropped = 0
  net.filter = (m) => {
    if (m.type === 'snapshot' && m.offset === 5 && dropped === 0) { dropped++; return false }
    return true
  }
  net.tickAll(10)
  assert.equal(dropped, 1)
  assert.equal(net.node('3').log.snapshotIndex, meta.index)
  assert.deepEqual(net.installed.get('3'), [state])
})

test('a learner receives the log but never campaigns or counts in a quorum', () => {
  const net = new Network(['1', '2', '3'])
  net.node('1').campaign()
  net.stabilize()
  net.add('4', { random: prng(3), electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 10 })
  assert.ok(net.node('1').proposeConfChange({ type: 'addLearner', id: '4' }).ok)
  net.stabilize()
  assert.deepEqual(net.node('4').conf().learners, ['4'])
  net.node('1').propose(enc('x'))
  net.stabilize()
  assert.deepEqual(net.appliedData('4'), ['x'])
  net.isolate('1')
  net.isolate('4')
  const term4 = net.node('4').term
  net.tickAll(60)
  assert.equal(net.node('4').term, term4, 'the learner never campaigned')
  assert.equal(net.node('4').role, 'follower')
  net.heal()
  net.isolate('2')
  net.isolate('3')
  const committed = net.leaders().map((n) => n.log.committed)
  for (const n of net.leaders()) n.propose(enc('y'))
  net.stabilize()
  assert.deepEqual(net.leaders().map((n) => n.log.committed), committed, 'leader + learner is no quorum')
})

test('a ReadIndex answer that was not asked for, or arrives twice, is dropped', () => {
  const net = elected()
  const f = net.node('2')
  const resp = { type: 'readIndexResp', from: '1', to: '2', term: f.term, context: 'never', index: 5 }
  assert.match(f.step(resp) ?? 'accepted', /not outstanding/)
  f.readIndex('r')
  const reads = collectReads(net)
  assert.equal(reads.get('2')?.length, 1)
  assert.match(f.step({ ...resp, context: 'r' }) ?? 'accepted', /not outstanding/, 'the duplicate is dropped')
  assert.equal(f.ready(), undefined)
})

test('a lagging server takes the log from a leader that joined after its own log ends', () => {
  const net = elected()
  net.add('4', { random: prng(5), electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 10 })
  net.isolate('3')
  assert.ok(net.node('1').addServer('4').ok)
  net.stabilize()
  net.tickAll(3)
  assert.ok(net.node('1').isVoter('4'))
  assert.ok(net.node('1').transferLeadership('4'))
  net.stabilize()
  assert.equal(net.node('4').role, 'leader')
  assert.equal(net.node('3').isMember('4'), false, '3 has never heard of 4')
  net.node('4').propose(enc('z'))
  net.heal()
  net.tickAll(5)
  assert.deepEqual(net.appliedData('3'), ['z'])
  assert.equal(net.node('3').leader, '4')
  assert.ok(net.node('3').isVoter('4'))
})

test('a removed server that missed its removal cannot disrupt the cluster (leader lease)', () => {
  const net = elected()
  net.isolate('3')
  assert.ok(net.node('1').proposeConfChange({ type: 'remove', id: '3' }).ok)
  net.stabilize()
  net.tickAll(2)
  assert.deepEqual(net.node('1').conf().voters, ['1', '2'])
  assert.ok(net.node('3').isVoter(), '3 still thinks it is a voter')
  const term = net.node('1').term
  net.heal()
  net.cut('1', '3') // the leader no longer talks to 3; 3 still reaches 2
  net.tickAll(60)
  assert.equal(net.node('1').role, 'leader')
  assert.equal(net.node('1').term, term, 'no term was lost to the removed server')
  assert.ok(net.logLines.some((l) => /within the leader lease/.test(l)))
})

test('a leadership transfer to an unreachable server is abandoned after an election timeout', () => {
  const net = elected()
  net.isolate('3')
  net.node('1').propose(enc('a'))
  net.stabilize()
  assert.ok(net.node('1').transferLeadership('3'))
  assert.equal(net.node('1').propose(enc('b')).ok, false)
  net.tickAll(10)
  assert.equal(net.node('1').role, 'leader')
  assert.equal(net.node('1').propose(enc('b')).ok, true, 'proposals resume once the transfer is abandoned')
  assert.ok(net.logLines.some((l) => /abandons the transfer to 3/.test(l)))
})
