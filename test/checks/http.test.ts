import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import https from 'node:https'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { runOnce, tempDir } from './helpers.js'

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

let server: http.Server
let base = ''
const seen: Seen[] = []
const sockets = new Set<import('node:net').Socket>()

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = ''
  req.on('data', (c: Buffer) => (body += c.toString()))
  req.on('end', () => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    const url = new URL(req.url ?? '/', 'http://x')
    switch (url.pathname) {
      case '/ok':
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('pong')
        return
      case '/busy':
        res.writeHead(429).end('slow down')
        return
      case '/fail':
        res.writeHead(503, 'Service Unavailable').end('down')
        return
      case '/echo':
        res.writeHead(200).end(`${req.method} ${body}`)
        return
      case '/redirect':
        res.writeHead(302, { Location: '/ok' }).end()
        return
      case '/loop':
        res.writeHead(302, { Location: '/loop' }).end()
        return
      case '/big':
        res.writeHead(200).end(`${'a'.repeat(10_000)}TAIL`)
        return
      case '/hang':
        // Never answers: the check's timeout must end it.
        return
      default:
        res.writeHead(404).end('no')
    }
  })
}

before(async () => {
  server = http.createServer(handler)
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

test('HTTP: 2xx passing with Consul\'s output format, GET by default with Consul\'s headers', async () => {
  const r = await runOnce({ http: `${base}/ok` })
  assert.equal(r.status, 'passing')
  assert.equal(r.output, `HTTP GET ${base}/ok: 200 OK Output: pong`)
  const req = seen.at(-1)!
  assert.equal(req.method, 'GET')
  assert.equal(req.headers['user-agent'], 'Consul Health Check')
  assert.equal(req.headers['accept'], 'text/plain, text/*, */*')
  assert.equal(req.headers['connection'], 'close')
})

test('HTTP: 429 warning, other statuses critical', async () => {
  const busy = await runOnce({ http: `${base}/busy` })
  assert.deepEqual([busy.status, busy.output], ['warning', `HTTP GET ${base}/busy: 429 Too Many Requests Output: slow down`])
  const fail = await runOnce({ http: `${base}/fail` })
  assert.deepEqual([fail.status, fail.output], ['critical', `HTTP GET ${base}/fail: 503 Service Unavailable Output: down`])
  const missing = await runOnce({ http: `${base}/nothing` })
  assert.equal(missing.status, 'critical')
})

test('HTTP: method, headers and body are sent', async () => {
  const r = await runOnce({
    http: `${base}/echo`,
    method: 'POST',
    header: { 'X-Probe': ['a', 'b'], 'User-Agent': ['custom'] },
    body: '{"ping":true}',
  })
  assert.deepEqual([r.status, r.output], ['passing', `HTTP POST ${base}/echo: 200 OK Output: POST {"ping":true}`])
  const req = seen.at(-1)!
  assert.equal(req.headers['x-probe'], 'a, b')
  assert.equal(req.headers['user-agent'], 'custom')
})

test('HTTP: redirects are followed unless disabled', async () => {
  const followed = await runOnce({ http: `${base}/redirect` })
  assert.deepEqual([followed.status, followed.output], ['passing', `HTTP GET ${base}/redirect: 200 OK Output: pong`])
  const stopped = await runOnce({ http: `${base}/redirect`, disableRedirects: true })
  assert.deepEqual([stopped.status, stopped.output], ['critical', `HTTP GET ${base}/redirect: 302 Found Output: `])
  const loop = await runOnce({ http: `${base}/loop` })
  assert.deepEqual([loop.status, loop.output], ['critical', `Get "${base}/loop": stopped after 10 redirects`])
})

test('HTTP: the body is cut to outputMaxSize, keeping its end', async () => {
  const r = await runOnce({ http: `${base}/big`, outputMaxSize: 10 })
  assert.equal(r.output, `HTTP GET ${base}/big: 200 OK Output: ${'a'.repeat(6)}TAIL`)
})

test('HTTP: connection refused and timeout are critical with Go-like errors', async () => {
  const closed = http.createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  const refused = await runOnce({ http: `http://127.0.0.1:${port}/` })
  assert.deepEqual([refused.status, refused.output], ['critical', `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`])
  const hung = await runOnce({ http: `${base}/hang`, timeoutMs: 300 })
  assert.deepEqual([hung.status, hung.output], ['critical', `Get "${base}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`])
})

test('HTTPS: a self-signed server fails verification unless tls_skip_verify', async () => {
  const { dir, cleanup } = tempDir('https')
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=check.test', '-addext', 'subjectAltName=DNS:check.test'], { stdio: 'ignore' })
  const tlsServer = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.writeHead(200).end('secure'))
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/`
  try {
    const strict = await runOnce({ http: url })
    assert.equal(strict.status, 'critical')
    assert.ok(strict.output.startsWith(`Get "${url}": `), strict.output)
    const skipped = await runOnce({ http: url, tlsSkipVerify: true })
    assert.deepEqual([skipped.status, skipped.output], ['passing', `HTTP GET ${url}: 200 OK Output: secure`])
    // With the CA trusted and the server name set, verification passes without skipping it.
    const named = await runOnce({ http: url, tlsServerName: 'check.test' }, { httpsCa: readFileSync(cert) })
    assert.equal(named.status, 'passing', named.output)
  } finally {
    tlsServer.closeAllConnections()
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()))
    cleanup()
  }
})
