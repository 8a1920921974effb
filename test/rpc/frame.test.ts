/**
 * The wire format without sockets: messages round-trip (binary data as bytes), the reader cuts a
 * stream into frames whatever the chunking, and bad bytes become one error event each.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FrameKind, FrameReader, RPC_PROTOCOL_VERSION, WireCodec, encodeFrame, encodePreamble, parseAddress, type ReadEvent, type WireMessage } from '../../src/rpc/frame.js'
import { mulberry32 } from '../../src/lib/prng.js'
import { readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const codec = new WireCodec()

function bytes(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed)
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256))
}

const samples: WireMessage[] = [
  { kind: 'hello', version: RPC_PROTOCOL_VERSION, datacenter: 'dc1', cluster: 'c-1', id: 'node-a' },
  { kind: 'refuse', error: { code: 'datacenter', message: 'wrong datacenter' } },
  { kind: 'request', seq: 7, method: 'KVS.Apply', timeoutMs: 1500, body: { Key: 'k', Value: bytes(300, 1), Flags: 2 ** 40 } },
  { kind: 'response', seq: 7, error: null, body: [true, 'x', null, -3.5] },
  { kind: 'response', seq: 8, error: { code: 'timeout', message: 'late' }, body: null },
  {
    kind: 'oneway', method: 'Raft.Message', body: {
      type: 'append', from: 'a', to: 'b', term: 3, prevIndex: 9, prevTerm: 2, commit: 9,
      entries: [{ index: 10, term: 3, type: 'normal', data: bytes(1000, 2) }, { index: 11, term: 3, type: 'noop', data: new Uint8Array(0) }],
    },
  },
  { kind: 'oneway', method: 'Raft.Message', body: { type: 'snapshot', from: 'a', to: 'b', term: 3, offset: 0, done: false, data: bytes(1 << 20, 3), meta: { index: 5, term: 2, size: 3 << 20, crc32: 0xdeadbeef, conf: { voters: ['a'], learners: [] } } } },
]

/** Decodes every frame of a stream fed in pieces of `step` bytes. */
function readAll(stream: Uint8Array, step: number, preamble: boolean): ReadEvent[] {
  const reader = new FrameReader({ preamble })
  const events: ReadEvent[] = []
  for (let at = 0; at < stream.byteLength; at += step) events.push(...reader.push(stream.subarray(at, Math.min(stream.byteLength, at + step))))
  assert.equal(reader.buffered, 0, 'nothing left over')
  return events
}

function join(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]))
}

test('every message kind round-trips; binary values come back as the same bytes', () => {
  for (const m of samples) {
    const frame = codec.encode(m)
    const [e] = readAll(frame, frame.byteLength, false)
    assert.equal(e?.type, 'frame')
    if (e?.type !== 'frame') continue
    const back = codec.decode(e.kind, e.body)
    assert.notEqual(typeof back, 'string', String(back))
    assert.deepEqual(normalise(back), normalise(m), m.kind)
  }
})

/** Compares bytes as bytes, whatever Uint8Array subclass or view carries them. */
function normalise(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') }
  if (Array.isArray(v)) return v.map(normalise)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]))
  return v
}

test('the reader gives the same frames whatever the chunking, preamble first', () => {
  const stream = join([encodePreamble(), ...samples.slice(0, 6).map((m) => codec.encode(m))])
  const whole = readAll(stream, stream.byteLength, true)
  assert.equal(whole.length, 7)
  assert.deepEqual(whole[0], { type: 'preamble', version: RPC_PROTOCOL_VERSION })
  for (const step of [1, 2, 3, 5, 7, 64, 1000]) {
    const pieces = readAll(stream, step, true)
    assert.deepEqual(pieces.map(normalise), whole.map(normalise), `pieces of ${step}`)
  }
})

