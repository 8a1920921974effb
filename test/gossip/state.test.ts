import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LAN_CONFIG } from '../../src/gossip/core/config.js'
import { MemberPool, type Effect } from '../../src/gossip/core/state.js'

const pool = (): MemberPool => new MemberPool(LAN_CONFIG, { name: 'me', addr: '10.0.0.1', port: 8301, meta: { role: 'node' } }, 0)
const alive = (node: string, incarnation: number, meta: Record<string, string> = {}) => ({ node, incarnation, addr: `10.0.0.${node.length}`, port: 8301, meta })
const kinds = (effects: Effect[]): string[] => effects.map((e) => (e.kind === 'event' ? `event:${e.event}` : e.kind === 'broadcast' ? `broadcast:${e.message.type}` : e.kind))

test('alive: a new member joins and is passed on; old news is ignored; new meta is an update', () => {
  const p = pool()
  assert.deepEqual(kinds(p.alive(alive('a', 1), 10)), ['broadcast:alive', 'event:join'])
  assert.equal(p.member('a')?.state, 'alive')
  assert.deepEqual(p.alive(alive('a', 1), 20), [], 'same incarnation')
  assert.deepEqual(p.alive(alive('a', 0), 20), [], 'older incarnation')
  assert.deepEqual(kinds(p.alive(alive('a', 2, { role: 'consul' }), 30)), ['broadcast:alive', 'event:update'])
  assert.equal(p.liveCount(), 2)
})

test('suspect: starts a suspicion timer; confirmations from others bring it closer; expiry declares the member dead', () => {
  const p = pool()
  for (const n of ['a', 'b', 'c', 'd', 'e']) p.alive(alive(n, 1), 0)
  const first = p.suspect({ node: 'a', incarnation: 1, from: 'b' }, 1000)
  assert.deepEqual(kinds(first), ['broadcast:suspect', 'suspect-timer'])
  const deadline = (first[1] as { deadline: number }).deadline
  // 6 live members, suspicion mult 4: at least 4 x log10(6)->1 x 1 s = 4 s, at most 6 times that.
  assert.equal(deadline, 1000 + 24_000)
  assert.equal(p.member('a')?.state, 'suspect')
  assert.deepEqual(p.suspect({ node: 'a', incarnation: 1, from: 'b' }, 1100), [], 'the same suspector again tells nothing')
  const confirmed = p.suspect({ node: 'a', incarnation: 1, from: 'c' }, 1200)
  assert.deepEqual(kinds(confirmed), ['broadcast:suspect', 'suspect-timer'])
  assert.ok((confirmed[1] as { deadline: number }).deadline < deadline, 'an independent confirmation moves the deadline closer')
  assert.deepEqual(kinds(p.suspicionExpired('a', 30_000)), ['cancel-suspect-timer', 'broadcast:dead', 'event:failed'])
  assert.equal(p.member('a')?.state, 'dead')
  assert.equal(p.liveCount(), 5)
})

test('a suspect member that refutes (a higher incarnation) is alive again and its timer cancelled; a dead one needs a higher incarnation to come back', () => {
  const p = pool()
  p.alive(alive('a', 1), 0)
  p.suspect({ node: 'a', incarnation: 1, from: 'x' }, 10)
  assert.deepEqual(kinds(p.alive(alive('a', 2), 20)), ['cancel-suspect-timer', 'broadcast:alive'])
  assert.equal(p.member('a')?.state, 'alive')
  assert.deepEqual(p.suspicionExpired('a', 99_000), [], 'no longer suspect')
  assert.deepEqual(kinds(p.dead({ node: 'a', incarnation: 2, from: 'x' }, 30)), ['broadcast:dead', 'event:failed'])
  assert.deepEqual(p.alive(alive('a', 2), 40), [], 'not back at the incarnation it died at')
  assert.deepEqual(kinds(p.alive(alive('a', 3), 50)), ['broadcast:alive', 'event:join'])
})

test('about this member itself: suspicion and death are refuted with a higher incarnation, and local health drops', () => {
  const p = pool()
  p.alive(alive('a', 1), 0)
  const refuted = p.suspect({ node: 'me', incarnation: 0, from: 'a' }, 10)
  assert.deepEqual(kinds(refuted), ['broadcast:alive'])
  assert.equal(p.self.incarnation, 1)
  assert.equal(p.self.state, 'alive')
  assert.equal(p.awareness.score, 1)
  assert.deepEqual(kinds(p.dead({ node: 'me', incarnation: 4, from: 'a' }, 20)), ['broadcast:alive'])
  assert.equal(p.self.incarnation, 5)
  assert.deepEqual(p.alive({ node: 'me', incarnation: 5, addr: '10.0.0.1', port: 8301, meta: { role: 'node' } }, 30), [], 'our own news coming back')
})

test('leave: a dead message about itself, which the others read as left, not failed', () => {
  const p = pool()
  const out = p.leave(10)
  assert.deepEqual(kinds(out), ['broadcast:dead', 'event:leave'])
  assert.equal(p.self.state, 'left')
  const other = pool()
  other.alive(alive('gone', 3), 0)
  assert.deepEqual(kinds(other.dead({ node: 'gone', incarnation: 3, from: 'gone' }, 5)), ['broadcast:dead', 'event:leave'])
  assert.equal(other.member('gone')?.state, 'left')
  assert.deepEqual(other.dead({ node: 'gone', incarnation: 3, from: 'x' }, 6), [], 'already gone')
  assert.deepEqual(other.dead({ node: 'unknown', incarnation: 1, from: 'x' }, 6), [], 'unknown member')
})

test('merge: the other side\'s alive and left are taken, its dead is only a suspicion here, unknown members are learned', () => {
  const p = pool()
  p.alive(alive('a', 1), 0)
  p.alive(alive('b', 1), 0)
  const rec = (name: string, state: 'alive' | 'suspect' | 'dead' | 'left', incarnation: number) => ({ name, addr: '10.9.9.9', port: 8301, meta: {}, incarnation, state, stateChange: 0 })
  const out = p.merge([rec('a', 'dead', 1), rec('b', 'left', 1), rec('c', 'alive', 4), rec('d', 'suspect', 2), rec('me', 'dead', 0)], 'peer', 100)
  assert.equal(p.member('a')?.state, 'suspect', 'not dead on its word alone')
  assert.equal(p.member('b')?.state, 'left')
  assert.equal(p.member('c')?.state, 'alive')
  assert.equal(p.member('d')?.state, 'suspect')
  assert.equal(p.self.state, 'alive')
  assert.ok(p.self.incarnation > 0, 'what it said of us was refuted')
  assert.ok(kinds(out).includes('event:join'))
})

test('reap: dead members are forgotten after the reconnect timeout, left ones after theirs, never this member', () => {
  const p = pool()
  p.alive(alive('a', 1), 0)
  p.alive(alive('b', 1), 0)
  p.alive(alive('c', 1), 0)
  p.dead({ node: 'a', incarnation: 1, from: 'x' }, 1000)
  p.dead({ node: 'b', incarnation: 1, from: 'b' }, 1000)
  assert.deepEqual(p.reap(5000, 10_000, 3000), ['b'])
  assert.deepEqual(p.reap(11_000, 10_000, 3000), ['a'])
  assert.deepEqual(p.list().map((m) => m.name).sort(), ['c', 'me'])
})
