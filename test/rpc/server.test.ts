/**
 * RpcServer over real loopback sockets: requests and one-way messages, deadlines, a peer that goes
 * away and comes back, bounded buffers towards a peer that does not read, and bad input written raw
 * with node:net (refused with one log line and one count each, the server still serving good peers).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { RpcServer, type RpcServerOptions } from '../../src/rpc/server.js'
import { FrameReader, RPC_PROTOCOL_VERSION, WireCodec, encodeFrame, encodePreamble, type WireMessage } from '../../src/rpc/frame.js'
import { until } from '../helpers/poll.js'

interface Started {
  rpc: RpcServer
  logs: string[]
  address: string
  port: number
}

async function start(id: string, opts: Partial<RpcServerOptions> & { host?: string; port?: number } = {}): Promise<Started> {
  const logs: string[] = []
  const rpc = new RpcServer({ id, datacenter: 'dc1', cluster: 'test-cluster', log: (level, m) => logs.push(`${level} ${m}`), ...opts })
  const { host, port } = await rpc.listen(opts.host ?? '127.0.0.1', opts.port ?? 0)
  return { rpc, logs, address: `${host}:${port}`, port }
}

const echo = (body: unknown) => body

test('requests are answered, one-way messages arrive in order, failures come back as {code, message} values', async () => {
  const a = await start('a')
  const b = await start('b')
  const seen: unknown[] = []
  const froms = new Set<string>()
  b.rpc.handle('Test.Echo', (body, ctx) => {
    froms.add(ctx.from)
    return body
  })
  b.rpc.handle('Test.Later', async (body) => {
    await new Promise((r) => setTimeout(r, 20))
    return { later: body }
  })
  b.rpc.handle('Test.Refuse', () => {
    throw { code: 'not_leader', message: 'the leader is 127.0.0.9:8300' }
  })
  b.rpc.handle('Test.Crash', () => {
    throw new Error('boom')
  })
  b.rpc.handle('Test.Note', (body) => void seen.push(body))
  const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)
  const r = await a.rpc.call(b.address, 'Test.Echo', { key: 'k', data, n: 2 ** 50 })
  assert.ok(r.ok)
  const v = r.value as { key: string; data: Uint8Array; n: number }
  assert.equal(v.key, 'k')
  assert.equal(v.n, 2 ** 50)
  assert.deepEqual(Buffer.from(v.data), Buffer.from(data), 'binary data comes back byte for byte')
  assert.deepEqual([...froms], ['a'], 'the handler knows the caller from its handshake')
  // Many calls in flight on one connection, answered out of order, each to its caller.
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => a.rpc.call(b.address, i % 2 ? 'Test.Later' : 'Test.Echo', i)))
  many.forEach((m, i) => assert.deepEqual(m, { ok: true, value: i % 2 ? { later: i } : i }))
  assert.deepEqual(await a.rpc.call(b.address, 'Test.Refuse', null), { ok: false, error: { code: 'not_leader', message: 'the leader is 127.0.0.9:8300' } })
  assert.deepEqual(await a.rpc.call(b.address, 'Test.Crash', null), { ok: false, error: { code: 'internal', message: 'boom' } })
  assert.equal((await a.rpc.call(b.address, 'Nope.Nothing', null)).ok, false)
  for (let i = 0; i < 200; i++) assert.equal(a.rpc.send(b.address, 'Test.Note', i), true)
  await until('every one-way message', () => (seen.length === 200 ? true : undefined))
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i), 'in the order sent')
  const s = b.rpc.stats()
  assert.equal(s.handler_errors, 1)
  assert.equal(s.unknown_method, 1)
  assert.equal(s.connections_accepted, 1, 'one connection carried everything')
  assert.equal(a.rpc.stats().connections_dialed, 1)
  assert.ok(b.logs.some((l) => l.includes('Test.Crash handler failed: boom')))
  await a.rpc.close()
  await b.rpc.close()
})

test('deadlines: a call without an answer fails with timeout; the late answer is counted and dropped', async () => {
  const a = await start('a')
  const b = await start('b')
  let release: (() => void) | undefined
  let deadline = 0
  b.rpc.handle('Test.Slow', (_body, ctx) => {
    deadline = ctx.deadline
    return new Promise((resolve) => (release = () => resolve('too late')))
  })
  const r = await a.rpc.call(b.address, 'Test.Slow', null, { timeoutMs: 200 })
  assert.equal(!r.ok && r.error.code, 'timeout')
  assert.ok(deadline > 0, 'the handler was told the deadline')
  release!()
  await until('the late answer', () => (a.rpc.stats().late_responses === 1 ? true : undefined))
  assert.equal(a.rpc.stats().call_timeouts, 1)
  assert.equal(a.rpc.stats().calls_pending, 0)
  await a.rpc.close()
  await b.rpc.close()
})

test('a peer that goes away fails the calls in flight; calls fail fast while it is down; it is reconnected once back', async () => {
  const a = await start('a')
  let b = await start('b')
  const port = b.port
  b.rpc.handle('Test.Hang', () => new Promise(() => {}))
  b.rpc.handle('Test.Echo', echo)
  assert.deepEqual(await a.rpc.call(b.address, 'Test.Echo', 1), { ok: true, value: 1 })
  const hanging = a.rpc.call(b.address, 'Test.Hang', null, { timeoutMs: 60_000 })
  await until('the call to arrive', () => (b.rpc.stats().requests_in === 2 ? true : undefined))
  await b.rpc.close()
  const lost = await hanging
  assert.equal(!lost.ok && lost.error.code, 'closed', 'the call in flight fails when the connection goes')
  const down = await a.rpc.call(b.address, 'Test.Echo', 2, { timeoutMs: 60_000 })
  assert.equal(!down.ok && down.error.code, 'unreachable')
  assert.equal(a.rpc.send(b.address, 'Test.Echo', 3), false, 'one-way messages are dropped in backoff')
  assert.ok(a.rpc.stats().dropped >= 1)
  assert.ok(a.logs.some((l) => l.includes(`cannot reach ${b.address}`)))
  // The same address comes back (a restarted server): the next call after the backoff gets through.
  b = await start('b', { port })
  b.rpc.handle('Test.Echo', echo)
  const back = await until('a call through a new connection', async () => {
    const r = await a.rpc.call(b.address, 'Test.Echo', 4, { timeoutMs: 2_000 })
    return r.ok ? r : undefined
  })
  assert.deepEqual(back, { ok: true, value: 4 })
  assert.ok(a.rpc.stats().dial_failures >= 1)
  assert.ok(a.rpc.stats().connections_dialed >= 2)
  // An address nobody listens on, and one that cannot be dialed at all.
  const nobody = await a.rpc.call('127.0.0.1:1', 'Test.Echo', 5)
  assert.equal(!nobody.ok && nobody.error.code, 'unreachable')
  const nonsense = await a.rpc.call('not an address', 'Test.Echo', 5)
  assert.equal(!nonsense.ok && nonsense.error.code, 'unreachable')
  await a.rpc.close()
  await b.rpc.close()
  const after = await a.rpc.call(b.address, 'Test.Echo', 6)
  assert.equal(!after.ok && after.error.code, 'shutdown')
})

/** Writes bytes to `port` with a plain socket; resolves with all it received once the server closed it. */
function raw(port: number, chunks: Uint8Array[], opts: { end?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = []
    const s: Socket = connect({ host: '127.0.0.1', port }, () => {
      for (const c of chunks) s.write(c)
      if (opts.end) s.end()
    })
    s.on('data', (d) => got.push(d))
    s.on('error', () => undefined)
    s.on('close', () => resolve(Buffer.concat(got)))
    setTimeout(() => reject(new Error('the server did not close the connection')), 20_000).unref()
  })
}

