/**
 * limits.http_max_conns_per_client: one client IP holds at most that many connections; the one over
 * it gets Consul's 429 and is closed, and a connection freed makes room again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { removeDir, startAgent } from '../helpers/agent.js'

const open = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })

/** Everything the server sends until it closes the socket (or `ms` pass). */
const drain = (s: net.Socket, ms = 2000): Promise<string> =>
  new Promise((resolve) => {
    let out = ''
    const timer = setTimeout(() => resolve(out), ms)
    s.on('data', (d) => (out += d.toString()))
    s.once('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
  })

test('the connection over limits.http_max_conns_per_client gets 429 and is closed; a freed one makes room', async () => {
  const agent = await startAgent({ dev: true, connLimit: 3 })
  try {
    const port = Number(new URL(agent.httpAddr).port)
    const held = await Promise.all([open(port), open(port), open(port)])
    const over = await open(port)
    const answer = await drain(over)
    assert.match(answer, /^HTTP\/1\.1 429 Too Many Requests\r\n/)
    assert.match(answer, /\r\n\r\nYour IP is issuing too many concurrent connections, please rate limit your calls\n$/)
    // The held connections still work.
    held[0]!.write('GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.match(await drain(held[0]!), /^HTTP\/1\.1 200 OK/)
    // One closed: a new connection is served.
    let res: Response | undefined
    for (let i = 0; i < 50 && res?.status !== 200; i++) {
      res = await fetch(`${agent.httpAddr}/v1/status/leader`, { headers: { Connection: 'close' } }).catch(() => undefined)
      if (res?.status !== 200) await new Promise((r) => setTimeout(r, 20))
    }
    assert.equal(res?.status, 200)
    for (const s of held) s.destroy()
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
  }
})
