/**
 * The gossip pool on real sockets: several pools in this process on loopback (UDP and TCP on one
 * port each), with quick timers. Joins through one member, failure of a member whose sockets close
 * without a word, graceful leave, force-leave, garbage on the UDP port, and a restart that rejoins
 * from the snapshot with no join address.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { LOCAL_CONFIG, type GossipConfig } from '../../src/gossip/core/config.js'
import type { Member } from '../../src/gossip/members.js'
import { Pools, statusOf, type Pool } from './pools.js'
import { removeDir, tempDir } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

const CONFIG: GossipConfig = { ...LOCAL_CONFIG, probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 2, pushPullIntervalMs: 2000, tcpTimeoutMs: 1000 }
const dir = tempDir('gossip-members-')
const pools = new Pools(CONFIG)
after(async () => {
  await pools.closeAll()
  removeDir(dir)
})
const pool = (name: string, opts: { snapshot?: boolean; port?: number } = {}): Promise<Pool> =>
  pools.start(name, { port: opts.port, snapshotFile: opts.snapshot ? join(dir, `${name}.snapshot`) : undefined })
const crash = (p: Pool): Promise<void> => pools.crash(p)

const allSee = (at: Pool[], name: string, status: string): Promise<true> =>
  until(`${name} ${status} at ${at.map((p) => p.name).join(', ')}`, () => (at.every((p) => statusOf(p, name) === status) ? true : undefined))

let a: Pool, b: Pool, c: Pool, d: Pool

test('members joined through one member know of each other, with their tags', async () => {
  a = await pool('a')
  b = await pool('b', { snapshot: true })
  c = await pool('c')
  d = await pool('d')
  for (const p of [b, c, d]) {
    const r = await p.members.join([`127.0.0.1:${a.port}`], 0)
    assert.deepEqual(r, { joined: 1, errors: [] })
  }
  for (const p of [a, b, c, d]) for (const q of [a, b, c, d]) await allSee([p], q.name, 'alive')
  assert.deepEqual(d.members.list().find((m) => m.name === 'a')?.tags, { role: 'node', dc: 'dc1' })
  assert.equal(a.members.settled(), true)
})

test('a join to an address where nothing listens fails with the reason', async () => {
  const r = await a.members.join(['127.0.0.1:1'], 0)
  assert.equal(r.joined, 0)
  assert.match(r.errors[0]!, /127\.0\.0\.1:1/)
})

test('garbage on the UDP port is dropped and counted; the pool goes on', async () => {
  const udp = createSocket('udp4')
  const before = Number(a.members.stats().bad_packets)
  for (const junk of [Buffer.alloc(0), Buffer.from([0xff, 1, 2]), Buffer.from([7, 200, 0]), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(1400, 0xaa)]) {
    await new Promise<void>((resolve) => udp.send(junk, a.port, '127.0.0.1', () => resolve()))
  }
  udp.close()
  await until('the junk counted', () => (Number(a.members.stats().bad_packets) >= before + 4 ? true : undefined))
  // A garbage push-pull over TCP is refused and counted too.
  const r = await b.rpc.call(`127.0.0.1:${a.port}`, 'Gossip.PushPull', new Uint8Array([6, 0xc1]))
  assert.equal(r.ok, false)
  assert.ok(Number(a.members.stats().bad_streams) >= 1)
  assert.equal(statusOf(a, 'b'), 'alive')
})

test('a member whose sockets close is failed at every other member', async () => {
  await crash(c)
  await allSee([a, b, d], 'c', 'failed')
})

test('force-leave marks a failed member left everywhere; of an alive one, leaving until it refutes', async () => {
  assert.equal(a.members.forceLeave('c', false), true)
  await allSee([a, b, d], 'c', 'left')
  assert.equal(a.members.forceLeave('d', false), true)
  assert.equal(statusOf(a, 'd'), 'leaving')
  await allSee([a, b], 'd', 'alive')
  assert.equal(a.members.forceLeave('nobody', false), false)
  assert.equal(a.members.forceLeave('c', true), true)
  assert.equal(statusOf(a, 'c'), undefined)
})

test('a graceful leave is left at every other member', async () => {
  const gone: Member[] = []
  const off = a.members.onChange((m) => m.name === 'd' && gone.push(m))
  await d.members.leave()
  await pools.crash(d)
  await allSee([a, b], 'd', 'left')
  off()
  assert.ok(gone.some((m) => m.status === 'left'))
})

test('a member restarted on its snapshot rejoins without a join address', async () => {
  const port = b.port
  await crash(b)
  await allSee([a], 'b', 'failed')
  b = await pool('b', { snapshot: true, port })
  await allSee([a], 'b', 'alive')
  await allSee([b], 'a', 'alive')
})