function frames(received: Buffer): WireMessage[] {
  const codec = new WireCodec()
  return new FrameReader({ preamble: false }).push(received).flatMap((e) => {
    if (e.type !== 'frame') return []
    const m = codec.decode(e.kind, e.body)
    return typeof m === 'string' ? [] : [m]
  })
}

test('bad input on the server port: refused with one log line and one count each, never a crash, good peers still served', async () => {
  const s = await start('s', { limits: { maxFrameBytes: 1024 * 1024, handshakeTimeoutMs: 500 } })
  s.rpc.handle('Test.Echo', echo)
  const codec = new WireCodec()
  const hello = (over: Partial<{ version: number; datacenter: string; cluster: string; id: string }> = {}) =>
    codec.encode({ kind: 'hello', version: RPC_PROTOCOL_VERSION, datacenter: 'dc1', cluster: 'test-cluster', id: 'x', ...over })
  const request = codec.encode({ kind: 'request', seq: 1, method: 'Test.Echo', timeoutMs: 1000, body: 1 })
  const cases: Array<{ name: string; counter: string; chunks: Uint8Array[]; end?: boolean; answer?: string }> = [
    { name: 'garbage', counter: 'refused_garbage', chunks: [Buffer.from('GET /v1/kv/x HTTP/1.1\r\nHost: a\r\n\r\n')], answer: 'garbage' },
    { name: 'random binary', counter: 'refused_garbage', chunks: [Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00)], answer: 'garbage' },
    { name: 'truncated in the preamble', counter: 'refused_truncated', chunks: [encodePreamble().subarray(0, 3)], end: true },
    { name: 'truncated hello frame', counter: 'refused_truncated', chunks: [encodePreamble(), hello().subarray(0, 9)], end: true },
    { name: 'truncated after the handshake', counter: 'refused_truncated', chunks: [encodePreamble(), hello(), request.subarray(0, request.byteLength - 1)], end: true },
    { name: 'oversized frame', counter: 'refused_oversized', chunks: [encodePreamble(), Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 1)], answer: 'oversized' },
    { name: 'undecodable frame', counter: 'refused_malformed', chunks: [encodePreamble(), encodeFrame(1, Uint8Array.of(0xc1, 0xc1))], answer: 'malformed' },
    { name: 'unknown frame kind', counter: 'refused_malformed', chunks: [encodePreamble(), hello(), encodeFrame(42, Uint8Array.of(0x90))] },
    { name: 'request before the hello', counter: 'refused_malformed', chunks: [encodePreamble(), request], answer: 'malformed' },
    { name: 'unknown protocol version', counter: 'refused_version', chunks: [encodePreamble(RPC_PROTOCOL_VERSION + 1), hello({ version: RPC_PROTOCOL_VERSION + 1 })], answer: 'version' },
    { name: 'version in the hello', counter: 'refused_version', chunks: [encodePreamble(), hello({ version: 0 })], answer: 'version' },
    { name: 'another datacenter', counter: 'refused_datacenter', chunks: [encodePreamble(), hello({ datacenter: 'dc2' })], answer: 'datacenter' },
    { name: 'another cluster', counter: 'refused_cluster', chunks: [encodePreamble(), hello({ cluster: 'other' })], answer: 'cluster' },
    { name: 'no handshake in time', counter: 'refused_timeout', chunks: [encodePreamble()], answer: 'timeout' },
  ]
  for (const c of cases) {
    const before = s.rpc.stats()[c.counter]!
    const lines = s.logs.length
    const received = await raw(s.port, c.chunks, { end: c.end })
    await until(`${c.name} counted`, () => (s.rpc.stats()[c.counter] === before + 1 ? true : undefined))
    assert.equal(s.logs.length, lines + 1, `${c.name}: exactly one log line (${s.logs.slice(lines).join(' | ')})`)
    assert.match(s.logs.at(-1)!, /^warn rpc: refused a connection from (x at )?127\.0\.0\.1:\d+: [a-z]+: /, c.name)
    if (c.answer) {
      const answer = frames(received)
      assert.equal(answer.length, 1, `${c.name}: one refusal frame`)
      assert.equal(answer[0]!.kind === 'refuse' && answer[0]!.error.code, c.answer, c.name)
    }
  }
  // An empty connection (a TCP port probe) is nothing to refuse.
  const lines = s.logs.length
  await raw(s.port, [], { end: true })
  // After all that, a good peer is served as ever, and a raw client that does it right is answered.
  const good = await start('good')
  assert.deepEqual(await good.rpc.call(s.address, 'Test.Echo', 'still here'), { ok: true, value: 'still here' })
  assert.equal(s.logs.length, lines, 'neither the probe nor the good peer was logged')
  const sock = connect({ host: '127.0.0.1', port: s.port })
  const replies: Buffer[] = []
  sock.on('data', (d) => replies.push(d))
  sock.write(Buffer.concat([encodePreamble(), hello({ id: 'raw' }), request]))
  const answers = await until('the raw client answered', () => {
    const f = frames(Buffer.concat(replies))
    return f.length === 2 ? f : undefined
  })
  assert.equal(answers[0]!.kind, 'hello')
  assert.deepEqual(answers[1], { kind: 'response', seq: 1, error: null, body: 1 })
  sock.destroy()
  await good.rpc.close()
  await s.rpc.close()
})

