import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LAN_CONFIG } from '../../src/gossip/core/config.js'
import { decodePacket, encodeMessage, type Message } from '../../src/gossip/core/messages.js'
import { GossipNode, type NodeOutput } from '../../src/gossip/core/node.js'
import { mulberry32 } from '../../src/lib/prng.js'

const SENDER = { addr: '10.0.0.9', port: 8301 }

function node(members = 5): GossipNode {
  const n = new GossipNode({ config: LAN_CONFIG, self: { name: 'me', addr: '10.0.0.1', port: 8301, meta: {} }, random: mulberry32(5), now: 0 })
  for (let i = 2; i < members + 2; i++) n.pool.alive({ node: `m${i}`, incarnation: 1, addr: `10.0.0.${i}`, port: 8301, meta: {} }, 0)
  n.take()
  return n
}

const packets = (outs: NodeOutput[]) => outs.filter((o): o is Extract<NodeOutput, { kind: 'packet' }> => o.kind === 'packet')
const messagesIn = (data: Uint8Array): Message[] => {
  const d = decodePacket(data)
  assert.ok(d.ok)
  return d.messages
}

test('garbage and pings for another member are counted and dropped, never thrown', () => {
  const n = node()
  n.packet(SENDER, new Uint8Array([250, 1, 2]), 0)
  n.packet(SENDER, new Uint8Array(0), 0)
  n.packet(SENDER, encodeMessage({ type: 'ping', body: { seq: 1, node: 'someone-else' } }), 0)
  assert.equal(n.counters.badPackets, 2)
  assert.equal(n.counters.pingsForOthers, 1)
  assert.deepEqual(packets(n.take()), [])
})

test('a ping is acked to its sender with queued broadcasts piggybacked, within the packet size', () => {
  const n = node()
  for (let i = 0; i < 100; i++) n.packet(SENDER, encodeMessage({ type: 'alive', body: { node: `x${i}`, incarnation: 1, addr: '10.2.0.1', port: 8301, meta: { role: 'node' } } }), 0)
  n.take()
  n.packet(SENDER, encodeMessage({ type: 'ping', body: { seq: 7, node: 'me' } }), 0)
  const [ack] = packets(n.take())
  assert.ok(ack)
  assert.deepEqual(ack.to, SENDER)
  assert.ok(ack.data.byteLength <= 1400, `${ack.data.byteLength} bytes`)
  const msgs = messagesIn(ack.data)
  assert.deepEqual(msgs[0], { type: 'ack', body: { seq: 7 } })
  assert.ok(msgs.length > 5 && msgs.slice(1).every((m) => m.type === 'alive'))
})

test('an indirect ping is relayed: the target ack goes back under the asker seq; silence is a nack after the probe timeout', () => {
  const n = node()
  n.packet(SENDER, encodeMessage({ type: 'indirectPing', body: { seq: 40, target: 'm3', addr: '10.0.0.3', port: 8301, nack: true } }), 0)
  const [ping] = packets(n.take())
  assert.deepEqual(ping?.to, { addr: '10.0.0.3', port: 8301 })
  const m = messagesIn(ping!.data)[0]!
  assert.equal(m.type, 'ping')
  const relaySeq = (m.body as { seq: number }).seq
  n.packet({ addr: '10.0.0.3', port: 8301 }, encodeMessage({ type: 'ack', body: { seq: relaySeq } }), 10)
  const [back] = packets(n.take())
  assert.deepEqual(back?.to, SENDER)
  assert.deepEqual(messagesIn(back!.data)[0], { type: 'ack', body: { seq: 40 } })

  n.packet(SENDER, encodeMessage({ type: 'indirectPing', body: { seq: 41, target: 'm4', addr: '10.0.0.4', port: 8301, nack: true } }), 100)
  n.take()
  n.tick(100 + LAN_CONFIG.probeTimeoutMs)
  const nack = packets(n.take()).find((p) => messagesIn(p.data)[0]?.type === 'nack')
  assert.deepEqual(nack?.to, SENDER)
  assert.deepEqual(messagesIn(nack!.data)[0], { type: 'nack', body: { seq: 41 } })
})

test('probing a suspect member carries the suspicion to it (Lifeguard buddy system)', () => {
  const n = node(1)
  n.packet(SENDER, encodeMessage({ type: 'suspect', body: { node: 'm2', incarnation: 1, from: 'm9' } }), 0)
  n.take()
  n.tick(n.prober.nextWake())
  const ping = packets(n.take()).find((p) => p.to.addr === '10.0.0.2')
  assert.ok(ping)
  const msgs = messagesIn(ping.data)
  assert.equal(msgs[0]?.type, 'ping')
  assert.ok(msgs.some((m) => m.type === 'suspect' && m.body.node === 'm2' && m.body.from === 'me'))
})

