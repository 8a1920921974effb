import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Network, describeLog, enc, prng } from './network.js'
import { RaftNode } from '../../../src/raft/core/node.js'
import { RaftLog } from '../../../src/raft/core/log.js'
import type { Entry } from '../../../src/raft/core/types.js'

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'normal', data: enc(data) })

function elected(ids = ['1', '2', '3'], opts = {}): Network {
  const net = new Network(ids, opts)
  net.node('1').campaign()
  net.stabilize()
  return net
}

test('proposals are replicated, committed by quorum and applied in order everywhere', () => {
  const net = elected()
  for (const d of ['a', 'b', 'c']) assert.equal(net.node('1').propose(enc(d)).ok, true)
  net.stabilize()
  for (const id of ['1', '2', '3']) {
    assert.deepEqual(net.appliedData(id), ['a', 'b', 'c'], `node ${id}`)
    assert.equal(net.node(id).log.committed, 5)
  }
  assert.equal(net.node('2').propose(enc('x')).ok, false, 'a follower refuses proposals')
})

test('a minority cannot commit; the entries commit once a quorum is back', () => {
  const net = elected()
  net.isolate('2')
  net.isolate('3')
  net.node('1').propose(enc('a'))
  net.stabilize()
  assert.equal(net.node('1').log.committed, 2)
  assert.deepEqual(net.appliedData('1'), [])
  net.heal()
  net.tickAll(2)
  for (const id of ['1', '2', '3']) assert.deepEqual(net.appliedData(id), ['a'])
})

test('appends are batched by bytes and pipelined within the inflight window', () => {
  const net = elected(['1', '2', '3'], { maxMsgBytes: 100, maxInflight: 2 })
  const leader = net.node('1')
  const sent: { to: string; n: number }[] = []
  net.filter = (m) => {
    if (m.type === 'append' && m.entries.length > 0) sent.push({ to: m.to, n: m.entries.length })
    return m.to !== '2' // 2 never answers: its window fills
  }
  for (let i = 0; i < 10; i++) leader.propose(enc('x'.repeat(40)))
  net.stabilize()
  const to2 = sent.filter((s) => s.to === '2')
  assert.equal(to2.length, 2, 'only maxInflight appends go to a silent follower')
  for (const s of sent) assert.ok(s.n <= 2, 'each append holds at most ~100 bytes of entries')
  assert.deepEqual(net.appliedData('3').length, 10, 'the answering follower got everything')
  assert.equal(leader.progress('2')?.inflights.count(), 2)
  // Once 2 answers again, heartbeats reopen the window and it catches up.
  net.heal()
  net.tickAll(5)
  assert.equal(net.appliedData('2').length, 10)
})

test('a follower with a conflicting suffix is repaired by the new leader', () => {
  const net = elected()
  // The old leader writes entries only it holds, then is cut off.
  net.isolate('1')
  net.node('1').propose(enc('lost1'))
  net.node('1').propose(enc('lost2'))
  net.stabilize()
  net.tickAll(40)
  const leader = net.leaders().find((n) => n.id !== '1')!
  assert.ok(leader)
  leader.propose(enc('kept'))
  net.stabilize()
  net.heal()
  net.tickAll(30)
  const want = describeLog(leader)
  for (const id of ['1', '2', '3']) {
    assert.equal(describeLog(net.node(id)), want, `log of ${id}`)
    assert.ok(!net.appliedData(id).includes('lost1'), `${id} never applied the lost entries`)
    assert.ok(net.appliedData(id).includes('kept'))
  }
})

