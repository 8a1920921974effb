import { test } from 'node:test'
import assert from 'node:assert/strict'
import dnsPacket from 'dns-packet'
import { World, datas } from './world.js'
import { arpaToIp, hexToIp, ipToHex, serviceTtl } from '../../src/dns/router.js'

function webWorld(doc = {}, seed = 1): World {
  const w = new World(doc, seed)
  w.node('web-1', '10.0.1.1', { rack: 'r1', 'rfc1035-raw': 'v=spf1 -all' })
  w.node('web-2', '10.0.1.2')
  w.node('web-3', '10.0.1.3')
  w.service('web-1', '10.0.1.1', { name: 'web', port: 8080, tags: ['v1', 'Primary'], weights: { Passing: 10, Warning: 2 }, status: 'passing' })
  w.service('web-2', '10.0.1.2', { name: 'web', port: 8081, tags: ['v2'], weights: { Passing: 10, Warning: 2 }, status: 'warning' })
  w.service('web-3', '10.0.1.3', { name: 'web', port: 8082, tags: ['v1'], status: 'critical' })
  return w
}

test('node lookup: A from the node address, meta TXT in Additional, TXT on its own, case-insensitive', () => {
  const w = webWorld()
  const a = w.ask('WEB-1.Node.CONSUL', 'A')
  assert.equal(a.rcode, 'NOERROR')
  assert.ok(a.flag_aa)
  assert.equal(a.questions![0]!.name, 'web-1.node.consul', 'the question is echoed in canonical form')
  assert.deepEqual(datas(a.answers, 'A'), ['10.0.1.1'])
  assert.equal(a.answers![0]!.name, 'web-1.node.consul')
  assert.deepEqual(datas(a.additionals, 'TXT'), ['rack=r1', 'v=spf1 -all'])
  const txt = w.ask('web-1.node.dc1.consul', 'TXT')
  assert.deepEqual(datas(txt.answers, 'TXT'), ['rack=r1', 'v=spf1 -all'])
  assert.deepEqual(datas(w.ask('web-1.node.dc1.dc.consul', 'A').answers, 'A'), ['10.0.1.1'])
})

test('negative answers: NXDOMAIN for unknown names, NODATA for a missing type, both with the SOA', () => {
  const w = webWorld()
  for (const name of ['nope.node.consul', 'nope.service.consul', 'a.b.c.service.consul', 'what.consul', 'x.query.consul']) {
    const r = w.ask(name, 'A')
    assert.equal(r.rcode, 'NXDOMAIN', name)
    assert.equal(r.answers!.length, 0)
    assert.deepEqual(datas(r.authorities, 'SOA'), ['ns.consul hostmaster.consul'], name)
  }
  const aaaa = w.ask('web-1.node.consul', 'AAAA')
  assert.equal(aaaa.rcode, 'NOERROR')
  assert.equal(aaaa.answers!.length, 0)
  assert.equal(aaaa.authorities![0]!.type, 'SOA')
  const soa = aaaa.authorities![0]! as { ttl: number; data: { serial: number; refresh: number; retry: number; expire: number; minimum: number } }
  assert.deepEqual([soa.data.serial, soa.data.refresh, soa.data.retry, soa.data.expire, soa.data.minimum, soa.ttl], [1_700_000_000, 3600, 600, 86400, 0, 0])
  const unknownType = w.ask('web.service.consul', 'UNKNOWN_4711')
  assert.equal(unknownType.rcode, 'NOERROR', 'an unknown type for a known name is NODATA')
})

test('an unknown datacenter is NXDOMAIN, as Consul answers it', () => {
  const w = webWorld()
  for (const name of ['web.service.dc2.consul', 'web-1.node.dc2.consul', '_web._tcp.service.dc2.consul', 'web.service.dc2.dc.consul']) assert.equal(w.ask(name, 'A').rcode, 'NXDOMAIN', name)
  assert.equal(w.ask('web.service.dc1.consul', 'A').rcode, 'NOERROR')
})

