/**
 * The DNS interface of a real agent, through real clients: Debian's `dig` (dnsutils) and Node's
 * `dns.promises.Resolver`. Registrations go through the HTTP API as users make them.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import dgram from 'node:dgram'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promises as dnsPromises } from 'node:dns'
import dnsPacket from 'dns-packet'
import { startAgent, tempDir, removeDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { which } from '../../bench/lib/procs.js'

const BIG = 100
const UPSTREAM_TTL = 1234
const HAVE_DIG = which('dig') !== undefined
const NO_DIG = 'dig is not installed (apt-get install -y dnsutils)'

let agent: RunningAgent
let port: number
let upstream: dgram.Socket
let dir: string

/** A tiny upstream DNS server: answers `*.example.test` A with 192.0.2.7, everything else NXDOMAIN. */
async function startUpstream(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4')
  socket.on('message', (msg, rinfo) => {
    let q
    try {
      q = dnsPacket.decode(msg)
    } catch {
      return
    }
    const question = q.questions?.[0]
    const known = question?.name.endsWith('example.test') && question.type === 'A'
    const answer = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: q.questions,
      answers: known ? [{ name: question!.name, type: 'A', ttl: UPSTREAM_TTL, data: '192.0.2.7' }] : [],
    })
    socket.send(answer, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return socket
}

async function put(path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${agent.httpAddr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) })
  assert.equal(res.status, 200, `${path}: ${await res.text()}`)
}

function dig(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+time=5', '+tries=1', ...args], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  )
}

async function digShort(...args: string[]): Promise<string[]> {
  return (await dig('+short', ...args)).trim().split('\n').filter(Boolean).sort()
}

function resolver(): dnsPromises.Resolver {
  const r = new dnsPromises.Resolver({ timeout: 3000, tries: 1 })
  r.setServers([`127.0.0.1:${port}`])
  return r
}

before(async () => {
  upstream = await startUpstream()
  dir = tempDir('consul-dns-test-')
  const config = join(dir, 'dns.json')
  writeFileSync(config, JSON.stringify({ recursors: [`127.0.0.1:${(upstream.address() as { port: number }).port}`], dns_config: { service_ttl: { '*': '5s' } } }))
  agent = await startAgent({ dev: true, dns: true, args: [`-config-file=${config}`] })
  assert.ok(agent.dnsPort, 'the agent logs its DNS port')
  port = agent.dnsPort!
  await put('/v1/catalog/register', { Node: 'mi-control-01', Address: '10.1.0.1', NodeMeta: { rack: 'r7' }, Service: { ID: 'zk', Service: 'zookeeper', Port: 2181, Tags: ['leader'] } })
  await put('/v1/catalog/register', { Node: 'mi-control-02', Address: '10.1.0.2', Service: { ID: 'zk', Service: 'zookeeper', Port: 2181, Tags: ['follower'] } })
  await Promise.all(
    Array.from({ length: BIG }, (_, i) =>
      put('/v1/catalog/register', { Node: `big-${String(i).padStart(3, '0')}`, Address: `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}`, Service: { Service: 'big', Port: 9000 } }),
    ),
  )
})

after(async () => {
  await agent?.stop()
  upstream?.close()
  if (dir) removeDir(dir)
})

test('dig: service A and SRV in the issue\'s shape, tag and RFC 2782 names, node A and TXT', { skip: !HAVE_DIG && NO_DIG }, async () => {
  assert.deepEqual(await digShort('zookeeper.service.consul'), ['10.1.0.1', '10.1.0.2'])
  assert.deepEqual(await digShort('zookeeper.service.consul', 'SRV'), ['1 1 2181 mi-control-01.node.dc1.consul.', '1 1 2181 mi-control-02.node.dc1.consul.'])
  assert.deepEqual(await digShort('leader.zookeeper.service.consul'), ['10.1.0.1'])
  assert.deepEqual(await digShort('_zookeeper._follower.service.consul', 'SRV'), ['1 1 2181 mi-control-02.node.dc1.consul.'])
  assert.deepEqual(await digShort('_zookeeper._tcp.service.dc1.consul', 'SRV'), ['1 1 2181 mi-control-01.node.dc1.consul.', '1 1 2181 mi-control-02.node.dc1.consul.'])
  assert.deepEqual(await digShort('MI-Control-01.node.consul'), ['10.1.0.1'])
  assert.deepEqual(await digShort('mi-control-01.node.consul', 'TXT'), ['"rack=r7"'])
  const srv = await dig('zookeeper.service.consul', 'SRV')
  assert.match(srv, /ADDITIONAL SECTION:[\s\S]*mi-control-01\.node\.dc1\.consul\.\s+5\s+IN\s+A\s+10\.1\.0\.1/, 'glue in Additional, service TTL from service_ttl')
})

