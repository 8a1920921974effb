/**
 * The HTTP API fuzzer: raw requests on real sockets to a live `consul agent -dev`. Half the inputs
 * are byte mutations of valid requests (what real clients send); the other half are built from
 * Consul's routes with random params, headers and bodies, so they get past the parser into the
 * handlers. Some are pipelined, one in ten is dripped in pieces with pauses (a slow client), and
 * most sockets are half-closed after their last byte. The contract: every connection is answered or
 * closed within ANSWER_MS (a blocking query may take its ?wait), an answer is HTTP, the agent logs
 * no error (a handler's untyped exception is a logged 500) and never exits.
 */
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { startAgent, type RunningAgent } from '../helpers/agent.js'
import type { Mutator } from './mutate.js'
import { Finding, type Target } from './target.js'

const ANSWER_MS = 5000
/** A liveness probe (GET /v1/status/leader must answer 200) every this many inputs. */
const PROBE_EVERY = 500
/** Inputs an error log line can trail its cause by. */
const LOG_LAG = 5

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'

/** A request as latin1 text: one character, one byte, so Content-Length holds for noise bodies too. */
export function request(method: string, path: string, body = '', headers: Record<string, string> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1:8500', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  if (body || method === 'PUT' || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`)
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

/** Valid bodies per kind, the shapes clients send; structured inputs mutate them as JSON. */
const BODIES: Record<string, unknown> = {
  txn: [{ KV: { Verb: 'set', Key: 'fz/t', Value: 'aGk=' } }, { KV: { Verb: 'cas', Key: 'fz/t', Index: 0, Value: '' } }, { KV: { Verb: 'get-tree', Key: 'fz/' } }, { Node: { Verb: 'get', Node: { Node: 'n1' } } }],
  register: { Node: 'fz-n1', Address: '10.0.0.1', NodeMeta: { rack: 'r1' }, Service: { Service: 'web', ID: 'web-1', Port: 80, Tags: ['v1'], Meta: { a: 'b' } }, Check: { CheckID: 'c1', Name: 'c', Status: 'passing', ServiceID: 'web-1' } },
  deregister: { Node: 'fz-n1', ServiceID: 'web-1' },
  session: { Name: 'fz', TTL: '15s', Behavior: 'delete', LockDelay: '1s', Checks: ['serfHealth'] },
  service: { Name: 'api', ID: 'api-1', Port: 9000, Tags: ['a'], Meta: { v: '1' }, Weights: { Passing: 3, Warning: 1 }, Check: { TTL: '30s', DeregisterCriticalServiceAfter: '1m' } },
  check: { Name: 'mem', CheckID: 'mem', TTL: '30s', Notes: 'n', Status: 'warning' },
  query: { Name: 'fzq', Service: { Service: 'web', Tags: ['v1'], OnlyPassing: true, Failover: { NearestN: 2, Datacenters: ['dc2'] } }, DNS: { TTL: '10s' } },
  coordinate: { Node: 'fz-n1', Coord: { Vec: [0.1, 0.2, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 } },
  autopilot: { CleanupDeadServers: true, LastContactThreshold: '200ms', MaxTrailingLogs: 250, ServerStabilizationTime: '10s' },
  policy: { Name: 'p', Rules: 'key_prefix "" { policy = "read" }' },
}

/** Routes as [methods, path, body kind]; {k} segments get random keys. Leave, join and raft peer removal are left out: they end the test, not find bugs. */
const ROUTES: Array<[Method[], string, string?]> = [
  [['GET', 'PUT', 'DELETE'], '/v1/kv/{k}'],
  [['PUT'], '/v1/txn', 'txn'],
  [['GET'], '/v1/catalog/services'], [['GET'], '/v1/catalog/nodes'], [['GET'], '/v1/catalog/datacenters'],
  [['GET'], '/v1/catalog/service/{k}'], [['GET'], '/v1/catalog/node/{k}'], [['GET'], '/v1/catalog/node-services/{k}'],
  [['PUT'], '/v1/catalog/register', 'register'], [['PUT'], '/v1/catalog/deregister', 'deregister'],
  [['GET'], '/v1/health/service/{k}'], [['GET'], '/v1/health/checks/{k}'], [['GET'], '/v1/health/node/{k}'], [['GET'], '/v1/health/state/{k}'],
  [['PUT'], '/v1/session/create', 'session'], [['PUT'], '/v1/session/destroy/{k}'], [['PUT'], '/v1/session/renew/{k}'],
  [['GET'], '/v1/session/info/{k}'], [['GET'], '/v1/session/list'], [['GET'], '/v1/session/node/{k}'],
  [['PUT'], '/v1/agent/service/register', 'service'], [['PUT'], '/v1/agent/service/deregister/{k}'], [['GET'], '/v1/agent/service/{k}'],
  [['PUT'], '/v1/agent/check/register', 'check'], [['PUT'], '/v1/agent/check/pass/{k}'], [['PUT'], '/v1/agent/check/fail/{k}'],
  [['PUT'], '/v1/agent/check/update/{k}', 'check'], [['PUT'], '/v1/agent/check/deregister/{k}'],
  [['GET'], '/v1/agent/services'], [['GET'], '/v1/agent/checks'], [['GET'], '/v1/agent/self'], [['GET'], '/v1/agent/members'],
  [['GET'], '/v1/agent/health/service/name/{k}'], [['PUT'], '/v1/agent/maintenance'], [['PUT'], '/v1/agent/service/maintenance/{k}'],
  [['PUT'], '/v1/event/fire/{k}'], [['GET'], '/v1/event/list'],
  [['GET', 'POST'], '/v1/query', 'query'], [['GET', 'PUT', 'DELETE'], '/v1/query/{k}', 'query'], [['GET'], '/v1/query/{k}/execute'], [['GET'], '/v1/query/{k}/explain'],
  [['GET'], '/v1/status/leader'], [['GET'], '/v1/status/peers'],
  [['GET'], '/v1/coordinate/datacenters'], [['GET'], '/v1/coordinate/nodes'], [['GET'], '/v1/coordinate/node/{k}'], [['PUT'], '/v1/coordinate/update', 'coordinate'],
  [['GET'], '/v1/operator/raft/configuration'], [['GET'], '/v1/operator/autopilot/health'], [['GET', 'PUT'], '/v1/operator/autopilot/configuration', 'autopilot'],
  [['GET', 'PUT'], '/v1/acl/token/self'], [['PUT'], '/v1/acl/bootstrap'], [['PUT'], '/v1/acl/policy', 'policy'], [['PUT'], '/v1/acl/create', 'policy'],
  [['GET'], '/v1/snapshot'], [['GET'], '/v1/agent/metrics'], [['GET', 'PUT'], '/v1/nope/{k}'], [['GET'], '/'], [['GET'], '/ui/{k}'],
]

const PARAMS = ['recurse', 'keys', 'separator', 'raw', 'cas', 'flags', 'acquire', 'release', 'dc', 'stale', 'consistent', 'cached', 'filter', 'near',
  'tag', 'passing', 'node-meta', 'token', 'pretty', 'max_stale', 'note', 'replace-existing-checks', 'enable', 'reason', 'name', 'node', 'service',
  'limit', 'ns', 'wait', 'index', 'format', 'segment', 'wan', 'local-only', 'connect']
const VALUES = ['', '0', '1', '-1', '3', '18446744073709551615', '18446744073709551616', '1e9', 'abc', '10s', '1ms', '-5s', '%zz', '%00', '%2F', 'dc1', 'dc2',
  'true', 'false', '..', 'a/b', '"x"', 'Service == "web"', 'ServiceTags contains "v1"', 'Node.Meta.rack == r1', '(', 'not ', '_agent', 'serfHealth', 'web',
  '%E2%98%83', 'x'.repeat(300), 'rack:r1', 'a:b:c', 'prometheus', '00000000-0000-0000-0000-000000000000']
const KEYS = ['web/a', 'fz/t', 'web', 'api-1', 'mem', 'service:api-1', 'serfHealth', 'fz-n1', 'passing', 'critical', 'any', 'deploy', '', 'a%2Fb', '..', '../../etc',
  'x'.repeat(600), '%E2%98%83', 'a b', '00000000-0000-0000-0000-000000000000', '%00', 'fzq', 'a//b/', '?', '#frag']
const HEADERS: Array<[string, string[]]> = [
  ['X-Consul-Token', ['', 'root', 'anonymous', '00000000-0000-0000-0000-000000000000', 'x'.repeat(2000)]],
  ['Content-Type', ['application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x']],
  ['Authorization', ['Bearer abc', 'Basic Zm9vOmJhcg==', 'Bearer']],
  ['Accept-Encoding', ['gzip', 'br, gzip', 'identity;q=0']],
  ['Cache-Control', ['max-age=10', 'max-age=-1', 'stale-if-error=5', 'no-cache']],
  ['Expect', ['100-continue', 'teapot']],
  ['X-Consul-Namespace', ['default', 'other']],
  ['Connection', ['keep-alive', 'close', 'upgrade']],
  ['Upgrade', ['websocket', 'h2c']],
]

/** A JSON value of a random shape, for replacing a valid body's fields. */
function anyValue(m: Mutator, depth = 0): unknown {
  switch (m.int(depth > 2 ? 6 : 8)) {
    case 0: return null
    case 1: return m.pick([0, -1, 1, 2 ** 53, -(2 ** 63), 1e308, 0.5, 18446744073709551615])
    case 2: return m.pick(['', 'x', '10s', '-1s', 'passing', 'critical', 'set', 'delete', 'release', '\u0000', 'é'.repeat(50), 'aGk='])
    case 3: return m.random() < 0.5
    case 4: return m.pick(VALUES)
    case 5: return {}
    case 6: return Array.from({ length: m.int(4) }, () => anyValue(m, depth + 1))
    default: return Object.fromEntries(Array.from({ length: m.int(4) }, () => [m.pick(['Name', 'ID', 'Key', 'Value', 'Verb', 'Node', 'Service', 'Check', 'TTL', 'Port', 'Tags', 'Index']), anyValue(m, depth + 1)]))
  }
}

/** A valid body with some of its fields, at any depth, replaced, dropped or added. */
function mutateJson(m: Mutator, v: unknown, depth = 0): unknown {
  if (m.random() < 0.08) return anyValue(m, depth)
  if (Array.isArray(v)) return v.filter(() => m.random() > 0.1).map((x) => mutateJson(m, x, depth + 1))
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (m.random() > 0.1) out[m.random() < 0.05 ? k.toLowerCase() : k] = mutateJson(m, x, depth + 1)
    if (m.random() < 0.1) out[m.pick(['Extra', 'Datacenter', 'Namespace', 'Partition', 'Token'])] = anyValue(m, depth + 1)
    return out
  }
  return v
}

/** A request built from the routes: gets past the parser and into a handler. */
function structured(m: Mutator): { text: string; halfClose: boolean } {
  const [methods, template, kind] = m.pick(ROUTES)
  const method = m.random() < 0.05 ? m.pick(['PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'BREW']) : m.pick(methods)
  let path = template.replace('{k}', () => m.pick(KEYS))
  const params: string[] = []
  for (let i = m.int(4); i > 0; i--) {
    const p = m.pick(PARAMS)
    params.push(m.random() < 0.3 ? p : `${p}=${m.pick(VALUES)}`)
  }
  // A blocking query waits at most a moment here: the fuzzer looks for hangs, not long polls.
  if (params.some((p) => p.startsWith('index'))) {
    for (let i = params.length - 1; i >= 0; i--) if (params[i]!.startsWith('wait')) params.splice(i, 1)
    params.push(`wait=${1 + m.int(50)}ms`)
  }
  if (params.length) path += `?${params.join('&')}`
  const headers: Record<string, string> = {}
  for (let i = m.int(3); i > 0; i--) {
    const [name, values] = m.pick(HEADERS)
    headers[name] = m.pick(values)
  }
  let body = ''
  if (method !== 'GET' && method !== 'DELETE') {
    const base = kind ? BODIES[kind] : undefined
    const r = m.random()
    body = r < 0.15 ? '' : r < 0.25 ? Buffer.from(m.noise(200)).toString('latin1') : base === undefined || r < 0.35 ? String(m.pick(VALUES)) : JSON.stringify(mutateJson(m, base))
  }
  let text: string
  if (m.random() < 0.1 && body) {
    // Chunked, sometimes with a lying chunk size.
    const size = m.random() < 0.8 ? Buffer.byteLength(body, 'latin1').toString(16) : m.pick(['0', 'ffffffff', 'zz', '-1', '1'])
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Transfer-Encoding: chunked', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
    text = `${lines.join('\r\n')}\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`
  } else {
    text = request(method, path, body, headers)
  }
  // A well-formed request may leave its socket open and ask the agent to close it instead.
  const halfClose = !(m.random() < 0.2 && !('Connection' in headers) && !text.includes('chunked'))
  if (!halfClose) text = text.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')
  return { text, halfClose }
}

const CORPUS: string[] = [
  request('GET', '/v1/kv/web/a'),
  request('PUT', '/v1/kv/web/a?flags=3&cas=0', 'hello'),
  request('GET', '/v1/kv/?recurse&separator=/'),
  request('GET', '/v1/kv/web?keys&consistent', '', { 'X-Consul-Token': 'root' }),
  request('DELETE', '/v1/kv/web?recurse'),
  request('PUT', '/v1/txn', JSON.stringify(BODIES.txn)),
  request('PUT', '/v1/catalog/register', JSON.stringify(BODIES.register), { 'Content-Type': 'application/json' }),
  request('PUT', '/v1/catalog/deregister', JSON.stringify(BODIES.deregister)),
  request('GET', '/v1/catalog/service/web?tag=v1&near=_agent&filter=ServiceTags%20contains%20%22v1%22'),
  request('GET', '/v1/health/service/web?passing&stale'),
  request('PUT', '/v1/session/create', JSON.stringify(BODIES.session)),
  request('PUT', '/v1/kv/lock?acquire=00000000-0000-0000-0000-000000000000', 'me'),
  request('PUT', '/v1/agent/service/register?replace-existing-checks', JSON.stringify(BODIES.service)),
  request('PUT', '/v1/agent/check/pass/service:api-1?note=ok'),
  request('PUT', '/v1/event/fire/deploy?node=web&service=api', 'v2'),
  request('POST', '/v1/query', JSON.stringify(BODIES.query)),
  request('GET', '/v1/query/fzq/execute?near=_agent&limit=3'),
  request('GET', '/v1/agent/self'),
  request('GET', '/v1/status/leader'),
  request('GET', '/v1/coordinate/nodes?dc=dc1'),
  `${request('GET', '/v1/agent/members')}${request('GET', '/v1/catalog/nodes')}`,
]

/** Sends `bytes` and reads until the agent closes: the bytes it answered, or a timeout. */
export async function exchange(port: number, local: string, chunks: Uint8Array[], pauseMs: number, halfClose: boolean): Promise<{ answer: Buffer; timedOut: boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: local, allowHalfOpen: true })
  const got: Buffer[] = []
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), ANSWER_MS)
    socket.on('data', (d: Buffer) => got.push(d))
    socket.on('end', () => { clearTimeout(timer); resolve(false) })
    socket.on('close', () => { clearTimeout(timer); resolve(false) })
    socket.on('error', () => { clearTimeout(timer); resolve(false) })
  })
  try {
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  } catch (err) {
    socket.destroy()
    throw new Finding(`cannot connect to the agent: ${(err as Error).message}`)
  }
  for (let i = 0; i < chunks.length; i++) {
    if (socket.destroyed) break
    socket.write(chunks[i]!)
    if (pauseMs && i < chunks.length - 1) await sleep(pauseMs)
  }
  if (halfClose && !socket.destroyed) socket.end()
  const timedOut = await done
  // A million connections spread over a thousand source addresses (run's localAddress) leave few TIME_WAITs per address.
  socket.destroy()
  return { answer: Buffer.concat(got), timedOut }
}