test('a suspicion of this member refutes it; a stale one is answered with the current alive straight to its sender', () => {
  const n = node()
  n.packet(SENDER, encodeMessage({ type: 'suspect', body: { node: 'me', incarnation: 0, from: 'm2' } }), 0)
  assert.equal(n.pool.self.incarnation, 1)
  n.take()
  n.packet(SENDER, encodeMessage({ type: 'dead', body: { node: 'me', incarnation: 0, from: 'm3' } }), 5)
  const [reply] = packets(n.take())
  assert.deepEqual(reply?.to, SENDER)
  assert.deepEqual(messagesIn(reply!.data)[0], { type: 'alive', body: { node: 'me', incarnation: 1, addr: '10.0.0.1', port: 8301, meta: {} } })
  assert.equal(n.pool.self.incarnation, 1, 'no new incarnation for old news')
})

test('push-pull: local state lists every member; a merge learns members and reports them', () => {
  const a = node(0)
  const b = new GossipNode({ config: LAN_CONFIG, self: { name: 'b', addr: '10.0.0.20', port: 8301, meta: { role: 'consul' } }, random: mulberry32(9), now: 0 })
  a.join([{ addr: '10.0.0.20', port: 8301 }])
  assert.deepEqual(a.take(), [{ kind: 'push-pull', to: { addr: '10.0.0.20', port: 8301 }, join: true }])
  const mine = a.localState(true)
  b.merge(mine, 1)
  a.merge(b.localState(false), 2)
  assert.deepEqual(
    a.take().filter((o) => o.kind === 'event').map((o) => o.kind === 'event' && `${o.event} ${o.member.name}`),
    ['join b'],
  )
  assert.deepEqual(b.take().filter((o) => o.kind === 'event').map((o) => o.kind === 'event' && `${o.event} ${o.member.name}`), ['join me'])
  assert.deepEqual(a.pool.member('b')?.meta, { role: 'consul' })
})

test('updateMeta gossips the new tags with a new incarnation', () => {
  const n = node()
  n.updateMeta({ role: 'consul', dc: 'dc1' })
  assert.equal(n.pool.self.incarnation, 1)
  n.tick(n.nextWake())
  const sent = packets(n.take()).flatMap((p) => messagesIn(p.data))
  assert.ok(sent.some((m) => m.type === 'alive' && m.body.node === 'me' && m.body.meta.role === 'consul'))
})

test('force-leave: a failed member becomes left and that is gossiped, others take it; an alive one is only leaving and refutes; prune forgets', () => {
  const n = node()
  n.pool.dead({ node: 'm2', incarnation: 1, from: 'm3' }, 1)
  n.take()
  assert.equal(n.forceLeave('m2', false, 2), 'left')
  assert.equal(n.pool.member('m2')?.state, 'left')
  assert.deepEqual(n.take().filter((o) => o.kind === 'event').map((o) => o.kind === 'event' && `${o.event} ${o.member.name}`), ['leave m2'])
  n.tick(n.nextWake())
  const sent = packets(n.take()).flatMap((p) => messagesIn(p.data))
  assert.ok(sent.some((m) => m.type === 'dead' && m.body.node === 'm2' && m.body.from === 'm2'))

  // Another member that holds m2 as failed takes the leave too.
  const other = node()
  other.pool.dead({ node: 'm2', incarnation: 1, from: 'm3' }, 1)
  other.packet(SENDER, encodeMessage({ type: 'dead', body: { node: 'm2', incarnation: 1, from: 'm2' } }), 3)
  assert.equal(other.pool.member('m2')?.state, 'left')
  // A plain death claim does not move a left member back to failed.
  other.packet(SENDER, encodeMessage({ type: 'dead', body: { node: 'm2', incarnation: 1, from: 'm4' } }), 4)
  assert.equal(other.pool.member('m2')?.state, 'left')

  // A member that holds it alive takes the leave; the member itself refutes it (it is alive, not leaving).
  const me = node()
  me.packet(SENDER, encodeMessage({ type: 'dead', body: { node: 'me', incarnation: 0, from: 'me' } }), 5)
  assert.equal(me.pool.self.state, 'alive')
  assert.equal(me.pool.self.incarnation, 1)

  // An alive member is only leaving: suspected, told so directly (it refutes), never marked left.
  assert.equal(n.forceLeave('m3', false, 6), 'leaving')
  assert.equal(n.pool.member('m3')?.state, 'suspect')
  const told = packets(n.take()).filter((p) => p.to.addr === '10.0.0.3').flatMap((p) => messagesIn(p.data))
  assert.ok(told.some((m) => m.type === 'suspect' && m.body.node === 'm3'))

  n.pool.dead({ node: 'm4', incarnation: 1, from: 'm3' }, 7)
  assert.equal(n.forceLeave('m4', true, 8), 'left')
  assert.equal(n.pool.member('m4'), undefined)
  assert.ok(n.take().some((o) => o.kind === 'event' && o.event === 'reap' && o.member.name === 'm4'))
  assert.equal(n.forceLeave('nobody', false, 9), false)
  assert.equal(n.forceLeave('me', false, 9), false)
})
