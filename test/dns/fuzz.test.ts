/**
 * Bad input, at volume: random and mutated packets go to the handler directly (100,000 of them,
 * fast), then a few thousand over real UDP and a few hundred over TCP, and the server must still
 * answer a good query correctly. Every answer it gives must decode and echo the query's ID.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import dnsPacket, { type RecordType } from 'dns-packet'
import { World, rand, datas } from './world.js'
import { DnsHandler, DnsServer } from '../../src/dns/server.js'

const SEED = 20261126
const DIRECT_PACKETS = 100_000
const UDP_PACKETS = 3_000
const TCP_CONNECTIONS = 50

const NAMES = ['web.service.consul', 'v1.web.service.dc1.consul', '_web._tcp.service.consul', 'web-1.node.consul', '0a010101.addr.dc1.consul', '1.1.0.10.in-addr.arpa', 'consul', 'nope.service.consul', 'example.com', 'web.service.dc2.dc.consul']
const TYPES = ['A', 'AAAA', 'SRV', 'TXT', 'PTR', 'SOA', 'NS', 'ANY', 'CNAME', 'MX'] as RecordType[]

function world(): World {
  const w = new World({}, SEED)
  w.node('web-1', '10.0.1.1', { rack: 'r1' })
  w.service('web-1', '10.0.1.1', { name: 'web', port: 8080, tags: ['v1'], status: 'passing' })
  return w
}

function validQuery(r: () => number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: Math.floor(r() * 65536),
    flags: r() < 0.5 ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ name: NAMES[Math.floor(r() * NAMES.length)]!, type: TYPES[Math.floor(r() * TYPES.length)]! }],
    additionals: r() < 0.5 ? [{ type: 'OPT', name: '.', udpPayloadSize: Math.floor(r() * 8192), extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  })
}

/** One hostile packet: pure noise, a mutated valid query, a pointer loop, or lying counts. */
function badPacket(r: () => number): Buffer {
  const pick = r()
  if (pick < 0.2) {
    const b = Buffer.alloc(Math.floor(r() * 600))
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256)
    return b
  }
  const q = validQuery(r)
  if (pick < 0.55) {
    const flips = 1 + Math.floor(r() * 8)
    for (let i = 0; i < flips; i++) q[Math.floor(r() * q.length)] ^= 1 << Math.floor(r() * 8)
    return q
  }
  if (pick < 0.7) return q.subarray(0, Math.floor(r() * q.length)) // truncated
  if (pick < 0.8) {
    // A compression pointer to itself, or to a later place: a loop or a forward jump.
    const loop = Buffer.from(q)
    loop[12] = 0xc0
    loop[13] = r() < 0.5 ? 12 : Math.floor(r() * 255)
    return loop
  }
  if (pick < 0.9) {
    const lying = Buffer.from(q)
    lying.writeUInt16BE(Math.floor(r() * 65536), 4 + 2 * Math.floor(r() * 4)) // QD/AN/NS/AR counts
    return lying
  }
  // Zero questions, a response bit, or another opcode.
  const odd = Buffer.from(q)
  const kind = Math.floor(r() * 3)
  if (kind === 0) odd.writeUInt16BE(0, 4)
  else if (kind === 1) odd[2]! |= 0x80
  else odd[2] = (odd[2]! & 0x87) | (Math.floor(r() * 16) << 3)
  return odd
}

function checkAnswer(query: Buffer, out: Buffer | undefined): void {
  if (!out) return
  assert.equal(out.readUInt16BE(0), query.readUInt16BE(0), 'the answer echoes the ID')
  const decoded = dnsPacket.decode(out)
  assert.equal(decoded.type, 'response')
}

async function goodAnswerStillRight(handler: DnsHandler): Promise<void> {
  const out = await handler.answer(dnsPacket.encode({ type: 'query', id: 99, questions: [{ name: 'web.service.consul', type: 'SRV' }] }), 'udp')
  const decoded = dnsPacket.decode(out!)
  assert.deepEqual(datas(decoded.answers, 'SRV'), ['1 1 8080 web-1.node.dc1.consul'])
}

