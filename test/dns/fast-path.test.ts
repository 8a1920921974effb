import { test } from 'node:test'
import assert from 'node:assert/strict'
import dnsPacket, { type RecordType } from 'dns-packet'
import { World, datas } from './world.js'
import { wireQuestionKey } from '../../src/dns/fast-path.js'
import type { ConfigDoc } from '../../src/agent/config.js'

const OPT = (size: number) => ({ type: 'OPT' as const, name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] })

function query(name: string, type: string, opts: { edns?: number; id?: number; rd?: boolean } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 1,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType }],
    additionals: opts.edns ? [OPT(opts.edns)] : [],
  })
}

/** Two nodes share one: web-0 and web-0b both run on node-0, so their SRV glue is shared. */
function populate(w: World): void {
  for (let i = 0; i < 12; i++) {
    const ip = `10.2.0.${i + 1}`
    w.node(`node-${i}`, ip, { rack: `r${i % 3}` })
    w.service(`node-${i}`, ip, { id: `web-${i}`, name: 'web', port: 8000 + i, tags: i % 2 ? ['odd'] : ['even'], status: i === 5 ? 'critical' : i === 6 ? 'warning' : 'passing' })
  }
  w.service('node-0', '10.2.0.1', { id: 'web-0b', name: 'web', port: 7000, address: '10.2.1.1' })
  w.service('node-1', '10.2.0.2', { id: 'db-1', name: 'db', port: 5432, address: 'db.example.com' })
  // Too big for 512 bytes whole: without EDNS only udp_answer_limit of them go out.
  for (let i = 0; i < 40; i++) w.service(`big-${i}`, `10.3.0.${i + 1}`, { name: 'big', port: 9000 + i })
}

test('the wire fast path answers byte for byte what the full path answers, query after query', () => {
  const docs: ConfigDoc[] = [{}, { dns_config: { a_record_limit: 4 } }, { dns_config: { udp_answer_limit: 2, enable_additional_node_meta_txt: true } }, { dns_config: { only_passing: true } }, { recursors: ['127.0.0.1:1'] }]
  const names = ['big.service.consul', '_big._tcp.service.consul', 'web.service.consul', 'WEB.Service.Consul', 'odd.web.service.consul', '_web._tcp.service.consul', '_web._even.service.dc1.consul', 'node-3.node.consul', 'db.service.consul', 'web.service.dc1.consul', 'nope.service.consul', 'consul', '1.0.2.10.in-addr.arpa']
  const types = ['A', 'AAAA', 'SRV', 'TXT', 'ANY', 'CNAME', 'SOA', 'NS']
  for (const doc of docs) {
    const fast = new World(doc, 7)
    const full = new World(doc, 7, { cache: false })
    populate(fast)
    populate(full)
    let id = 0
    for (const name of names) {
      for (const type of types) {
        for (const edns of [undefined, 512, 1232, 4096]) {
          for (const transport of ['udp', 'tcp'] as const) {
            for (let round = 0; round < 4; round++) {
              const wire = query(name, type, { edns, id: ++id, rd: round !== 3 })
              const a = fast.handler.answerNow(wire, transport)
              const b = full.handler.answerNow(wire, transport)
              assert.ok(a instanceof Buffer && b instanceof Buffer, `${name} ${type}`)
              assert.ok(a.equals(b), `${JSON.stringify(doc)} ${name} ${type} edns=${edns} ${transport} round ${round}`)
            }
          }
        }
      }
    }
    assert.equal(full.router.fastPathHits, 0)
    assert.ok(fast.router.fastPathHits > 500, `fast path used (${fast.router.fastPathHits} hits)`)
  }
})

test('a service too big for 512 bytes still takes the fast path for clients without EDNS (udp_answer_limit)', () => {
  const w = new World({}, 5)
  populate(w)
  for (const type of ['A', 'SRV']) {
    const first = dnsPacket.decode(w.handler.answerNow(query('big.service.consul', type), 'udp') as Buffer)
    const hits = w.router.fastPathHits
    const again = dnsPacket.decode(w.handler.answerNow(query('big.service.consul', type), 'udp') as Buffer)
    assert.equal(w.router.fastPathHits, hits + 1, type)
    assert.equal(first.answers!.length, 3)
    assert.equal(again.answers!.length, 3)
    assert.ok(!again.flag_tc)
  }
})

