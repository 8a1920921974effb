/**
 * UDP workers (dns_config.udp_workers): extra processes answering on the agent's own UDP socket.
 * A real agent with two workers: answers stay right under load, changes and reloads reach the
 * workers, everything a worker cannot answer is relayed and answered by the agent, and the
 * workers never outlive the agent, even after kill -9.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import dnsPacket, { type DecodedPacket, type RecordType } from 'dns-packet'
import { startAgent, tempDir, removeDir, runCli, CONSUL_BIN, type RunningAgent } from '../helpers/agent.js'
import { getJson, until } from '../helpers/poll.js'

const WORKERS = 2
let agent: RunningAgent
let dir: string
let config: string
let client: dgram.Socket
let nextId = 1
type Answer = DecodedPacket & { rcode?: string }
const pending = new Map<number, (p: Answer) => void>()

/** One query over UDP from the test's socket, sent again once after 2 s as resolvers do (UDP may drop); rejects after 4 s. */
function ask(name: string, type: string, opts: { edns?: number; raw?: Buffer } = {}): Promise<Answer> {
  const id = nextId++ & 0xffff
  const wire =
    opts.raw ??
    dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type: type as RecordType }],
      additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    })
  if (opts.raw) wire.writeUInt16BE(id, 0)
  return new Promise((resolve, reject) => {
    const retry = setTimeout(() => client.send(wire, agent.dnsPort!, '127.0.0.1'), 2000)
    const timer = setTimeout(() => {
      pending.delete(id)
      reject(new Error(`no answer to ${name} ${type}`))
    }, 4000)
    pending.set(id, (p) => {
      clearTimeout(retry)
      clearTimeout(timer)
      resolve(p)
    })
    client.send(wire, agent.dnsPort!, '127.0.0.1')
  })
}

const addresses = (p: Answer): string[] => (p.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data: string }).data)).sort()
const dnsStats = async (): Promise<Record<string, string>> => (await getJson<{ Stats: { dns: Record<string, string> } }>(`${agent.httpAddr}/v1/agent/self`)).Stats.dns

/** Processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function put(path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${agent.httpAddr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) })
  assert.equal(res.status, 200, `${path}: ${await res.text()}`)
}

before(async () => {
  dir = tempDir('consul-dns-workers-')
  config = join(dir, 'dns.json')
  writeFileSync(config, JSON.stringify({ dns_config: { udp_workers: WORKERS, service_ttl: { web: '5s' } }, telemetry: { prometheus_retention_time: '1m' } }))
  agent = await startAgent({ dev: true, dns: true, args: [`-config-file=${config}`] })
  // Room for a burst of 100 answers while the test decodes them.
  client = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 })
  client.on('message', (m) => {
    let p: Answer
    try {
      p = dnsPacket.decode(m)
    } catch {
      return
    }
    pending.get(p.id ?? -1)?.(p)
    pending.delete(p.id ?? -1)
  })
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))
  for (let i = 0; i < 10; i++) {
    await put('/v1/agent/service/register', { ID: `web-${i}`, Name: 'web', Port: 8000 + i, Address: `10.9.0.${i + 1}`, Check: { CheckID: `web-${i}-ttl`, TTL: '10m', Status: 'passing' } })
  }
  await until('10 web instances in DNS', async () => (addresses(await ask('web.service.consul', 'A', { edns: 4096 })).length === 10 ? true : undefined))
})

after(async () => {
  client?.close()
  await agent?.stop()
  if (dir) removeDir(dir)
})

test('the agent starts the workers; thousands of queries are answered right, most of them by workers', async () => {
  await until('workers reported', async () => ((await dnsStats()).udp_workers === String(WORKERS) ? true : undefined))
  const all = Array.from({ length: 10 }, (_, i) => `10.9.0.${i + 1}`).sort()
  for (let round = 0; round < 20; round++) {
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? ask('web.service.consul', 'SRV', { edns: 4096 }) : i % 3 === 1 ? ask('WEB.service.consul', 'A', { edns: 4096 }) : ask('web.service.consul', 'A'))),
    )
    for (const [i, p] of answers.entries()) {
      if (i % 3 === 0) assert.equal((p.answers ?? []).filter((a) => a.type === 'SRV').length, 10)
      else if (i % 3 === 1) assert.deepEqual(addresses(p), all)
      else assert.equal(addresses(p).length, 3, 'udp_answer_limit (3) for clients without EDNS')
      if (i % 3 !== 0) assert.ok(addresses(p).every((a) => all.includes(a)))
    }
  }
  // Workers report their counters about once a second.
  await until('the workers\' answers counted', async () => {
    const s = await dnsStats()
    return Number(s.udp_worker_answers) > 0 && Number(s.udp_worker_answers) + Number(s.fast_path_answers) > 1500 ? s : undefined
  })
  // The workers' answers are timed too: they report their times with their counters.
  const s = await dnsStats()
  const text = await (await fetch(`${agent.httpAddr}/v1/agent/metrics?format=prometheus`)).text()
  const timed = Number(/^consul_dns_domain_query_count\{node="[^"]+"\} (\d+)$/m.exec(text)?.[1])
  assert.ok(timed >= Number(s.udp_worker_answers) + Number(s.fast_path_answers), `${timed} timed, ${s.udp_worker_answers} by workers, ${s.fast_path_answers} by the agent's fast path`)
  assert.match(text, /^consul_dns_domain_query\{node="[^"]+",quantile="0\.99"\} \d/m)
})

test('misses are relayed to the agent: NXDOMAIN, node names, REFUSED, FORMERR for garbage', async () => {
  for (let i = 0; i < 5; i++) {
    assert.equal((await ask('nope.service.consul', 'A')).rcode, 'NXDOMAIN')
    assert.equal((await ask(`node-${i}.other.example`, 'A')).rcode, 'REFUSED')
  }
  const node = await ask(`${agent.output().match(/as node "([^"]+)"/)![1]}.node.consul`, 'A')
  assert.equal(node.rcode, 'NOERROR')
  assert.equal(node.answers!.length, 1)
  // A header claiming a question that is not there: the agent answers FORMERR with the ID.
  const garbage = Buffer.alloc(14)
  garbage.writeUInt16BE(1, 4)
  garbage[12] = 0xc0
  const formerr = await ask('', 'A', { raw: garbage })
  assert.equal(formerr.rcode, 'FORMERR')
  await until('relays counted', async () => (Number((await dnsStats()).udp_worker_relays) > 0 ? true : undefined))
})

test('a failing check leaves the answers, a new instance joins them, through the workers too', async () => {
  await put('/v1/agent/check/fail/web-3-ttl')
  await until('web-3 gone from every answer', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => ask('web.service.consul', 'A', { edns: 4096 })))
    return answers.every((p) => !addresses(p).includes('10.9.0.4') && addresses(p).length === 9) ? true : undefined
  })
  await put('/v1/agent/check/pass/web-3-ttl')
  await put('/v1/agent/service/register', { ID: 'web-10', Name: 'web', Port: 8010, Address: '10.9.0.11' })
  await until('11 instances in every answer', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => ask('web.service.consul', 'A', { edns: 4096 })))
    return answers.every((p) => addresses(p).length === 11) ? true : undefined
  })
})

test('a reload reaches the workers: the new service TTL is in every answer', async () => {
  const ttl = async (): Promise<number[]> => (await Promise.all(Array.from({ length: 50 }, () => ask('web.service.consul', 'A', { edns: 4096 })))).map((p) => (p.answers![0] as { ttl: number }).ttl)
  assert.ok((await ttl()).every((t) => t === 5))
  writeFileSync(config, JSON.stringify({ dns_config: { udp_workers: WORKERS, service_ttl: { web: '42s' } } }))
  const reload = await runCli(CONSUL_BIN, ['reload', `-http-addr=${agent.httpAddr}`])
  assert.equal(reload.code, 0, reload.stderr)
  await until('TTL 42 everywhere', async () => ((await ttl()).every((t) => t === 42) ? true : undefined))
})

test('workers never outlive the agent: they exit on kill -9', async () => {
  const workers = childrenOf(agent.proc.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('udp-worker'))
  assert.equal(workers.length, WORKERS)
  await agent.kill9()
  await until('workers gone', async () => (workers.every((pid) => !alive(pid)) ? true : undefined), 10_000)
})
