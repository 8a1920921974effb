import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import dnsPacket, { type Packet } from 'dns-packet'
import { DnsHandler } from '../../src/dns/server.js'
import { parseRecursor } from '../../src/dns/recursor.js'
import { World, datas } from './world.js'

const TTL = 777

function reply(msg: Buffer): Buffer {
  const q = dnsPacket.decode(msg)
  const packet: Packet = {
    type: 'response',
    id: q.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: q.questions,
    answers: [{ name: q.questions![0]!.name, type: 'A', ttl: TTL, data: '198.51.100.1' }],
  }
  return dnsPacket.encode(packet)
}

/**
 * An upstream answering every A question, on UDP and TCP at one port. The UDP port is picked by the
 * kernel; when its TCP twin is taken (other tests and benchmarks hold many ports), it tries again.
 */
async function upstream(): Promise<{ port: number; close: () => void }> {
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket('udp4')
    udp.on('message', (m, r) => udp.send(reply(m), r.port, r.address))
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
    const port = (udp.address() as { port: number }).port
    const tcp = net.createServer((c) => {
      c.on('data', (d: Buffer) => {
        const out = reply(d.subarray(2, 2 + d.readUInt16BE(0)))
        const len = Buffer.alloc(2)
        len.writeUInt16BE(out.length)
        c.end(Buffer.concat([len, out]))
      })
    })
    const listened = await new Promise<boolean>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' && attempt < 20 ? resolve(false) : reject(err)))
      tcp.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (listened) return { port, close: () => (udp.close(), tcp.close()) }
    udp.close()
  }
}

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

const query = (name: string): Buffer => dnsPacket.encode({ type: 'query', id: 321, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] })

test('recursion: tries recursors in order, keeps the upstream TTL, over UDP and TCP; SERVFAIL when none answers', async () => {
  const up = await upstream()
  const dead = await deadPort()
  try {
    const w = new World({ recursors: [`127.0.0.1:${dead}`, `127.0.0.1:${up.port}`], dns_config: { recursor_timeout: '300ms' } })
    const handler = new DnsHandler({ router: w.router, config: () => w.config })
    for (const transport of ['udp', 'tcp'] as const) {
      const out = dnsPacket.decode((await handler.answer(query('www.example.org'), transport))!)
      assert.equal(out.id, 321)
      assert.deepEqual(datas(out.answers, 'A'), ['198.51.100.1'], transport)
      assert.equal((out.answers![0] as { ttl: number }).ttl, TTL, 'upstream TTL kept')
    }
    // In-domain names never leave the agent.
    const local = dnsPacket.decode((await handler.answer(query('server-1.node.consul'), 'udp'))!)
    assert.deepEqual(datas(local.answers, 'A'), ['10.0.0.1'])
    assert.ok((local as { flag_ra?: boolean }).flag_ra, 'RA set when recursors exist')

    w.config = { ...w.config, recursors: [`127.0.0.1:${dead}`] }
    const failed = dnsPacket.decode((await handler.answer(query('www.example.org'), 'udp'))!) as { rcode?: string; id?: number }
    assert.equal(failed.rcode, 'SERVFAIL')
    assert.equal(failed.id, 321)
    w.config = { ...w.config, recursors: [] }
    assert.equal((dnsPacket.decode((await handler.answer(query('www.example.org'), 'udp'))!) as { rcode?: string }).rcode, 'REFUSED')
  } finally {
    up.close()
  }
})

test('recursor addresses: host, host:port, IPv6 with and without brackets; names are refused', () => {
  assert.deepEqual(parseRecursor('8.8.8.8'), { host: '8.8.8.8', port: 53 })
  assert.deepEqual(parseRecursor('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 })
  assert.deepEqual(parseRecursor('::1'), { host: '::1', port: 53 })
  assert.deepEqual(parseRecursor('[::1]:5353'), { host: '::1', port: 5353 })
  assert.equal(parseRecursor('dns.example.com'), undefined)
  assert.equal(parseRecursor('1.2.3.4:99999'), undefined)
})

test('a config reload (a new config object) drops cached answers: new TTLs show at once', () => {
  const w = new World()
  w.node('n1', '10.9.0.1')
  assert.equal((w.ask('n1.node.consul', 'A').answers![0] as { ttl: number }).ttl, 0)
  w.config = { ...w.config, nodeTtlMs: 60_000 }
  assert.equal((w.ask('n1.node.consul', 'A').answers![0] as { ttl: number }).ttl, 60)
})