test('servers of another datacenter or cluster are refused at both ends, once per connection', async () => {
  const s = await start('s')
  s.rpc.handle('Test.Echo', echo)
  for (const [other, counter] of [[{ datacenter: 'dc2' }, 'refused_datacenter'], [{ cluster: 'someone-else' }, 'refused_cluster']] as const) {
    const o = await start('o', other)
    const r = await o.rpc.call(s.address, 'Test.Echo', 1)
    assert.equal(!r.ok && r.error.code, 'unreachable')
    assert.match(r.ok ? '' : r.error.message, /cannot reach/)
    await until('both ends counted', () => (s.rpc.stats()[counter] === 1 && o.rpc.stats().refused_by_peer === 1 ? true : undefined))
    assert.equal(o.logs.filter((l) => l.includes('refused this server')).length, 1, 'the dialer logs the refusal once')
    await o.rpc.close()
  }
  await s.rpc.close()
})

test('a server not in any cluster yet ("" as its identity) is let in by a cluster, and the identity is read at each handshake', async () => {
  let identity = ''
  const s = await start('s', { cluster: () => identity })
  s.rpc.handle('Test.Echo', echo)
  const fresh = await start('fresh', { cluster: '' })
  assert.deepEqual(await fresh.rpc.call(s.address, 'Test.Echo', 1), { ok: true, value: 1 })
  // s is named a cluster: a fresh server still gets in, a server of another cluster no longer does.
  identity = 'test-cluster'
  const other = await start('other', { cluster: 'another' })
  const r = await other.rpc.call(s.address, 'Test.Echo', 2)
  assert.equal(!r.ok && r.error.code, 'unreachable')
  const fresh2 = await start('fresh2', { cluster: '' })
  assert.deepEqual(await fresh2.rpc.call(s.address, 'Test.Echo', 3), { ok: true, value: 3 })
  await Promise.all([fresh.rpc.close(), fresh2.rpc.close(), other.rpc.close(), s.rpc.close()])
})

