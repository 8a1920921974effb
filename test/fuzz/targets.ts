/**
 * What the fuzzers feed and what they check. Each target takes an input and throws a Finding when
 * the code under test breaks its contract: an exception it never documents, or an answer that does
 * not hold (a decoded message that does not encode back to itself). Refusals the contract allows
 * (ConfigError, ChecklistError, a decoder's "not one" value) are the expected outcome of bad input.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FrameReader, WireCodec, encodePreamble, type WireMessage } from '../../src/rpc/frame.js'
import { decodePacket, decodeStreamMessage, encodeCompound, encodeMessage, type Message } from '../../src/gossip/core/messages.js'
import { buildRuntime, parseConfigText } from '../../src/agent/config.js'
import { ConfigError } from '../../src/lib/errors.js'
import { parseChecklist } from '../../src/distributive/checklist.js'
import { ChecklistError } from '../../src/distributive/types.js'
import { concat } from './mutate.js'
import { dnsTarget, templateTarget } from './engines.js'
import { httpTarget } from './http.js'
import { raftTarget } from './raft.js'
import { Finding, only, type Target } from './target.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const utf8 = new TextDecoder()

const rpcFrames: Target = {
  name: 'rpc-frames',
  what: 'server RPC byte streams: the frame reader over random chunkings, then the codec; a decoded message must encode back to itself',
  corpus() {
    const codec = new WireCodec()
    const messages: WireMessage[] = [
      { kind: 'hello', version: 1, datacenter: 'dc1', cluster: 'c0ffee', id: 'server-1' },
      { kind: 'request', seq: 7, method: 'KVS.Apply', timeoutMs: 5000, body: { op: { Verb: 'set', Key: 'web/a', Value: new Uint8Array([1, 2, 3]) }, token: 't' } },
      { kind: 'response', seq: 7, error: null, body: { index: 12, value: true } },
      { kind: 'response', seq: 8, error: { code: 'not_leader', message: '10.0.0.1:8300' }, body: null },
      { kind: 'oneway', method: 'Raft.Message', body: { type: 'append', term: 3, entries: [{ index: 4, term: 3, data: new Uint8Array(40) }] } },
      { kind: 'refuse', error: { code: 'tls', message: 'a plaintext connection' } },
    ]
    const frames = messages.map((m) => codec.encode(m))
    return [concat(encodePreamble(), ...frames), ...frames.map((f) => concat(encodePreamble(), f))]
  },
  run(input, m) {
    const codec = new WireCodec({ maxFrameBytes: 1 << 20 })
    const reader = new FrameReader({ preamble: true, maxFrameBytes: 1 << 20 })
    let at = 0
    while (at < input.length) {
      const n = 1 + m.int(Math.max(1, input.length - at))
      let events
      try {
        events = reader.push(input.subarray(at, at + n))
      } catch (err) {
        throw new Finding(`FrameReader.push threw: ${(err as Error).message}`)
      }
      at += n
      for (const e of events) {
        if (e.type !== 'frame') continue
        let msg: WireMessage | string
        try {
          msg = codec.decode(e.kind, e.body)
        } catch (err) {
          throw new Finding(`WireCodec.decode threw: ${(err as Error).message}`)
        }
        if (typeof msg === 'string') continue
        let again: WireMessage | string
        try {
          const frame = codec.encode(msg)
          again = codec.decode(frame[4]!, frame.subarray(5))
        } catch (err) {
          throw new Finding(`a decoded ${msg.kind} does not encode again: ${(err as Error).message}`)
        }
        if (!isDeepStrictEqual(normal(again), normal(msg))) throw new Finding(`a decoded ${msg.kind} changes through encode and decode`)
      }
    }
  },
}

const gossipPackets: Target = {
  name: 'gossip-packets',
  what: 'gossip UDP packets and stream messages: decoded or refused, never thrown; a decoded packet encodes back to the same messages',
  corpus() {
    const msgs: Message[] = [
      { type: 'ping', body: { seq: 1, node: 'web-1' } },
      { type: 'indirectPing', body: { seq: 2, target: 'web-2', addr: '10.0.0.2', port: 8301, nack: true } },
      { type: 'ack', body: { seq: 1, payload: new Uint8Array([1, 2, 3, 4]) } },
      { type: 'nack', body: { seq: 2 } },
      { type: 'suspect', body: { node: 'web-2', incarnation: 3, from: 'web-1' } },
      { type: 'alive', body: { node: 'web-3', incarnation: 1, addr: '10.0.0.3', port: 8301, meta: { role: 'node', dc: 'dc1' } } },
      { type: 'dead', body: { node: 'web-4', incarnation: 9, from: 'web-4' } },
      { type: 'user', body: text('deploy v2') },
    ]
    const one = msgs.map(encodeMessage)
    return [...one, encodeCompound(one), encodeCompound(one.slice(0, 3))]
  },
  run(input) {
    let d
    try {
      d = decodePacket(input)
      decodeStreamMessage(input)
    } catch (err) {
      throw new Finding(`a gossip decoder threw: ${(err as Error).message}`)
    }
    if (!d.ok || d.messages.length === 0) return
    let again
    try {
      again = decodePacket(d.messages.length === 1 ? encodeMessage(d.messages[0]!) : encodeCompound(d.messages.map(encodeMessage)))
    } catch (err) {
      throw new Finding(`decoded messages do not encode again: ${(err as Error).message}`)
    }
    if (!again.ok || !isDeepStrictEqual(normal(again.messages), normal(d.messages))) throw new Finding('decoded messages change through encode and decode')
  },
}

const JSON_CONFIGS = [
  '{"datacenter":"dc1","data_dir":"/tmp/x","server":true,"bootstrap_expect":3,"ports":{"http":8500,"dns":8600},"retry_join":["10.0.0.1"]}',
  '{"acl":{"enabled":true,"default_policy":"deny","tokens":{"initial_management":"root","agent":"a"}},"limits":{"rpc_rate":10,"rpc_max_burst":20}}',
  '{"service":{"name":"web","port":80,"tags":["v1"],"check":{"http":"http://localhost/health","interval":"10s"}}}',
  '{"tls":{"defaults":{"ca_file":"ca.pem","cert_file":"c.pem","key_file":"k.pem"},"internal_rpc":{"verify_incoming":true,"verify_server_hostname":true}}}',
  '{"dns_config":{"node_ttl":"10s","service_ttl":{"*":"5s"},"only_passing":true},"recursors":["8.8.8.8"],"gossip_lan":{"probe_interval":"1s"}}',
]
const HCL_CONFIGS = [
  'datacenter = "dc1"\nserver = true\nbootstrap_expect = 3\nports {\n  http = 8501\n}\nretry_join = ["10.0.0.1", "10.0.0.2"]\n',
  'acl {\n  enabled = true\n  default_policy = "deny"\n  tokens {\n    agent = "a"\n  }\n}\n',
  'service {\n  name = "web"\n  port = 80\n  check {\n    tcp = "localhost:80"\n    interval = "5s"\n  }\n}\nservice {\n  name = "db"\n}\n',
  '# comment\nlimits {\n  http_max_conns_per_client = 0\n}\nnode_meta {\n  rack = "r1"\n}\nlog_level = "debug"\n',
]

function configTarget(format: 'json' | 'hcl'): Target {
  return {
    name: `config-${format}`,
    what: `agent config files in ${format.toUpperCase()}: loaded or refused with a ConfigError, never thrown otherwise`,
    corpus: () => (format === 'json' ? JSON_CONFIGS : HCL_CONFIGS).map(text),
    run(input) {
      only([ConfigError], () => {
        const doc = parseConfigText(utf8.decode(input), `fuzz.${format}`, format, [])
        buildRuntime(doc, true)
      })
    },
  }
}

/** The upstream sample checklists (../shared/fixtures/distributive), JSON and YAML. */
const FIXTURES = resolve(fileURLToPath(import.meta.url), '../../../../../shared/fixtures/distributive')

function checklistFiles(dir: string): string[] {
  let out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out = out.concat(checklistFiles(p))
    else if (/\.(json|ya?ml)$/.test(name) && statSync(p).size < 64 * 1024) out.push(p)
  }
  return out
}

const checklists: Target = {
  name: 'checklists',
  what: 'Distributive checklists (the upstream samples, JSON and YAML): parsed or refused with a ChecklistError naming where',
  corpus: () => checklistFiles(FIXTURES).slice(0, 40).map((f) => readFileSync(f)),
  run(input, m) {
    const format = m.random() < 0.5 ? 'json' : 'yaml'
    only([ChecklistError], () => void parseChecklist(utf8.decode(input), `fuzz.${format}`, format))
  },
}

export const TARGETS: readonly Target[] = [rpcFrames, gossipPackets, configTarget('json'), configTarget('hcl'), checklists, raftTarget(), dnsTarget(), templateTarget(), httpTarget()]

/** Byte arrays compared by content whatever their class (msgpack gives Uint8Array, Buffer elsewhere). */
function normal(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') }
  if (Array.isArray(v)) return v.map(normal)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]))
  return v
}
