/**
 * Gossip encryption: the keyring's sealing and rotation, and pools on real sockets. Members with
 * the same key gossip; one with another key cannot join (and is told why); what goes over UDP and
 * TCP, captured by a relay in between, holds no member name when encrypted (and does in plain, so
 * the capture can tell); a key rotation keeps every member alive; encrypt_verify_incoming and
 * _outgoing off let plain and encrypted members meet during a rollout.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createConnection, createServer, type Server } from 'node:net'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { LOCAL_CONFIG, type GossipConfig } from '../../src/gossip/core/config.js'
import { Keyring, parseKey } from '../../src/gossip/keyring.js'
import { encodeMessage } from '../../src/gossip/core/messages.js'
import { Pools, statusOf, type Pool, type PoolOptions } from './pools.js'
import { removeDir, tempDir } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const CONFIG: GossipConfig = { ...LOCAL_CONFIG, probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 2, pushPullIntervalMs: 1000, tcpTimeoutMs: 1000 }
const K1 = randomBytes(32)
const K2 = randomBytes(16)

test('the keyring seals with its primary key and opens with any installed one; the primary cannot be removed', () => {
  const ring = new Keyring([K1])
  const sealed = ring.seal(Buffer.from('member pool-a'))
  assert.equal(Buffer.from(sealed).includes('pool-a'), false)
  assert.equal(Buffer.from(ring.open(sealed)!).toString(), 'member pool-a')
  assert.equal(new Keyring([K2]).open(sealed), undefined, 'another key does not open it')
  assert.equal(ring.open(Buffer.from('plain')), undefined)
  const tampered = Buffer.from(sealed)
  tampered[20]! ^= 1
  assert.equal(ring.open(tampered), undefined, 'a changed byte fails the tag')
  ring.install(K2)
  assert.equal(ring.use(K2), true)
  assert.equal(ring.primary, K2.toString('base64'))
  assert.equal(Buffer.from(ring.open(sealed)!).toString(), 'member pool-a', 'the old key still opens')
  assert.match(ring.remove(K2)!, /primary/)
  assert.equal(ring.remove(K1), undefined)
  assert.deepEqual(ring.list(), [K2.toString('base64')])
  assert.throws(() => parseKey('c2hvcnQ='), /16, 24 or 32 bytes/)
  const dir = tempDir('keyring-')
  try {
    ring.save(join(dir, 'local.keyring'))
    assert.deepEqual(Keyring.load(join(dir, 'local.keyring'))!.list(), ring.list())
    assert.equal(Keyring.load(join(dir, 'missing')), undefined)
  } finally {
    removeDir(dir)
  }
})

const pools = new Pools(CONFIG)
after(() => pools.closeAll())
const pool = (name: string, opts: PoolOptions = {}): Promise<Pool> => pools.start(name, opts)

const bothAlive = (a: Pool, b: Pool): Promise<true> => until(`${a.name} and ${b.name} alive at each other`, () => (statusOf(a, b.name) === 'alive' && statusOf(b, a.name) === 'alive' ? true : undefined))

/** A relay in front of a pool's port (UDP and TCP), recording every byte sent to the pool. */
async function relay(targetPort: number): Promise<{ port: number; udp: Buffer[]; tcp: Buffer[]; close: () => Promise<void> }> {
  const captured = { udp: [] as Buffer[], tcp: [] as Buffer[] }
  const sockets = new Set<{ destroy(): void }>()
  const tcp: Server = createServer((from) => {
    const to = createConnection({ host: '127.0.0.1', port: targetPort })
    sockets.add(from).add(to)
    from.on('data', (d: Buffer) => captured.tcp.push(d))
    from.pipe(to).pipe(from)
    from.on('error', () => to.destroy())
    to.on('error', () => from.destroy())
  })
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
  const port = (tcp.address() as { port: number }).port
  const udp: UdpSocket = createSocket('udp4')
  let peer: { address: string; port: number } | undefined
  udp.on('message', (msg, rinfo) => {
    if (rinfo.port === targetPort) {
      if (peer) udp.send(msg, peer.port, peer.address)
      return
    }
    peer = { address: rinfo.address, port: rinfo.port }
    captured.udp.push(msg)
    udp.send(msg, targetPort, '127.0.0.1')
  })
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve))
  return {
    port,
    ...captured,
    close: async () => {
      udp.close()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }
}