test('a peer that stops reading: the outbound buffer is bounded and what does not fit is dropped and counted', async () => {
  const codec = new WireCodec()
  // A peer that completes the handshake and then never reads again.
  let held: Socket | undefined
  const sink: Server = createServer((sock) => {
    held = sock
    sock.once('data', () => {
      sock.write(codec.encode({ kind: 'hello', version: RPC_PROTOCOL_VERSION, datacenter: 'dc1', cluster: 'test-cluster', id: 'sink' }))
      sock.pause()
    })
  })
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
  const port = (sink.address() as { port: number }).port
  const limit = 1024 * 1024
  const a = await start('a', { limits: { maxPeerBufferBytes: limit } })
  const chunk = new Uint8Array(256 * 1024)
  const target = `127.0.0.1:${port}`
  a.rpc.send(target, 'Raft.Message', { data: chunk })
  await until('connected', () => (a.rpc.peerStats()[0]?.state === 'ready' ? true : undefined))
  let sent = 0
  for (let i = 0; i < 400; i++) if (a.rpc.send(target, 'Raft.Message', { data: chunk })) sent++
  const peer = a.rpc.peerStats()[0]!
  assert.ok(peer.dropped > 0, 'drops once the buffer is full')
  assert.equal(a.rpc.stats().dropped, peer.dropped)
  assert.ok(sent + peer.dropped === 400, 'each message is either taken or dropped')
  const call = await a.rpc.call(target, 'Test.Echo', chunk, { timeoutMs: 5_000 })
  assert.equal(!call.ok && call.error.code, 'overloaded', 'a call hears that the buffer is full')
  await a.rpc.close()
  held?.destroy()
  await new Promise<void>((r) => sink.close(() => r()))
})