test('bad bytes: one error each, and the reader is dead after it', () => {
  const cases: Array<{ name: string; input: Uint8Array; preamble: boolean; reason: string }> = [
    { name: 'text instead of the preamble', input: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'), preamble: true, reason: 'garbage' },
    { name: 'one wrong byte is enough', input: Uint8Array.of(0x00), preamble: true, reason: 'garbage' },
    { name: 'a length over the limit', input: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1), preamble: false, reason: 'oversized' },
    { name: 'an empty frame', input: Uint8Array.of(0, 0, 0, 0), preamble: false, reason: 'malformed' },
  ]
  for (const c of cases) {
    const reader = new FrameReader({ preamble: c.preamble, maxFrameBytes: 1024 })
    const events = reader.push(c.input)
    assert.equal(events.length, 1, c.name)
    assert.equal(events[0]!.type === 'error' && events[0]!.reason, c.reason, c.name)
    assert.deepEqual(reader.push(codec.encode(samples[0]!)), [], `${c.name}: nothing after`)
  }
  // The preamble with another version is read; refusing it is the connection's decision.
  assert.deepEqual(new FrameReader({ preamble: true }).push(encodePreamble(9)), [{ type: 'preamble', version: 9 }])
  // A frame cut short is not an error until the stream ends: the bytes stay buffered.
  const frame = codec.encode(samples[2]!)
  const reader = new FrameReader({ preamble: false })
  assert.deepEqual(reader.push(frame.subarray(0, frame.byteLength - 1)), [])
  assert.equal(reader.buffered, frame.byteLength - 1)
})

test('the codec refuses bodies that do not fit their kind, with a reason and no exception', () => {
  const bad: Array<[number, Uint8Array, string]> = [
    [FrameKind.Hello, codec.encode({ kind: 'oneway', method: 'x', body: 1 }).subarray(5), 'hello with a one-way layout'],
    [FrameKind.Request, Uint8Array.of(0xc1), 'msgpack never-used byte'],
    [FrameKind.Request, Uint8Array.of(0x93, 1, 2), 'array cut short'],
    [FrameKind.OneWay, Uint8Array.of(0x01), 'not an array'],
    [99, codec.encode({ kind: 'oneway', method: 'x', body: 1 }).subarray(5), 'unknown kind'],
    [FrameKind.Request, encodeFrame(0, Uint8Array.of(0x94, 0xff, 0xa1, 0x78, 0, 0)).subarray(5), 'negative seq'],
    [FrameKind.Hello, Uint8Array.of(0x94, 1, 0xa0, 0xa0, 0xa0), 'empty id'],
    [FrameKind.Request, join([Uint8Array.of(0x94, 1, 0xa1, 0x78, 0), Uint8Array.of(0x81, 0xa9), new TextEncoder().encode('__proto__'), Uint8Array.of(1)]), '__proto__ key'],
  ]
  for (const [kind, body, name] of bad) assert.equal(typeof codec.decode(kind, body), 'string', name)
  assert.throws(() => codec.encode({ kind: 'oneway', method: 'x', body: () => 1 }), 'a function cannot be encoded')
})

test('addresses: ip:port and [v6]:port', () => {
  const table: Array<[string, ReturnType<typeof parseAddress>]> = [
    ['127.0.0.1:8300', { host: '127.0.0.1', port: 8300 }],
    ['[::1]:8300', { host: '::1', port: 8300 }],
    ['node1.dc1:1', { host: 'node1.dc1', port: 1 }],
    ['127.0.0.1', undefined],
    ['127.0.0.1:0', undefined],
    ['127.0.0.1:65536', undefined],
    [':8300', undefined],
    ['::1:8300', undefined],
  ]
  for (const [input, want] of table) assert.deepEqual(parseAddress(input), want, input)
})

test('the wire format is pure, and no rpc module keeps state at module level', () => {
  const dir = fileURLToPath(new URL('../../../src/rpc/', import.meta.url))
  const frame = readFileSync(path.join(dir, 'frame.ts'), 'utf8')
  for (const re of [/from ['"]node:/, /Date\.now|new Date\(|Math\.random/, /setTimeout|setInterval|setImmediate|process\./]) assert.doesNotMatch(frame, re, `frame.ts must not use ${re}`)
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  assert.ok(files.length >= 5)
  for (const f of files) {
    const src = readFileSync(path.join(dir, f), 'utf8')
    assert.doesNotMatch(src, /^(let|var) /m, `${f}: a module-level variable`)
    assert.ok(src.split('\n').length <= 800, `${f} is over 800 lines`)
  }
})
