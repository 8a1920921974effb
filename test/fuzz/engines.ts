/**
 * Fuzz targets over the two engines with their own grammar: DNS queries into the DNS handler (over
 * a small catalog) and Go templates into the template engine. The socket-level DNS cases and the
 * differential run against Go stay in test/dns/fuzz.test.ts and test/template/.
 */
import dnsPacket, { type RecordType } from 'dns-packet'
import { DnsHandler } from '../../src/dns/server.js'
import { Template, TemplateError, float64 } from '../../src/template/index.js'
import { World } from '../dns/world.js'
import { body, mutate } from '../template/grammar.js'
import { loadTopics, TEST_FUNCS } from '../template/harness.js'
import { Finding, type Target } from './target.js'

const NAMES = ['web.service.consul', 'v1.web.service.dc1.consul', '_web._tcp.service.consul', 'web-1.node.consul', '0a010101.addr.dc1.consul',
  '1.1.0.10.in-addr.arpa', 'consul', 'nope.service.consul', 'example.com', 'web.service.dc2.dc.consul', 'fzq.query.consul', 'web.connect.consul']
const TYPES = ['A', 'AAAA', 'SRV', 'TXT', 'PTR', 'SOA', 'NS', 'ANY', 'CNAME', 'MX'] as RecordType[]

export function dnsTarget(): Target {
  let handler: DnsHandler | undefined
  return {
    name: 'dns-packets',
    what: 'DNS queries (mutated, lying counts, pointer loops, noise) into the DNS handler: an answer decodes and echoes the ID, or the packet is dropped',
    corpus: () => NAMES.flatMap((name, i) => TYPES.map((type, j) => dnsPacket.encode({
      type: 'query', id: i * 16 + j, flags: j % 2 ? dnsPacket.RECURSION_DESIRED : 0, questions: [{ name, type }],
      additionals: j % 3 === 0 ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    }))),
    async open() {
      const w = new World({}, 20261207)
      w.node('web-1', '10.0.1.1', { rack: 'r1' })
      w.service('web-1', '10.0.1.1', { name: 'web', port: 8080, tags: ['v1'], status: 'passing' })
      handler = new DnsHandler({ router: w.router, config: () => w.config })
    },
    async run(input, m) {
      let out: Buffer | undefined
      try {
        out = await handler!.answer(Buffer.from(input), m.random() < 0.5 ? 'udp' : 'tcp')
      } catch (err) {
        throw new Finding(`the DNS handler threw: ${(err as Error).message}`)
      }
      if (!out) return
      if (input.length < 2 || out.readUInt16BE(0) !== Buffer.from(input).readUInt16BE(0)) throw new Finding('an answer that does not echo the query ID')
      let decoded
      try {
        decoded = dnsPacket.decode(out)
      } catch (err) {
        throw new Finding(`an answer that does not decode: ${(err as Error).message}`)
      }
      if (decoded.type !== 'response') throw new Finding('an answer without the response bit')
    },
  }
}

const DATA = [null, { a: 1, b: 'two', l: [1, 2, 3], m: { x: 'y' }, f: () => 'called' }, { a: float64(2), l: [], m: {} }, [1, 'a', null, { a: 1 }], 'str', 42]
const utf8 = new TextDecoder()

export function templateTarget(): Target {
  return {
    name: 'templates',
    what: 'Go text/template sources (the conformance corpus mutated, and grammar-built) parsed and executed: output or a TemplateError, nothing else',
    corpus: () => loadTopics().flatMap((t) => t.cases.map((c) => Buffer.from(c.tmpl))),
    run(input, m) {
      // Byte mutations mostly break the syntax; a third are mutated as text or built from the grammar, to reach execution.
      const pick = m.random()
      const text = pick < 0.15 ? body(m.random, 0) : pick < 0.33 ? mutate(m.random, utf8.decode(input)) : utf8.decode(input)
      try {
        const t = new Template('fuzz').funcs(TEST_FUNCS).option(`missingkey=${m.pick(['default', 'zero', 'error'])}`)
        t.parse(text)
        t.new('t').parse('[{{.}}]')
        if (typeof t.execute(m.pick(DATA)) !== 'string') throw new Finding('execute gave something that is not a string')
      } catch (err) {
        if (err instanceof Finding) throw err
        if (!(err instanceof TemplateError)) throw new Finding(`untyped ${(err as Error)?.constructor?.name}: ${(err as Error)?.message} for ${JSON.stringify(text.slice(0, 300))}`)
      }
    },
  }
}
