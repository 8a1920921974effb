/**
 * One dev agent with the telemetry and logging keys set: the metrics endpoint's two formats and
 * its bad input, statsd and dogstatsd pushes to real UDP listeners, DNS timings, log_json lines,
 * log_file rotation, and `consul monitor` (and a monitor client that never reads).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import dnsPacket from 'dns-packet'
import { CONSUL_BIN, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'

let agent: RunningAgent
let plain: RunningAgent
let logDir = ''
const statsd: string[] = []
const dogstatsd: string[] = []
const sockets: dgram.Socket[] = []

async function listen(into: string[]): Promise<number> {
  const s = dgram.createSocket('udp4')
  sockets.push(s)
  s.on('message', (m) => into.push(...m.toString('utf8').split('\n')))
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  return s.address().port
}

before(async () => {
  const dir = tempDir('telemetry-')
  logDir = join(dir, 'logs') + '/'
  const config = join(dir, 'telemetry.json')
  writeFileSync(config, JSON.stringify({
    log_json: true,
    log_level: 'debug',
    log_file: logDir,
    log_rotate_bytes: 2000,
    log_rotate_max_files: 2,
    telemetry: {
      prometheus_retention_time: '1m',
      statsd_address: `127.0.0.1:${await listen(statsd)}`,
      dogstatsd_addr: `127.0.0.1:${await listen(dogstatsd)}`,
      dogstatsd_tags: ['env:test'],
    },
  }))
  agent = await startAgent({ dev: true, dns: true, args: [`-config-file=${config}`] })
  plain = await startAgent({ dev: true })
})

after(async () => {
  await Promise.all([agent?.stop(), plain?.stop()])
  for (const s of sockets) s.close()
})

test('GET /v1/agent/metrics: go-metrics\' JSON, the Prometheus text when enabled, Consul\'s 415 when not, a 400 for an unknown format', async () => {
  await fetch(`${agent.httpAddr}/v1/kv/t`, { method: 'PUT', body: 'x' })
  const json = (await (await fetch(`${agent.httpAddr}/v1/agent/metrics`)).json()) as { Timestamp: string; Gauges: Array<{ Name: string; Value: number; Labels: object }>; Points: unknown[]; Counters: unknown[]; Samples: Array<{ Name: string; Count: number; Labels: Record<string, string> }> }
  assert.match(json.Timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/)
  assert.deepEqual(json.Points, [])
  assert.ok(Array.isArray(json.Counters))
  // Gauges carry the host name after the prefix unless disable_hostname (Consul's default).
  assert.ok(json.Gauges.some((g) => /^consul\.[^.]+\.runtime\.alloc_bytes$/.test(g.Name) && g.Value > 0), JSON.stringify(json.Gauges.map((g) => g.Name)))
  assert.ok(json.Samples.some((s) => s.Name === 'consul.api.http' && s.Labels.method === 'PUT' && s.Labels.path === 'v1.kv._'))
  const prom = await fetch(`${agent.httpAddr}/v1/agent/metrics?format=prometheus`)
  assert.equal(prom.status, 200)
  assert.equal(prom.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await prom.text()
  assert.match(text, /^# TYPE consul_kvs_apply summary$/m)
  assert.match(text, /^consul_kvs_apply_count 1$/m)
  const off = await fetch(`${plain.httpAddr}/v1/agent/metrics?format=prometheus`)
  assert.equal(off.status, 415)
  assert.equal(await off.text(), 'Prometheus is not enabled since its retention time is not positive')
  const bad = await fetch(`${agent.httpAddr}/v1/agent/metrics?format=xml`)
  assert.equal(bad.status, 400)
  assert.equal(await bad.text(), 'Invalid format "xml": leave format out for JSON, or use format=prometheus')
})

test('consul info shows the runtime figures the runtime.* gauges show, read the same way', async () => {
  const json = (await (await fetch(`${agent.httpAddr}/v1/agent/metrics`)).json()) as { Gauges: Array<{ Name: string; Value: number }> }
  const gauge = (name: string): number => json.Gauges.find((g) => g.Name.endsWith(`.runtime.${name}`))!.Value
  const info = await runCli(CONSUL_BIN, ['info'], { env: { CONSUL_HTTP_ADDR: agent.httpAddr } })
  assert.equal(info.code, 0, info.stderr)
  const runtime = info.stdout.slice(info.stdout.indexOf('runtime:\n'))
  const figure = (key: string): number => Number(new RegExp(`^\\t${key} = ([\\d.]+)$`, 'm').exec(runtime)?.[1])
  for (const key of ['goroutines', 'heap_used_bytes', 'rss_bytes', 'heap_total_bytes', 'total_gc_runs', 'total_gc_pause_ns', 'event_loop_lag_ms', 'open_fds']) {
    assert.ok(Number.isFinite(figure(key)), `${key} missing from:\n${runtime}`)
  }
  // Read after the gauges: cumulative figures never fall behind them.
  assert.ok(figure('total_gc_runs') >= gauge('total_gc_runs'))
  assert.ok(figure('total_gc_pause_ns') >= gauge('total_gc_pause_ns'))
  assert.ok(Math.abs(figure('open_fds') - gauge('open_fds')) < 50, `${figure('open_fds')} vs ${gauge('open_fds')}`)
})

test('statsd and dogstatsd receive every observation as it happens, labels folded into the name or sent as tags', async () => {
  await fetch(`${agent.httpAddr}/v1/agent/self`)
  await until('statsd lines', () => (statsd.some((l) => /^consul\.api\.http\.GET\.v1\.agent\.self:[\d.]+\|ms$/.test(l)) ? true : undefined))
  await until('dogstatsd lines', () => (dogstatsd.some((l) => /^consul\.api\.http:[\d.]+\|ms\|#env:test,method:GET,path:v1\.agent\.self$/.test(l)) ? true : undefined))
  await until('runtime gauges pushed', () => (statsd.some((l) => /^consul\.[^.]+\.runtime\.alloc_bytes:\d+\|g$/.test(l)) ? true : undefined))
})

test('DNS answers are timed as dns.domain_query and dns.ptr_query, with the node label', async () => {
  const ask = (name: string, type: 'A' | 'PTR'): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4')
      s.once('message', () => {
        s.close()
        resolve()
      })
      s.once('error', reject)
      s.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ type, name }] }), agent.dnsPort!, '127.0.0.1')
    })
  await ask('consul.service.consul', 'A')
  await ask('1.0.0.127.in-addr.arpa', 'PTR')
  const text = await (await fetch(`${agent.httpAddr}/v1/agent/metrics?format=prometheus`)).text()
  assert.match(text, /^consul_dns_domain_query_count\{node="[^"]+"\} [1-9]/m)
  assert.match(text, /^consul_dns_ptr_query_count\{node="[^"]+"\} 1$/m)
})

test('log_json: every line after the banner is hclog\'s JSON with @level, @message, @module and @timestamp', () => {
  const lines = agent.output().split('\n').filter((l) => l.startsWith('{'))
  assert.ok(lines.length > 5)
  for (const l of lines) {
    const o = JSON.parse(l) as Record<string, string>
    assert.ok(['trace', 'debug', 'info', 'warn', 'error'].includes(o['@level']!), l)
    assert.equal(typeof o['@message'], 'string')
    assert.match(o['@timestamp']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  }
  assert.ok(lines.some((l) => (JSON.parse(l) as Record<string, string>)['@module'] === 'agent'))
  assert.ok(lines.some((l) => (JSON.parse(l) as Record<string, string>)['@module'] === 'agent.http'), 'debug request lines under agent.http')
})

test('log_file rotates past log_rotate_bytes and keeps at most log_rotate_max_files archives', async () => {
  for (let i = 0; i < 60; i++) await fetch(`${agent.httpAddr}/v1/status/leader?n=${i}`)
  const files = await until('rotation', () => {
    const f = readdirSync(logDir)
    return f.some((n) => /^consul-\d+\.log$/.test(n)) ? f : undefined
  })
  assert.ok(files.includes('consul.log'))
  assert.ok(files.filter((n) => /^consul-\d+\.log$/.test(n)).length <= 2, files.join(' '))
  for (const name of files) {
    const text = readFileSync(join(logDir, name), 'utf8')
    assert.ok(Buffer.byteLength(text) <= 2000 + 400, `${name}: ${Buffer.byteLength(text)} bytes`)
    for (const l of text.trim().split('\n')) JSON.parse(l)
  }
})

test('consul monitor -log-level=debug prints the lines a test triggers; -log-json prints them as JSON; a bad level is a clear error', async () => {
  const follow = (args: string[]): { out: () => string; stop: () => Promise<number | null> } => {
    const p = spawn(process.execPath, [CONSUL_BIN, 'monitor', ...args], { env: { ...process.env, CONSUL_HTTP_ADDR: plain.httpAddr }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (out += d.toString()))
    return {
      out: () => out,
      stop: () => {
        const exited = new Promise<number | null>((resolve) => p.once('exit', resolve))
        p.kill('SIGINT')
        return exited
      },
    }
  }
  // The plain agent logs at info: a monitor may ask for more than the console gets.
  const text = follow(['-log-level=debug'])
  const json = follow(['-log-json'])
  // Whole lines only: a chunk may end inside one.
  const reloads = (): number => json.out().slice(0, json.out().lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>)
    .filter((o) => o['@module'] === 'agent' && o['@level'] === 'info' && o['@message']!.startsWith('reloaded configuration') && o['@timestamp']).length
  await until('the monitors to attach', async () => {
    await fetch(`${plain.httpAddr}/v1/agent/self?mark=attach`)
    await fetch(`${plain.httpAddr}/v1/agent/reload`, { method: 'PUT' })
    return text.out().includes('mark=attach') && reloads() > 0 ? true : undefined
  })
  await fetch(`${plain.httpAddr}/v1/kv/monitored?marker=42`, { method: 'PUT', body: 'x' })
  await until('the request line', () => (/\[DEBUG\] agent\.http: Request finished: method=PUT url=\/v1\/kv\/monitored\?marker=42 /.test(text.out()) ? true : undefined))
  const before = reloads()
  await fetch(`${plain.httpAddr}/v1/agent/reload`, { method: 'PUT' })
  await until('the reload line in JSON', () => (reloads() > before ? true : undefined))
  assert.ok(!json.out().includes('Request finished'), 'the JSON monitor asked for info only')
  assert.equal(await text.stop(), 0)
  assert.equal(await json.stop(), 0)
  const bad = await fetch(`${plain.httpAddr}/v1/agent/monitor?loglevel=loud`)
  assert.equal(bad.status, 400)
  assert.equal(await bad.text(), 'Unknown log level: loud')
})

test('a monitor client that never reads does not slow or break the agent: its lines are dropped past the buffer', async () => {
  const sock = net.connect({ host: '127.0.0.1', port: Number(new URL(agent.httpAddr).port) })
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()))
  sock.write('GET /v1/agent/monitor?loglevel=trace HTTP/1.1\r\nHost: x\r\n\r\n')
  sock.pause()
  // Far more log than socket buffers and the monitor's queue hold.
  for (let batch = 0; batch < 25; batch++) await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${agent.httpAddr}/v1/status/leader?pad=${'x'.repeat(6000)}&i=${batch * 50 + i}`)))
  const res = await fetch(`${agent.httpAddr}/v1/agent/self`)
  assert.equal(res.status, 200)
  // Once it reads again, it is told how many lines it missed.
  let got = ''
  sock.on('data', (d: Buffer) => (got += d.toString()))
  sock.resume()
  await until('the dropped-lines notice', async () => {
    await fetch(`${agent.httpAddr}/v1/status/leader?after`)
    return /Monitor dropped \d+ logs during monitor request/.test(got) ? true : undefined
  })
  sock.destroy()
  assert.equal(agent.proc.exitCode, null)
})
