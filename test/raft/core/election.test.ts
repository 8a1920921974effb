import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Network } from './network.js'
import { timingFromRaftMultiplier } from '../../../src/raft/core/config.js'

test('raft_multiplier maps Consul timings to ticks of 100ms', () => {
  const cases = [
    { m: 1, want: { electionTicks: 10, heartbeatTicks: 1, leaderLeaseTicks: 5 } },
    { m: 5, want: { electionTicks: 50, heartbeatTicks: 5, leaderLeaseTicks: 25 } },
    { m: 10, want: { electionTicks: 100, heartbeatTicks: 10, leaderLeaseTicks: 50 } },
  ]
  for (const c of cases) assert.deepEqual(timingFromRaftMultiplier(c.m, 100), c.want, `multiplier ${c.m}`)
  assert.deepEqual(timingFromRaftMultiplier(), timingFromRaftMultiplier(5, 100))
  for (const bad of [0, 11, 2.5]) assert.throws(() => timingFromRaftMultiplier(bad), RangeError)
})

test('a campaign elects a leader in a 3-node cluster', () => {
  const net = new Network(['1', '2', '3'])
  net.node('1').campaign()
  net.stabilize()
  assert.equal(net.node('1').role, 'leader')
  for (const id of ['2', '3']) {
    assert.equal(net.node(id).role, 'follower')
    assert.equal(net.node(id).leader, '1')
    assert.equal(net.node(id).term, net.node('1').term)
  }
  // The leader's no-op of the new term is committed everywhere.
  for (const n of net.nodes.values()) assert.equal(n.log.committed, 2)
})

test('ticks alone elect exactly one leader, whatever the seed', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    const net = new Network(['1', '2', '3', '4', '5'], { seed })
    let ticks = 0
    while (net.leaders().length === 0 && ticks < 200) { net.tickAll(); ticks++ }
    assert.equal(net.leaders().length, 1, `seed ${seed}`)
    const leader = net.leaders()[0]
    for (const n of net.nodes.values()) assert.equal(n.leader, leader.id, `seed ${seed}: ${n.id} follows the leader`)
  }
})

test('at most one leader per term while partitions come and go', () => {
  const net = new Network(['1', '2', '3', '4', '5'], { seed: 7 })
  const leaderOfTerm = new Map<number, string>()
  const check = (): void => {
    for (const n of net.leaders()) {
      const seen = leaderOfTerm.get(n.term)
      assert.ok(seen === undefined || seen === n.id, `two leaders in term ${n.term}: ${seen} and ${n.id}`)
      leaderOfTerm.set(n.term, n.id)
    }
  }
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 40; i++) { net.tickAll(); check() }
    const leader = net.leaders()[0]
    net.heal()
    if (leader) net.isolate(leader.id)
  }
  assert.ok(leaderOfTerm.size >= 3, 'several terms had leaders')
})

test('check-quorum: a partitioned leader steps down and the majority elects another', () => {
  const net = new Network(['1', '2', '3'])
  net.node('1').campaign()
  net.stabilize()
  net.isolate('1')
  net.tickAll(30)
  assert.equal(net.node('1').role, 'follower')
  assert.equal(net.node('1').leader, '')
  const others = net.leaders()
  assert.equal(others.length, 1)
  assert.notEqual(others[0].id, '1')
})

test('without check-quorum, the partitioned leader stays leader (the control case)', () => {
  const net = new Network(['1', '2', '3'], { checkQuorum: false })
  net.node('1').campaign()
  net.stabilize()
  net.isolate('1')
  net.tickAll(30)
  assert.equal(net.node('1').role, 'leader')
})

test('pre-vote: a partitioned node does not raise its term and does not disrupt on rejoin', () => {
  const cases = [
    { preVote: true, checkQuorum: true, disrupts: false },
    { preVote: false, checkQuorum: false, disrupts: true },
  ]
  for (const c of cases) {
    const net = new Network(['1', '2', '3'], { preVote: c.preVote, checkQuorum: c.checkQuorum })
    net.node('1').campaign()
    net.stabilize()
    const term = net.node('1').term
    net.isolate('3')
    net.tickAll(50)
    assert.equal(net.node('3').term > term, c.disrupts, `${JSON.stringify(c)}: term of the isolated node`)
    net.heal()
    net.tickAll(50)
    const leaders = net.leaders()
    assert.equal(leaders.length, 1)
    if (!c.disrupts) {
      assert.equal(leaders[0].id, '1', 'the leader kept its place')
      assert.equal(net.node('1').term, term, 'no term was wasted')
    } else {
      assert.ok(net.node('1').term > term, 'the rejoining node forced a new term')
    }
  }
})

test('leader lease: a vote request at a higher term is ignored while the leader is heard from', () => {
  const net = new Network(['1', '2', '3'])
  net.node('1').campaign()
  net.stabilize()
  const term = net.node('2').term
  const reason = net.node('2').step({ type: 'vote', from: '3', to: '2', term: term + 5, lastLogIndex: 99, lastLogTerm: 99, transfer: false })
  assert.match(reason ?? '', /leader lease/)
  assert.equal(net.node('2').term, term)
})