test('service A: healthy instances only; warning ones too unless only_passing; maintenance counts as critical', () => {
  const w = webWorld()
  assert.deepEqual(datas(w.ask('web.service.consul', 'A').answers, 'A'), ['10.0.1.1', '10.0.1.2'])
  const strict = webWorld({ dns_config: { only_passing: true } })
  assert.deepEqual(datas(strict.ask('web.service.consul', 'A').answers, 'A'), ['10.0.1.1'])
  w.node('web-4', '10.0.1.4')
  w.service('web-4', '10.0.1.4', { name: 'web', status: 'passing', maintenance: true })
  w.node('web-5', '10.0.1.5')
  w.service('web-5', '10.0.1.5', { name: 'web', status: 'passing', nodeStatus: 'critical' })
  assert.deepEqual(datas(w.ask('web.service.consul', 'A').answers, 'A'), ['10.0.1.1', '10.0.1.2'], 'maintenance and a critical node check exclude')
  w.setCheck('web-1', 'service:web', 'critical', 'web')
  w.setCheck('web-2', 'service:web', 'critical', 'web')
  assert.equal(w.ask('web.service.consul', 'A').rcode, 'NXDOMAIN', 'no healthy instance: unknown, as Consul answers')
})

test('service SRV: priority 1, weight from Weights by health, node target with A and meta TXT in Additional', () => {
  const w = webWorld()
  const r = w.ask('web.service.consul', 'SRV')
  assert.deepEqual(datas(r.answers, 'SRV'), ['1 10 8080 web-1.node.dc1.consul', '1 2 8081 web-2.node.dc1.consul'])
  assert.deepEqual(datas(r.additionals, 'A'), ['10.0.1.1', '10.0.1.2'])
  assert.ok(r.additionals!.some((a) => a.type === 'TXT' && a.name === 'web-1.node.dc1.consul'))
  const plainA = w.ask('web.service.consul', 'A')
  assert.ok(!plainA.answers!.some((a) => a.type === 'SRV'), 'SRV only when asked for')
})

test('tags and RFC 2782 names', () => {
  const w = webWorld()
  assert.deepEqual(datas(w.ask('v1.web.service.consul', 'A').answers, 'A'), ['10.0.1.1'])
  assert.deepEqual(datas(w.ask('primary.web.service.consul', 'A').answers, 'A'), ['10.0.1.1'], 'tags match case-insensitively')
  assert.equal(w.ask('v9.web.service.consul', 'A').rcode, 'NXDOMAIN')
  assert.deepEqual(datas(w.ask('_web._tcp.service.consul', 'SRV').answers, 'SRV').length, 2, '_tcp: no tag filter')
  assert.deepEqual(datas(w.ask('_web._v2.service.dc1.consul', 'SRV').answers, 'SRV'), ['1 2 8081 web-2.node.dc1.consul'])
  assert.deepEqual(datas(w.ask('_web._v1.consul', 'SRV').answers, 'SRV'), ['1 10 8080 web-1.node.dc1.consul'], 'the .service label is optional')
  assert.deepEqual(datas(w.ask('_web._tcp.dc1.consul', 'SRV').answers, 'SRV').length, 2)
})

test('service addresses: own IP gives an addr target, a hostname gives CNAME; duplicate addresses once', () => {
  const w = new World()
  w.node('n1', '10.0.0.10')
  w.node('n2', '10.0.0.11')
  w.service('n1', '10.0.0.10', { name: 'db', address: '192.168.5.5', port: 5432 })
  w.service('n2', '10.0.0.11', { name: 'ext', address: 'db.example.com', port: 5432 })
  w.service('n2', '10.0.0.11', { id: 'db2', name: 'db', address: '192.168.5.5', port: 5433 })
  const srv = w.ask('db.service.consul', 'SRV')
  assert.deepEqual(datas(srv.answers, 'SRV'), ['1 1 5432 c0a80505.addr.dc1.consul', '1 1 5433 c0a80505.addr.dc1.consul'])
  assert.deepEqual(datas(srv.additionals, 'A'), ['192.168.5.5'], 'the same glue once')
  assert.deepEqual(datas(w.ask('db.service.consul', 'A').answers, 'A'), ['192.168.5.5'])
  const cname = w.ask('ext.service.consul', 'A')
  assert.deepEqual(datas(cname.answers, 'CNAME'), ['db.example.com'])
  assert.deepEqual(datas(w.ask('ext.service.consul', 'SRV').answers, 'SRV'), ['1 1 5432 db.example.com'])
})