test('a peer that accepts but never answers the handshake: a bounded queue meanwhile, then a dial failure that fails calls and drops the queue', async () => {
  const held: Socket[] = []
  const mute: Server = createServer((sock) => void held.push(sock))
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r))
  const target = `127.0.0.1:${(mute.address() as { port: number }).port}`
  const a = await start('a', { limits: { maxPeerQueueFrames: 10, handshakeTimeoutMs: 300 } })
  const call = a.rpc.call(target, 'Test.Echo', 0, { timeoutMs: 60_000 })
  let taken = 0
  for (let i = 0; i < 20; i++) if (a.rpc.send(target, 'Raft.Message', i)) taken++
  assert.equal(taken, 9, 'the queue holds 10 frames (the call is one of them)')
  assert.equal(a.rpc.peerStats()[0]!.state, 'connecting')
  const r = await call
  assert.equal(!r.ok && r.error.code, 'unreachable')
  assert.match(r.ok ? '' : r.error.message, /no handshake within 300 ms/)
  assert.equal(a.rpc.stats().dropped, 11 + 10, 'what did not fit, then what was queued')
  assert.equal(a.rpc.stats().refused_timeout, 1)
  assert.equal(a.rpc.peerStats()[0]!.state, 'backoff')
  await a.rpc.close()
  for (const s of held) s.destroy()
  await new Promise<void>((r) => mute.close(() => r()))
})

test('retryNow ends a backoff: the next call dials at once instead of failing until the backoff runs out', async () => {
  // A port that was free a moment ago: the first call finds nobody and starts a backoff.
  const probe = await start('probe')
  const port = probe.port
  await probe.rpc.close()
  const caller = await start('caller', { limits: { backoffMinMs: 60_000, backoffMaxMs: 60_000 } })
  const address = `127.0.0.1:${port}`
  const first = await caller.rpc.call(address, 'Test.Echo', 1)
  assert.equal(!first.ok && first.error.code, 'unreachable')
  const target = await start('target', { port })
  target.rpc.handle('Test.Echo', echo)
  const during = await caller.rpc.call(address, 'Test.Echo', 2)
  assert.equal(!during.ok && during.error.code, 'unreachable', 'still backing off')
  caller.rpc.retryNow(address)
  assert.deepEqual(await caller.rpc.call(address, 'Test.Echo', 3), { ok: true, value: 3 })
  await Promise.all([caller.rpc.close(), target.rpc.close()])
})

test('an outbound connection idle for limits.idleCloseMs is closed quietly and made again on next use; one with a call in flight stays', async () => {
  const a = await start('a', { limits: { idleCloseMs: 150 } })
  const b = await start('b')
  b.rpc.handle('Test.Echo', echo)
  let release: () => void = () => {}
  b.rpc.handle('Test.Slow', () => new Promise((r) => (release = () => r('late'))))
  assert.deepEqual(await a.rpc.call(b.address, 'Test.Echo', 1), { ok: true, value: 1 })
  await until('the idle connection closed', () => (a.rpc.stats().idle_closed === 1 ? true : undefined))
  assert.equal(a.rpc.peerStats()[0]!.state, 'idle')
  assert.ok(!a.logs.some((l) => /was lost/.test(l)), 'an idle close is not a lost connection')
  // A call in flight for longer than the idle period keeps its connection.
  const slow = a.rpc.call(b.address, 'Test.Slow', null, { timeoutMs: 10_000 })
  await until('the slow call arrived', () => (b.rpc.stats().requests_in === 2 ? true : undefined))
  await new Promise((r) => setTimeout(r, 400))
  assert.equal(a.rpc.stats().idle_closed, 1)
  release()
  assert.deepEqual(await slow, { ok: true, value: 'late' })
  assert.equal(a.rpc.stats().connections_dialed, 2)
  await Promise.all([a.rpc.close(), b.rpc.close()])
})
