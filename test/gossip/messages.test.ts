import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodePacket, decodeStreamMessage, encodeCompound, encodeMessage, encodeStreamMessage, MessageType, type Message } from '../../src/gossip/core/messages.js'

const samples: Message[] = [
  { type: 'ping', body: { seq: 7, node: 'n1' } },
  { type: 'indirectPing', body: { seq: 8, target: 'n2', addr: '10.0.0.2', port: 8301, nack: true } },
  { type: 'ack', body: { seq: 7 } },
  { type: 'nack', body: { seq: 8 } },
  { type: 'suspect', body: { node: 'n2', incarnation: 3, from: 'n1' } },
  { type: 'alive', body: { node: 'n3', incarnation: 1, addr: '10.0.0.3', port: 8301, meta: { role: 'node', dc: 'dc1' } } },
  { type: 'dead', body: { node: 'n4', incarnation: 2, from: 'n4' } },
  { type: 'user', body: Uint8Array.from([1, 2, 3]) },
]

test('every message type round-trips alone and in a compound, in order', () => {
  for (const m of samples) assert.deepEqual(decodePacket(encodeMessage(m)), { ok: true, messages: [m], truncated: 0 }, m.type)
  const compound = encodeCompound(samples.map(encodeMessage))
  assert.equal(compound[0], MessageType.compound)
  assert.deepEqual(decodePacket(compound), { ok: true, messages: samples, truncated: 0 })
})

test('a compound cut short keeps the parts that arrived whole and counts the rest', () => {
  const parts = samples.slice(0, 3).map(encodeMessage)
  const whole = encodeCompound(parts)
  const cut = whole.subarray(0, whole.byteLength - 2)
  assert.deepEqual(decodePacket(cut), { ok: true, messages: samples.slice(0, 2), truncated: 1 })
})

test('garbage is a reason, never an exception', () => {
  const bad: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /empty packet/],
    [Uint8Array.from([200, 1, 2]), /unknown message type 200/],
    [Uint8Array.from([MessageType.ping, 0xc1]), /not msgpack/],
    [encodeMessage({ type: 'ping', body: { seq: -1, node: '' } } as never), /malformed ping/],
    [encodeMessage({ type: 'alive', body: { node: 'x', incarnation: 1, addr: 'a', port: 70000, meta: {} } }), /malformed alive/],
    [Uint8Array.from([MessageType.compound]), /without its count/],
    [Uint8Array.from([MessageType.compound, 3, 0, 1]), /cut short in its lengths/],
    [encodeCompound([encodeCompound([encodeMessage(samples[0]!)])]), /nested compound/],
  ]
  for (const [packet, reason] of bad) {
    const r = decodePacket(packet)
    assert.equal(r.ok, false, reason.source)
    assert.match(r.ok ? '' : r.reason, reason)
  }
  // Random bytes: always an answer.
  let seed = 1
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let i = 0; i < 2000; i++) {
    const buf = Uint8Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256))
    const r = decodePacket(buf)
    assert.equal(typeof r.ok, 'boolean')
  }
})

test('stream messages: push-pull, ping and ack round-trip; anything else or malformed is a reason', () => {
  const pushPull = { from: 'a', join: true, members: [{ name: 'a', addr: '10.0.0.1', port: 8301, meta: { role: 'node' }, incarnation: 3, state: 'alive' as const }] }
  for (const m of [{ type: 'pushPull' as const, body: pushPull }, { type: 'ping' as const, body: { seq: 4, node: 'b' } }, { type: 'ack' as const, body: { seq: 4 } }]) {
    assert.deepEqual(decodeStreamMessage(encodeStreamMessage(m)), { ok: true, message: m })
  }
  const bad = [new Uint8Array(0), new Uint8Array([MessageType.alive, 0x80]), new Uint8Array([MessageType.pushPull, 0xc1]), encodeStreamMessage({ type: 'pushPull', body: { ...pushPull, members: [{ ...pushPull.members[0]!, state: 'zombie' as never }] } })]
  for (const b of bad) assert.equal(decodeStreamMessage(b).ok, false)
})