function split(m: Mutator, b: Uint8Array): Uint8Array[] {
  const cuts = [...new Set(Array.from({ length: 1 + m.int(4) }, () => m.int(b.length)))].sort((x, y) => x - y)
  const out: Uint8Array[] = []
  let at = 0
  for (const c of [...cuts, b.length]) {
    if (c > at) out.push(b.subarray(at, c))
    at = c
  }
  return out
}

export function httpTarget(): Target {
  let agent: RunningAgent | undefined
  let port = 0
  let seen = 0
  let count = 0
  const fail = (what: string, sent: Uint8Array, lookBack = 0): never => {
    const tail = agent!.output().slice(seen, seen + 2000)
    throw new Finding(`${what}\nsent: ${JSON.stringify(Buffer.from(sent).toString('latin1').slice(0, 600))}${tail ? `\nagent said:\n${tail}` : ''}`, lookBack)
  }
  return {
    name: 'http-api',
    what: 'raw HTTP requests to a live dev agent (mutated and route-built, pipelined, slow, half-closed): answered or closed in time, never an error logged, never an exit',
    corpus: () => CORPUS.map((s) => Buffer.from(s, 'latin1')),
    async open() {
      agent = await startAgent({ dev: true })
      port = Number(new URL(agent.httpAddr).port)
      seen = agent.output().length
    },
    async close() {
      await agent?.stop()
      agent = undefined
    },
    async run(input, m) {
      let bytes = input
      let halfClose = true
      if (m.random() < 0.5) {
        const s = structured(m)
        bytes = Buffer.from(s.text, 'latin1')
        halfClose = s.halfClose
        if (m.random() < 0.1) bytes = Buffer.concat([bytes, Buffer.from(structured(m).text, 'latin1')])
      }
      const slow = m.random() < 0.1
      const local = `127.0.${m.int(4)}.${1 + m.int(250)}`
      const { answer, timedOut } = await exchange(port, local, slow ? split(m, bytes) : [bytes], slow ? 1 + m.int(3) : 0, halfClose)
      const blocking = /[?&]index=/.test(Buffer.from(bytes).toString('latin1'))
      if (timedOut && !blocking) fail(`no answer and no close within ${ANSWER_MS} ms`, bytes)
      if (answer.length > 0 && !/^HTTP\/1\.[01] \d{3} /.test(answer.subarray(0, 16).toString('latin1'))) fail(`an answer that is not HTTP: ${JSON.stringify(answer.subarray(0, 80).toString('latin1'))}`, bytes)
      if (agent!.proc.exitCode !== null || agent!.proc.signalCode !== null) fail(`the agent exited (${agent!.proc.exitCode ?? agent!.proc.signalCode})`, bytes)
      const out = agent!.output()
      const logged = out.slice(seen)
      if (/\[ERROR\]/.test(logged)) fail('the agent logged an error (its log can trail the answer: the cause may be a few inputs back)', bytes, LOG_LAG)
      seen = out.length
      if (++count % PROBE_EVERY === 0) {
        const probe = await exchange(port, '127.0.0.1', [Buffer.from(request('GET', '/v1/status/leader'))], 0, true)
        if (!/^HTTP\/1\.1 200 /.test(probe.answer.toString('latin1'))) fail(`the agent stopped answering: ${JSON.stringify(probe.answer.subarray(0, 200).toString('latin1'))}`, bytes)
      }
    },
  }
}