test(`fuzz: ${DIRECT_PACKETS} random and mutated packets into the handler, then a correct answer`, async () => {
  const w = world()
  const handler = new DnsHandler({ router: w.router, config: () => w.config })
  const r = rand(SEED)
  let answered = 0
  for (let i = 0; i < DIRECT_PACKETS; i++) {
    const q = badPacket(r)
    const out = await handler.answer(q, r() < 0.5 ? 'udp' : 'tcp')
    if (out) answered++
    checkAnswer(q, out)
  }
  assert.ok(answered > DIRECT_PACKETS / 4, `most packets get an answer (${answered})`)
  await goodAnswerStillRight(handler)
  // Specific shapes the issue names, each with its expected answer.
  const rcodeOf = async (b: Buffer): Promise<string | undefined> => {
    const out = await handler.answer(b, 'udp')
    return out ? (dnsPacket.decode(out) as { rcode?: string }).rcode : undefined
  }
  const q = validQuery(rand(1))
  assert.equal(await rcodeOf(q.subarray(0, 11)), undefined, 'shorter than a header: dropped')
  assert.equal(await rcodeOf(q.subarray(0, 14)), 'FORMERR', 'truncated question')
  const loop = Buffer.from(q)
  loop[12] = 0xc0
  loop[13] = 12
  assert.equal(await rcodeOf(loop), 'FORMERR', 'compression loop')
  const none = Buffer.from(q.subarray(0, 12))
  none.writeUInt16BE(0, 4)
  none.writeUInt16BE(0, 10)
  assert.equal(await rcodeOf(none), 'FORMERR', 'zero questions')
  const ch = dnsPacket.encode({ type: 'query', id: 5, questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] })
  assert.equal(await rcodeOf(ch), 'NOTIMP', 'another class')
})

test(`fuzz over sockets: ${UDP_PACKETS} UDP packets and ${TCP_CONNECTIONS} TCP connections of garbage, then correct answers`, async () => {
  const w = world()
  const handler = new DnsHandler({ router: w.router, config: () => w.config })
  const server = await DnsServer.start(handler, { addresses: ['127.0.0.1'], port: 0 })
  const port = server.listeners[0]!.port
  const r = rand(SEED + 1)
  const client = dgram.createSocket('udp4')
  try {
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))
    for (let i = 0; i < UDP_PACKETS; i++) {
      client.send(badPacket(r), port, '127.0.0.1')
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    for (let i = 0; i < TCP_CONNECTIONS; i++) {
      const conn = net.connect(port, '127.0.0.1')
      await new Promise<void>((resolve) => conn.once('connect', () => resolve()))
      const kind = i % 4
      if (kind === 0) conn.write(Buffer.from([0xff, 0xff, 1, 2, 3])) // claims 65535 bytes, sends 3
      else if (kind === 1) conn.write(Buffer.from([0, 3, 1, 2, 3])) // shorter than a header
      else {
        const frames = Array.from({ length: 5 }, () => {
          const p = kind === 2 ? badPacket(r) : validQuery(r)
          const len = Buffer.alloc(2)
          len.writeUInt16BE(p.length)
          return Buffer.concat([len, p])
        })
        conn.write(Buffer.concat(frames))
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
      conn.destroy()
    }
    // Still correct over UDP...
    const udpAnswer = await new Promise<Buffer>((resolve) => {
      const sock = dgram.createSocket('udp4')
      sock.on('message', (m) => {
        if (m.readUInt16BE(0) !== 31337) return
        sock.close()
        resolve(m)
      })
      sock.send(dnsPacket.encode({ type: 'query', id: 31337, questions: [{ name: 'web.service.consul', type: 'SRV' }] }), port, '127.0.0.1')
    })
    assert.deepEqual(datas(dnsPacket.decode(udpAnswer).answers, 'SRV'), ['1 1 8080 web-1.node.dc1.consul'])
    // ...and over TCP, two pipelined queries answered in order.
    const tcpAnswers = await new Promise<Buffer[]>((resolve, reject) => {
      const conn = net.connect(port, '127.0.0.1')
      let buf = Buffer.alloc(0)
      const got: Buffer[] = []
      conn.on('error', reject)
      conn.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          got.push(buf.subarray(2, 2 + buf.readUInt16BE(0)))
          buf = buf.subarray(2 + buf.readUInt16BE(0))
        }
        if (got.length === 2) {
          conn.destroy()
          resolve(got)
        }
      })
      conn.write(Buffer.concat([1, 2].map((id) => dnsPacket.streamEncode({ type: 'query', id, questions: [{ name: 'web-1.node.consul', type: 'A' }] }))))
    })
    assert.deepEqual(tcpAnswers.map((b) => b.readUInt16BE(0)), [1, 2])
    assert.deepEqual(datas(dnsPacket.decode(tcpAnswers[0]!).answers, 'A'), ['10.0.1.1'])
  } finally {
    client.close()
    await server.close()
  }
})