/** Two pools, the second behind a relay; what the first sent it. */
async function captureBetween(prefix: string, ring?: () => Keyring): Promise<{ udp: Buffer; tcp: Buffer }> {
  let relayPort = 0
  const b = await pool(`${prefix}-b`, { keyring: ring?.(), advertisePort: () => relayPort, start: false })
  const r = await relay(b.port)
  relayPort = r.port
  b.members.start()
  const a = await pool(`${prefix}-a`, { keyring: ring?.() })
  assert.deepEqual(await a.members.join([`127.0.0.1:${r.port}`], 0), { joined: 1, errors: [] })
  await bothAlive(a, b)
  await until('probes and a push-pull through the relay', () => (r.udp.length >= 5 && r.tcp.length >= 2 ? true : undefined))
  await r.close()
  return { udp: Buffer.concat(r.udp), tcp: Buffer.concat(r.tcp) }
}

test('captured between two members: member names in plain gossip, none in encrypted gossip (UDP and TCP)', async () => {
  const plain = await captureBetween('plain')
  // Pings name their target; push-pulls carry every member.
  assert.ok(plain.udp.includes('plain-b') && plain.tcp.includes('plain-a'), 'the capture sees names in plain gossip')
  const ring = new Keyring([K1])
  const sealed = await captureBetween('sealed', () => new Keyring(ring.list().map((k) => parseKey(k))))
  assert.ok(sealed.udp.length > 0 && sealed.tcp.length > 0)
  for (const name of ['sealed-a', 'sealed-b', 'role']) {
    assert.equal(sealed.udp.includes(name), false, `${name} in UDP`)
    assert.equal(sealed.tcp.includes(name), false, `${name} in TCP`)
  }
})

test('a member with another key cannot join, and is told no installed key decrypts its message', async () => {
  const a = await pool('key1-a', { keyring: new Keyring([K1]) })
  const other = await pool('key2-x', { keyring: new Keyring([K2]) })
  const r = await other.members.join([`127.0.0.1:${a.port}`], 0)
  assert.equal(r.joined, 0)
  assert.match(r.errors[0]!, /No installed keys could decrypt the message/)
  const none = await pool('nokey-y')
  const r2 = await none.members.join([`127.0.0.1:${a.port}`], 0)
  assert.equal(r2.joined, 0)
  assert.match(r2.errors[0]!, /No installed keys could decrypt the message/)
  assert.equal(statusOf(a, 'key2-x'), undefined)
  assert.equal(a.members.stats().encrypted, 'true')
})

test('a sealed packet sent again (captured and replayed) is dropped and counted, once it was acted on', async () => {
  const a = await pool('replay-a', { keyring: new Keyring([K1]) })
  const ring = new Keyring([K1])
  // A ping for the member: it answers the first copy and drops the second.
  const packet = ring.seal(encodeMessage({ type: 'ping', body: { seq: 7, node: 'replay-a' } }))
  const sock = createSocket('udp4')
  const acks: Buffer[] = []
  sock.on('message', (m) => acks.push(m))
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve))
  try {
    const send = (): Promise<void> => new Promise((resolve, reject) => sock.send(packet, a.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())))
    await send()
    await until('the ack of the first copy', () => (acks.length > 0 ? true : undefined))
    await send()
    await until('the second copy counted as replayed', () => (a.members.stats().replayed === '1' ? true : undefined))
    assert.equal(a.members.stats().bad_key, '0', 'a replay is not a wrong key')
    assert.equal(acks.length, 1, 'only the first copy was answered')
  } finally {
    sock.close()
  }
})

test('a key rotation (install, use, remove) keeps every member alive', async () => {
  const rings = [new Keyring([K1]), new Keyring([K1]), new Keyring([K1])]
  const [a, b, c] = [await pool('rot-a', { keyring: rings[0] }), await pool('rot-b', { keyring: rings[1] }), await pool('rot-c', { keyring: rings[2] })]
  for (const p of [b, c]) await p.members.join([`127.0.0.1:${a.port}`], 0)
  const allAlive = async (): Promise<void> => {
    for (const [x, y] of [[a, b], [a, c], [b, c]] as const) await bothAlive(x, y)
  }
  await allAlive()
  for (const ring of rings) ring.install(K2)
  rings[0]!.use(K2)
  await new Promise((r) => setTimeout(r, 1000))
  await allAlive()
  for (const ring of rings) ring.use(K2)
  for (const ring of rings) assert.equal(ring.remove(K1), undefined)
  const before = [a, b, c].map((p) => Number(p.members.stats().bad_key))
  await new Promise((r) => setTimeout(r, 1000))
  await allAlive()
  assert.deepEqual([a, b, c].map((p) => Number(p.members.stats().bad_key)), before, 'nothing dropped once every member holds the new key')
})

test('with encrypt_verify_incoming and _outgoing off, plain and encrypted members meet (a rolling change to encryption)', async () => {
  const plain = await pool('roll-plain')
  const rolling = await pool('roll-keyed', { keyring: new Keyring([K1]), verifyIncoming: false, verifyOutgoing: false })
  assert.equal((await rolling.members.join([`127.0.0.1:${plain.port}`], 0)).joined, 1)
  await bothAlive(plain, rolling)
})