test('addr names and reverse lookups', () => {
  const w = webWorld()
  assert.deepEqual(datas(w.ask('0a010101.addr.dc1.consul', 'A').answers, 'A'), ['10.1.1.1'])
  assert.equal(w.ask('0a010101.addr.dc1.consul', 'AAAA').answers!.length, 0)
  assert.deepEqual(datas(w.ask('20010db8000000000000000000000001.addr.dc1.consul', 'AAAA').answers, 'AAAA'), ['2001:db8::1'])
  assert.equal(w.ask('zz.addr.dc1.consul', 'A').rcode, 'NXDOMAIN')
  const ptr = w.ask('1.1.0.10.in-addr.arpa', 'PTR')
  assert.deepEqual(datas(ptr.answers, 'PTR'), ['web-1.node.dc1.consul'])
  assert.equal(w.ask('9.9.9.9.in-addr.arpa', 'PTR').rcode, 'NXDOMAIN')
  assert.equal(hexToIp('7f000001'), '127.0.0.1')
  assert.equal(ipToHex('127.0.0.1'), '7f000001')
  assert.equal(arpaToIp('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'), '2001:0db8:0000:0000:0000:0000:0000:0001')
})

test('SOA and NS for the domain; the apex has no A', () => {
  const w = webWorld()
  const soa = w.ask('consul', 'SOA')
  assert.deepEqual(datas(soa.answers, 'SOA'), ['ns.consul hostmaster.consul'])
  assert.deepEqual(datas(soa.authorities, 'NS'), ['server-1.node.dc1.consul'])
  const ns = w.ask('consul', 'NS')
  assert.deepEqual(datas(ns.answers, 'NS'), ['server-1.node.dc1.consul'])
  assert.deepEqual(datas(ns.additionals, 'A'), ['10.0.0.1'])
  const apex = w.ask('consul', 'A')
  assert.equal(apex.rcode, 'NOERROR')
  assert.equal(apex.answers!.length, 0)
})

test('TTLs: node_ttl, service_ttl exact before the longest wildcard', () => {
  const w = webWorld({ dns_config: { node_ttl: '30s', service_ttl: { '*': '5s', 'we*': '7s', web: '9s' }, soa: { min_ttl: 4 } } })
  w.node('db-1', '10.0.2.1')
  w.service('db-1', '10.0.2.1', { name: 'webdb' })
  w.service('db-1', '10.0.2.1', { name: 'cache' })
  const ttl = (name: string, type: string): number => (w.ask(name, type).answers![0] as { ttl: number }).ttl
  assert.equal(ttl('web-1.node.consul', 'A'), 30)
  assert.equal(ttl('web.service.consul', 'A'), 9)
  assert.equal(ttl('webdb.service.consul', 'SRV'), 7)
  assert.equal(ttl('cache.service.consul', 'A'), 5)
  assert.equal((w.ask('nope.node.consul', 'A').authorities![0] as { ttl: number }).ttl, 4, 'the SOA TTL is min_ttl')
  assert.equal(serviceTtl(w.config, 'other'), 5000)
})