test('RaftLog.maybeAppend: table of matching, conflicting and stale appends', () => {
  const base = () => new RaftLog({ entries: [ent(1, 1), ent(2, 2), ent(3, 2)] })
  const cases = [
    { name: 'prev mismatch', prev: [3, 3], ents: [ent(4, 3)], want: undefined, log: '1/1 2/2 3/2' },
    { name: 'prev beyond end', prev: [5, 2], ents: [], want: undefined, log: '1/1 2/2 3/2' },
    { name: 'append new', prev: [3, 2], ents: [ent(4, 3)], want: 4, log: '1/1 2/2 3/2 4/3' },
    { name: 'all present', prev: [1, 1], ents: [ent(2, 2)], want: 2, log: '1/1 2/2 3/2' },
    { name: 'conflict truncates', prev: [1, 1], ents: [ent(2, 3)], want: 2, log: '1/1 2/3' },
    { name: 'conflict in the middle', prev: [1, 1], ents: [ent(2, 2), ent(3, 4), ent(4, 4)], want: 4, log: '1/1 2/2 3/4 4/4' },
  ]
  for (const c of cases) {
    const l = base()
    assert.equal(l.maybeAppend(c.prev[0], c.prev[1], c.ents), c.want, c.name)
    const got: string[] = []
    for (let i = l.firstIndex(); i <= l.lastIndex(); i++) got.push(`${i}/${l.term(i)}`)
    assert.equal(got.join(' '), c.log, c.name)
  }
  const committed = base()
  committed.commitTo(3)
  assert.equal(committed.maybeAppend(1, 1, [ent(2, 3)]), undefined, 'a committed entry is never truncated')
  assert.equal(committed.term(2), 2)
})

test('a leader never commits an entry of an earlier term by counting replicas (Raft §5.4.2)', () => {
  // 1 and 2 hold entry 2 of term 2; 3 does not. 1 becomes leader of term 3.
  const hs = { term: 2, vote: '', commit: 1 }
  const boot = new RaftNode({ id: 'x', random: prng(1), peers: { voters: ['1', '2', '3'], learners: [] } }).log.entry(1)!
  const log = [boot, ent(2, 2, 'old')]
  const n = new RaftNode({ id: '1', random: prng(1), electionTicks: 10, heartbeatTicks: 1 }, { hardState: hs, entries: log })
  n.campaign()
  n.advance(n.ready()!)
  for (const from of ['2', '3']) n.step({ type: 'preVoteResp', from, to: '1', term: 3, reject: false })
  n.advance(n.ready()!)
  n.step({ type: 'voteResp', from: '2', to: '1', term: 3, reject: false })
  assert.equal(n.role, 'leader')
  assert.equal(n.term, 3)
  n.advance(n.ready()!) // persists the no-op at 3
  // 2 acknowledges index 2 only: index 2 sits on a quorum {1, 2} but is of term 2.
  n.step({ type: 'appendResp', from: '2', to: '1', term: 3, reject: false, index: 2, hintIndex: 0, hintTerm: 0 })
  assert.equal(n.log.committed, 1, 'index 2 is not committed by counting')
  n.step({ type: 'appendResp', from: '2', to: '1', term: 3, reject: false, index: 3, hintIndex: 0, hintTerm: 0 })
  assert.equal(n.log.committed, 3, 'the current-term entry commits, and index 2 with it')
})

test('followers refuse appends whose previous entry does not match, with a hint', () => {
  const net = elected()
  const f = net.node('2')
  const term = f.term
  const before = describeLog(f)
  f.step({ type: 'append', from: '1', to: '2', term, prevIndex: 9, prevTerm: term, entries: [], commit: 9 })
  const rd = f.ready()!
  const resp = rd.messages.find((m) => m.type === 'appendResp')
  assert.ok(resp && resp.type === 'appendResp' && resp.reject)
  assert.equal(resp.hintIndex, f.log.lastIndex())
  assert.equal(describeLog(f), before)
  assert.equal(f.log.committed, 2, 'a bad commit index did not move the commit point')
  f.advance(rd)
})

test('back-pressure: proposals are refused past maxUncommittedEntries, and accepted again once entries commit', () => {
  const net = elected(['1', '2', '3'], { maxUncommittedEntries: 3 })
  net.isolate('1')
  const leader = net.node('1')
  const results = [1, 2, 3, 4].map((i) => leader.propose(enc(`v${i}`)).ok)
  assert.deepEqual(results, [true, true, true, false])
  net.heal()
  net.tickAll(2)
  assert.equal(leader.propose(enc('v5')).ok, true)
})
