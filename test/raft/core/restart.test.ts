import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RaftNode } from '../../../src/raft/core/node.js'
import type { Entry, HardState, Message } from '../../../src/raft/core/types.js'
import { prng } from './network.js'

const cfg = (id: string) => ({ id, random: prng(1), electionTicks: 10, heartbeatTicks: 1, peers: { voters: ['1', '2', '3'], learners: [] } })

/** Runs one Ready cycle, returning what a storage would have persisted and the messages. */
function cycle(n: RaftNode, store: { hs?: HardState; entries: Entry[] }): Message[] {
  const rd = n.ready()
  if (!rd) return []
  if (rd.entries.length) store.entries = [...store.entries.filter((e) => e.index < rd.entries[0].index), ...rd.entries]
  if (rd.hardState) store.hs = rd.hardState
  n.advance(rd)
  return rd.messages
}

test('a vote survives a restart: no second vote in the same term (Raft §5.2, persisted before replying)', () => {
  const store: { hs?: HardState; entries: Entry[] } = { entries: [] }
  const n = new RaftNode(cfg('1'))
  cycle(n, store)
  n.step({ type: 'vote', from: '2', to: '1', term: 2, lastLogIndex: 1, lastLogTerm: 1, transfer: false })
  const rd = n.ready()!
  assert.equal(rd.mustSync, true, 'the vote must be synced before the reply is sent')
  assert.deepEqual(rd.hardState, { term: 2, vote: '2', commit: 1 })
  store.hs = rd.hardState
  n.advance(rd)
  const restarted = new RaftNode(cfg('1'), { hardState: store.hs, entries: store.entries })
  assert.equal(restarted.log.lastIndex(), 1, 'no second bootstrap entry')
  restarted.step({ type: 'vote', from: '3', to: '1', term: 2, lastLogIndex: 5, lastLogTerm: 1, transfer: false })
  const resp = restarted.ready()!.messages[0]
  assert.ok(resp.type === 'voteResp' && resp.reject, 'the second candidate of term 2 is refused')
})

test('every bootstrapping server writes the same first entry, so their logs match', () => {
  const a = new RaftNode(cfg('1'))
  const b = new RaftNode(cfg('2'))
  const ea = a.ready()!.entries
  const eb = b.ready()!.entries
  assert.equal(ea.length, 1)
  assert.deepEqual(ea, eb)
  assert.equal(a.log.committed, 1)
})

test('a restarted node re-applies committed entries after its snapshot, and only those', () => {
  const store: { hs?: HardState; entries: Entry[] } = { entries: [] }
  const n = new RaftNode({ ...cfg('1'), peers: { voters: ['1'], learners: [] } })
  cycle(n, store)
  n.campaign()
  for (let i = 0; i < 5; i++) cycle(n, store)
  for (const d of ['a', 'b', 'c']) n.propose(new TextEncoder().encode(d))
  for (let i = 0; i < 5; i++) cycle(n, store)
  assert.equal(n.log.committed, 5)
  const r = new RaftNode({ ...cfg('1'), peers: { voters: ['1'], learners: [] } }, { hardState: store.hs, entries: store.entries, applied: 3 })
  const rd = r.ready()!
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [4, 5])
})
