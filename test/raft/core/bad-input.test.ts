import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Network, describeLog, enc } from './network.js'

function elected(): Network {
  const net = new Network(['1', '2', '3'])
  net.node('1').campaign()
  net.stabilize()
  net.node('1').propose(enc('a'))
  net.stabilize()
  return net
}

const snapshotOf = (n: { hardState(): unknown; log: { lastIndex(): number; committed: number } }, describe: string) =>
  JSON.stringify({ hs: n.hardState(), last: n.log.lastIndex(), commit: n.log.committed, describe })

test('malformed messages are refused with a reason, never a crash or a changed log', () => {
  const h = { from: '1', to: '2', term: 2 }
  const cases: { name: string; msg: unknown; reason: RegExp }[] = [
    { name: 'null', msg: null, reason: /not an object/ },
    { name: 'string', msg: 'append', reason: /not an object/ },
    { name: 'no type', msg: { ...h }, reason: /unknown message type/ },
    { name: 'unknown type', msg: { ...h, type: 'explode' }, reason: /unknown message type/ },
    { name: 'negative term', msg: { ...h, term: -1, type: 'heartbeat', commit: 0, context: '' }, reason: /term/ },
    { name: 'fractional term', msg: { ...h, term: 2.5, type: 'heartbeat', commit: 0, context: '' }, reason: /term/ },
    { name: 'empty sender', msg: { ...h, from: '', type: 'heartbeat', commit: 0, context: '' }, reason: /from\/to/ },
    { name: 'heartbeat without commit', msg: { ...h, type: 'heartbeat', context: '' }, reason: /commit/ },
    { name: 'entries not an array', msg: { ...h, type: 'append', prevIndex: 3, prevTerm: 2, commit: 3, entries: {} }, reason: /array/ },
    {
      name: 'gap in entries', reason: /contiguous/,
      msg: { ...h, type: 'append', prevIndex: 3, prevTerm: 2, commit: 3, entries: [{ index: 5, term: 2, type: 'normal', data: enc('x') }] },
    },
    {
      name: 'entry data not bytes', reason: /bytes/,
      msg: { ...h, type: 'append', prevIndex: 3, prevTerm: 2, commit: 3, entries: [{ index: 4, term: 2, type: 'normal', data: 'x' }] },
    },
    {
      name: 'entry of a future term', reason: /above the message term/,
      msg: { ...h, type: 'append', prevIndex: 3, prevTerm: 2, commit: 3, entries: [{ index: 4, term: 9, type: 'normal', data: enc('x') }] },
    },
    {
      name: 'bad entry type', reason: /entry type/,
      msg: { ...h, type: 'append', prevIndex: 3, prevTerm: 2, commit: 3, entries: [{ index: 4, term: 2, type: 'evil', data: enc('x') }] },
    },
    { name: 'vote without transfer flag', msg: { ...h, type: 'vote', lastLogIndex: 1, lastLogTerm: 1 }, reason: /transfer/ },
    { name: 'snapshot without meta', msg: { ...h, type: 'snapshot', offset: 0, data: enc(''), done: true }, reason: /meta/ },
    {
      name: 'snapshot without voters', reason: /voters/,
      msg: { ...h, type: 'snapshot', offset: 0, data: enc(''), done: true, meta: { index: 9, term: 2, size: 0, crc32: 0, conf: { voters: [], learners: [] } } },
    },
    {
      name: 'snapshot from the future', reason: /above the message term/,
      msg: { ...h, type: 'snapshot', offset: 0, data: enc(''), done: true, meta: { index: 9, term: 7, size: 0, crc32: 0, conf: { voters: ['1'], learners: [] } } },
    },
    { name: 'truncated frame', msg: { type: 'appendResp', from: '1' }, reason: /from\/to/ },
  ]
  const net = elected()
  const f = net.node('2')
  const before = snapshotOf(f, describeLog(f))
  for (const c of cases) {
    let reason: string | undefined
    assert.doesNotThrow(() => { reason = f.step(c.msg) }, c.name)
    assert.match(reason ?? 'accepted', c.reason, c.name)
  }
  assert.equal(snapshotOf(f, describeLog(f)), before)
  assert.equal(f.ready(), undefined, 'no work came out of bad input')
  assert.ok(net.logLines.some((l) => l.includes('malformed message')), 'each refusal is logged')
})

test('messages from a non-member (but for leader traffic and votes), for another server, or of an older term are ignored', () => {
  const net = elected()
  const f = net.node('2')
  const term = f.term
  const before = describeLog(f)
  const cases = [
    { name: 'pre-vote of a non-member in the lease', msg: { type: 'preVote', from: '9', to: '2', term: term + 1, lastLogIndex: 99, lastLogTerm: 99, transfer: false }, reason: /leader lease/ },
    { name: 'vote response of a non-member', msg: { type: 'voteResp', from: '9', to: '2', term, reject: false }, reason: /not a member/ },
    { name: 'unknown timeoutNow', msg: { type: 'timeoutNow', from: '9', to: '2', term }, reason: /not a member/ },
    { name: 'unknown read', msg: { type: 'readIndex', from: '9', to: '2', term, context: 'x' }, reason: /not a member/ },
    { name: 'stale append of an unknown server', msg: { type: 'append', from: '9', to: '2', term: term - 1, prevIndex: 3, prevTerm: term - 1, commit: 4, entries: [] }, reason: /stale term/ },
    { name: 'wrong recipient', msg: { type: 'heartbeat', from: '1', to: '3', term, commit: 3, context: '' }, reason: /delivered to 2/ },
    { name: 'stale append', msg: { type: 'append', from: '3', to: '2', term: term - 1, prevIndex: 3, prevTerm: term - 1, commit: 4, entries: [] }, reason: /stale term/ },
  ]
  for (const c of cases) assert.match(f.step(c.msg) ?? 'accepted', c.reason, c.name)
  assert.equal(f.term, term)
  assert.equal(f.leader, '1')
  assert.equal(describeLog(f), before)
  // The stale sender is told the current term, so a deposed leader learns it.
  const rd = f.ready()!
  const resp = rd.messages.find((m) => m.to === '3' && m.type === 'appendResp')
  assert.ok(resp && resp.type === 'appendResp' && resp.term === term)
  f.advance(rd)
})

test('advance with a Ready that was not handed out is ignored', () => {
  const net = elected()
  const n = net.node('1')
  n.propose(enc('b'))
  const rd = n.ready()!
  assert.equal(n.ready(), undefined, 'one Ready at a time')
  n.advance({ ...rd })
  assert.equal(n.ready(), undefined, 'the copy did not release the outstanding Ready')
  for (const m of rd.messages) net.send(m)
  n.advance(rd)
  net.stabilize()
  assert.deepEqual(net.appliedData('3'), ['a', 'b'])
})