function manyWorld(n: number, doc = {}): World {
  const w = new World(doc)
  for (let i = 0; i < n; i++) {
    const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`
    w.node(`node-${String(i).padStart(3, '0')}`, ip)
    w.service(`node-${String(i).padStart(3, '0')}`, ip, { name: 'big', port: 9000 + i })
  }
  return w
}

test('shuffled per query; a_record_limit caps address answers', () => {
  const w = manyWorld(10, { dns_config: {} })
  const orders = new Set<string>()
  for (let i = 0; i < 5; i++) orders.add(w.ask('big.service.consul', 'A', { edns: 4096 }).answers!.map((a) => String((a as { data: string }).data)).join())
  assert.ok(orders.size > 1, 'orders differ between queries')
  const limited = manyWorld(10, { dns_config: { a_record_limit: 3 } })
  assert.equal(limited.ask('big.service.consul', 'A').answers!.length, 3)
})

test('size: 512 bytes without EDNS, the EDNS size with it, TC set when answers were left out; TCP gets all', () => {
  const w = manyWorld(100, { dns_config: { udp_answer_limit: 0 } })
  const udp = w.ask('big.service.consul', 'A', { transport: 'udp' })
  assert.ok(udp.flag_tc)
  assert.ok((udp as unknown as { size: number }).size <= 512)
  assert.ok(udp.answers!.length > 5 && udp.answers!.length < 100)
  const edns = w.ask('big.service.consul', 'SRV', { transport: 'udp', edns: 1232 })
  assert.ok(edns.flag_tc)
  assert.ok((edns as unknown as { size: number }).size <= 1232)
  assert.equal(edns.additionals!.at(-1)!.type, 'OPT', 'OPT stays last')
  const tcp = w.ask('big.service.consul', 'SRV', { transport: 'tcp' })
  assert.ok(!tcp.flag_tc)
  assert.equal(tcp.answers!.length, 100)
  const small = manyWorld(3)
  assert.ok(!small.ask('big.service.consul', 'A', { transport: 'udp' }).flag_tc)
})

test('udp_answer_limit caps UDP answers to clients without EDNS (Consul default 3), without TC', () => {
  const w = manyWorld(10)
  const r = w.ask('big.service.consul', 'A', { transport: 'udp' })
  assert.equal(r.answers!.length, 3)
  assert.ok(!r.flag_tc)
  assert.equal(w.ask('big.service.consul', 'A', { transport: 'udp', edns: 4096 }).answers!.length, 10)
  assert.equal(w.ask('big.service.consul', 'A', { transport: 'udp', edns: 512 }).answers!.length, 3, 'EDNS at 512 bytes is no bigger')
  assert.equal(w.ask('big.service.consul', 'A', { transport: 'tcp' }).answers!.length, 10)
})

test('alt_domain: answers speak the domain the query used', () => {
  const w = webWorld({ alt_domain: 'test-domain' })
  const r = w.ask('web.service.test-domain', 'SRV')
  assert.deepEqual(datas(r.answers, 'SRV'), ['1 10 8080 web-1.node.dc1.test-domain', '1 2 8081 web-2.node.dc1.test-domain'])
  assert.deepEqual(datas(w.ask('nope.service.test-domain', 'A').authorities, 'SOA'), ['ns.test-domain hostmaster.test-domain'])
  assert.deepEqual(datas(w.ask('web-1.node.consul', 'A').answers, 'A'), ['10.0.1.1'])
})

test('cache: repeated questions are served from it; any catalog change invalidates it at once', () => {
  const w = webWorld()
  w.ask('web.service.consul', 'A')
  const misses = w.cache.misses
  for (let i = 0; i < 10; i++) w.ask('WEB.service.consul', 'A')
  assert.equal(w.cache.misses, misses, 'no new lookups')
  assert.ok(w.router.fastPathHits >= 10, 'answered from the wire fast path')
  w.setCheck('web-1', 'service:web', 'critical', 'web')
  assert.equal(w.cache.size, 0)
  assert.deepEqual(datas(w.ask('web.service.consul', 'A').answers, 'A'), ['10.0.1.2'])
})

test('bad questions: NOTIMP for other opcodes, classes and zone transfers; FORMERR without a question; REFUSED outside the domain', () => {
  const w = webWorld()
  const rcode = (flags: number) => dnsPacket.decode(dnsPacket.encode(w.router.handleRequest({ id: 1, flags, questions: [{ name: 'web.service.consul', type: 'A' }] }, { transport: 'udp' }))) as { rcode?: string }
  assert.equal(rcode(2 << 11).rcode, 'NOTIMP', 'STATUS opcode')
  assert.equal(w.ask('web.service.consul', 'A', { klass: 'CH' }).rcode, 'NOTIMP')
  assert.equal(w.ask('consul', 'AXFR').rcode, 'NOTIMP')
  const none = dnsPacket.decode(dnsPacket.encode(w.router.handleRequest({ id: 7, questions: [] }, { transport: 'udp' }))) as { rcode?: string; id?: number }
  assert.equal(none.rcode, 'FORMERR')
  assert.equal(none.id, 7)
  const out = w.ask('example.com', 'A')
  assert.equal(out.rcode, 'REFUSED')
  assert.ok(!out.flag_ra)
  assert.equal(w.ask('web.service.consul', 'ANY', { klass: 'ANY' }).rcode, 'NOERROR')
})

test('prepared queries: by ID or name, tags with ! negation, OnlyPassing, IgnoreCheckIDs, node meta, DNS.TTL', () => {
  const w = webWorld({ dns_config: { service_ttl: { '*': '3s' } } })
  w.setQueries([
    { ID: '8f246b77-f3e1-ff88-5b48-8ec93abf3e05', Name: 'web-v1', Service: { Service: 'web', Tags: ['v1'] }, DNS: { TTL: '10s' } },
    { ID: 'b1', Name: 'web-not-v1', Service: { Service: 'WEB', Tags: ['!v1'] } },
    { ID: 'b2', Name: 'web-passing', Service: { Service: 'web', OnlyPassing: true } },
    { ID: 'b3', Name: 'web-ignoring', Service: { Service: 'web', IgnoreCheckIDs: ['service:web'] } },
    { ID: 'b4', Name: 'web-rack', Service: { Service: 'web', NodeMeta: { rack: 'r1' } } },
  ])
  const a = w.ask('web-v1.query.consul', 'A')
  assert.deepEqual(datas(a.answers, 'A'), ['10.0.1.1'])
  assert.equal((a.answers![0] as { ttl: number }).ttl, 10, 'DNS.TTL wins over service_ttl')
  assert.deepEqual(datas(w.ask('8f246b77-f3e1-ff88-5b48-8ec93abf3e05.query.dc1.consul', 'SRV').answers, 'SRV'), ['1 10 8080 web-1.node.dc1.consul'])
  assert.deepEqual(datas(w.ask('web-not-v1.query.consul', 'A').answers, 'A'), ['10.0.1.2'])
  assert.deepEqual(datas(w.ask('web-passing.query.consul', 'A').answers, 'A'), ['10.0.1.1'])
  assert.deepEqual(datas(w.ask('web-ignoring.query.consul', 'A').answers, 'A'), ['10.0.1.1', '10.0.1.2', '10.0.1.3'], 'the critical check is ignored')
  assert.deepEqual(datas(w.ask('web-rack.query.consul', 'A').answers, 'A'), ['10.0.1.1'])
  assert.equal((w.ask('web-not-v1.query.consul', 'A').answers![0] as { ttl: number }).ttl, 3, 'service_ttl without DNS.TTL')
  assert.equal(w.ask('nope.query.consul', 'A').rcode, 'NXDOMAIN')
  // A change to the queries shows at once, without a catalog write.
  w.setQueries([{ ID: 'c1', Name: 'web-v1', Service: { Service: 'web', Tags: ['v2'] } }])
  assert.deepEqual(datas(w.ask('web-v1.query.consul', 'A').answers, 'A'), ['10.0.1.2'])
})

test('prepared query templates: longest name prefix, ${name.suffix} and ${match(N)}, RemoveEmptyTags', () => {
  const w = webWorld()
  w.node('db-1', '10.0.3.1')
  w.service('db-1', '10.0.3.1', { name: 'db', tags: ['primary'] })
  w.setQueries([
    { ID: 't0', Name: '', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.full}' } },
    { ID: 't1', Name: 'geo-', Template: { Type: 'name_prefix_match', Regexp: '^geo-([a-z]+)-?([a-z0-9]*)$', RemoveEmptyTags: true }, Service: { Service: '${match(1)}', Tags: ['${match(2)}'] } },
  ])
  assert.deepEqual(datas(w.ask('web.query.consul', 'A').answers, 'A'), ['10.0.1.1', '10.0.1.2'], 'the catch-all template')
  assert.deepEqual(datas(w.ask('geo-db.query.consul', 'A').answers, 'A'), ['10.0.3.1'], 'an empty tag is removed')
  assert.deepEqual(datas(w.ask('geo-web-v2.query.consul', 'A').answers, 'A'), ['10.0.1.2'])
  assert.equal(w.ask('geo-db-replica.query.consul', 'A').rcode, 'NXDOMAIN')
})

test('IPv6: AAAA for a node and a service, ip6.arpa PTR, and an addr target for an IPv6 service address', () => {
  const w = new World()
  w.node('v6', '2001:db8::10')
  w.service('v6', '2001:db8::10', { name: 'six', port: 443 })
  w.service('v6', '2001:db8::10', { id: 'six-own', name: 'sixown', address: '2001:db8::beef', port: 444 })
  assert.deepEqual(datas(w.ask('v6.node.consul', 'AAAA').answers, 'AAAA'), ['2001:db8::10'])
  assert.equal(w.ask('v6.node.consul', 'A').answers!.length, 0, 'NODATA for A')
  assert.deepEqual(datas(w.ask('six.service.consul', 'AAAA').answers, 'AAAA'), ['2001:db8::10'])
  assert.deepEqual(datas(w.ask('sixown.service.consul', 'SRV').answers, 'SRV'), ['1 1 444 20010db800000000000000000000beef.addr.dc1.consul'])
  assert.deepEqual(datas(w.ask('sixown.service.consul', 'SRV').additionals, 'AAAA'), ['2001:db8::beef'])
  const nibbles = '20010db8000000000000000000000010'.split('').reverse().join('.')
  assert.deepEqual(datas(w.ask(`${nibbles}.ip6.arpa`, 'PTR').answers, 'PTR'), ['v6.node.dc1.consul'])
})