test('dig: NXDOMAIN with the SOA; another datacenter is NXDOMAIN', { skip: !HAVE_DIG && NO_DIG }, async () => {
  const out = await dig('nope.service.consul')
  assert.match(out, /status: NXDOMAIN/)
  assert.match(out, /AUTHORITY SECTION:\s+consul\.\s+0\s+IN\s+SOA\s+ns\.consul\. hostmaster\.consul\./)
  assert.match(await dig('zookeeper.service.dc9.consul'), /status: NXDOMAIN/)
  assert.match(await dig('mi-control-01.node.consul', 'AAAA'), /status: NOERROR[\s\S]*ANSWER: 0,[\s\S]*SOA/)
})

test('dig: 100 instances set TC over UDP; the same question over TCP gets all of them', { skip: !HAVE_DIG && NO_DIG }, async () => {
  const udp = await dig('+ignore', 'big.service.consul')
  assert.match(udp, /flags: qr aa tc rd/)
  const udpCount = (udp.match(/\sIN\s+A\s/g) ?? []).length
  assert.ok(udpCount > 0 && udpCount < BIG, `some, not all, answers over UDP (${udpCount})`)
  const tcp = await digShort('+tcp', 'big.service.consul')
  assert.equal(tcp.length, BIG)
  const retried = await digShort('big.service.consul', 'SRV')
  assert.equal(retried.length, BIG, 'dig retries over TCP on TC by itself')
})

test('dig: names outside the domain go to the recursor, with its TTL kept', { skip: !HAVE_DIG && NO_DIG }, async () => {
  const out = await dig('www.example.test')
  assert.match(out, new RegExp(`www\\.example\\.test\\.\\s+${UPSTREAM_TTL}\\s+IN\\s+A\\s+192\\.0\\.2\\.7`))
  assert.match(await dig('missing.invalid'), /status: NXDOMAIN/)
})

test('Node Resolver: resolve4, resolveSrv, resolveTxt, ENOTFOUND, recursion', async () => {
  const r = resolver()
  assert.deepEqual((await r.resolve4('zookeeper.service.consul')).sort(), ['10.1.0.1', '10.1.0.2'])
  const srv = (await r.resolveSrv('zookeeper.service.consul')).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}`).sort()
  assert.deepEqual(srv, ['1 1 2181 mi-control-01.node.dc1.consul', '1 1 2181 mi-control-02.node.dc1.consul'])
  assert.deepEqual(await r.resolveTxt('mi-control-01.node.consul'), [['rack=r7']])
  await assert.rejects(r.resolve4('nope.service.consul'), { code: 'ENOTFOUND' })
  assert.deepEqual(await r.resolve4('api.example.test'), ['192.0.2.7'])
  // c-ares asks without EDNS0, so Consul's udp_answer_limit (3) applies, as with Consul.
  assert.equal((await r.resolve4('big.service.consul')).length, 3)
})

test('a failing TTL check removes its instance from DNS answers; passing brings it back', async () => {
  await put('/v1/agent/service/register', { ID: 'pay-1', Name: 'payments', Port: 7000, Check: { TTL: '60s' } })
  await put('/v1/agent/check/pass/service:pay-1')
  const r = resolver()
  const lookup = async (): Promise<string[]> => r.resolve4('payments.service.consul').catch(() => [])
  await until('payments in DNS', async () => ((await lookup()).length === 1 ? true : undefined))
  await put('/v1/agent/check/fail/service:pay-1')
  await until('payments gone from DNS', async () => ((await lookup()).length === 0 ? true : undefined))
  if (HAVE_DIG) assert.match(await dig('payments.service.consul'), /status: NXDOMAIN/)
  await put('/v1/agent/check/pass/service:pay-1')
  await until('payments back in DNS', async () => ((await lookup()).length === 1 ? true : undefined))
})

test('startAgent with -dns-port=0 in args: the helper finds the port from the log line', async () => {
  const other = await startAgent({ dev: true, args: ['-dns-port=0'] })
  try {
    assert.ok(other.dnsPort && other.dnsPort > 0)
    assert.match(other.output(), new RegExp(`DNS server listening on udp://127\\.0\\.0\\.1:${other.dnsPort} and tcp://127\\.0\\.0\\.1:${other.dnsPort}`))
    const r = new dnsPromises.Resolver({ timeout: 3000, tries: 1 })
    r.setServers([`127.0.0.1:${other.dnsPort}`])
    // The agent registers its own `consul` service shortly after start.
    await until('the consul service in DNS', async () => ((await r.resolveSrv('consul.service.consul').catch(() => [])).length === 1 ? true : undefined))
  } finally {
    await other.stop()
  }
})