test('the fast path forgets on every change: catalog writes, config reloads, prepared queries', () => {
  const w = new World({}, 3)
  populate(w)
  const ask = (name: string, type = 'A') => dnsPacket.decode(w.handler.answerNow(query(name, type, { edns: 4096 }), 'udp') as Buffer)
  for (let i = 0; i < 3; i++) ask('web.service.consul')
  const hits = w.router.fastPathHits
  assert.ok(hits >= 2)
  w.setCheck('node-0', 'service:web-0', 'critical', 'web-0')
  assert.ok(!datas(ask('web.service.consul').answers, 'A').includes('10.2.0.1'), 'a failing check leaves the next answer at once')
  assert.ok(datas(ask('web.service.consul').answers, 'A').includes('10.2.1.1'))

  const ttlBefore = (ask('web.service.consul').answers![0] as { ttl: number }).ttl
  w.config = { ...w.config, serviceTtlMs: { web: 30_000 } }
  assert.notEqual(ttlBefore, 30)
  assert.equal((ask('web.service.consul').answers![0] as { ttl: number }).ttl, 30, 'a reload (new config) is seen by the next query')

  w.setQueries([{ ID: 'q1', Name: 'pq', Service: { Service: 'web', OnlyPassing: false, Tags: ['odd'] } } as never])
  const before = datas(ask('pq.query.consul').answers, 'A')
  ask('pq.query.consul')
  w.setQueries([{ ID: 'q1', Name: 'pq', Service: { Service: 'web', OnlyPassing: false, Tags: ['even'] } } as never])
  const after = datas(ask('pq.query.consul').answers, 'A')
  assert.notDeepEqual(before, after, 'a changed prepared query is seen by the next query')
  assert.ok(after.includes('10.2.0.3'))
})

test('wireQuestionKey: one key per question as answered, none for anything unusual', () => {
  const k = (buf: Buffer, t: 'udp' | 'tcp' = 'udp') => wireQuestionKey(buf, t)
  const base = k(query('web.service.consul', 'A', { edns: 4096 }))
  assert.ok(base)
  assert.equal(k(query('WEB.service.CONSUL', 'A', { edns: 4096, id: 99 })), base, 'case and ID do not matter')
  const others = [
    k(query('web.service.consul', 'A')),
    k(query('web.service.consul', 'A', { edns: 1232 })),
    k(query('web.service.consul', 'A', { edns: 4096, rd: false })),
    k(query('web.service.consul', 'A', { edns: 4096 }), 'tcp'),
    k(query('web.service.consul', 'A'), 'tcp'),
    k(query('web.service.consul', 'SRV', { edns: 4096 })),
    k(query('web.servicf.consul', 'A', { edns: 4096 })),
    // Type 65 is 'A' in latin1: it must not fold into type 97.
    k(query('web.service.consul', 'HTTPS', { edns: 4096 })),
  ]
  assert.equal(new Set([base, ...others]).size, others.length + 1, 'every difference the answer depends on gives another key')

  const plain = query('web.service.consul', 'A')
  const trailing = Buffer.concat([plain, Buffer.from([0])])
  const twoQuestions = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.consul', type: 'A' }, { name: 'b.consul', type: 'A' }] })
  const ednsV1 = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.consul', type: 'A' }], additionals: [{ ...OPT(4096), ednsVersion: 1 }] })
  const notify = Buffer.from(plain)
  notify[2] = (notify[2]! & 0x87) | (4 << 3)
  const pointer = Buffer.from(plain)
  pointer[12] = 0xc0
  const nonAscii = Buffer.from(plain)
  nonAscii[13] = 0xc9 // É
  const withAnswer = Buffer.from(plain)
  withAnswer.writeUInt16BE(1, 6)
  for (const [what, buf] of Object.entries({ trailing, twoQuestions, ednsV1, notify, pointer, nonAscii, withAnswer, short: plain.subarray(0, 20), header: plain.subarray(0, 12) })) {
    assert.equal(k(buf), undefined, what)
  }
})
