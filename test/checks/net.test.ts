import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createCheckRunner } from '../../src/checks/index.js'
import { FakeClock, Recorder, runOnce } from './helpers.js'

/** A port on loopback that nothing listens on (bound, read, released). */
async function freeTcpPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

test('TCP: an accepted connection is passing', async () => {
  const server = net.createServer((sock) => sock.destroy())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    const r = await runOnce({ tcp: addr })
    assert.deepEqual([r.status, r.output], ['passing', `TCP connect ${addr}: Success`])
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

test('TCP: a refused connection is critical with Go\'s dial error', async () => {
  const port = await freeTcpPort()
  const r = await runOnce({ tcp: `127.0.0.1:${port}` })
  assert.deepEqual([r.status, r.output], ['critical', `dial tcp 127.0.0.1:${port}: connect: connection refused`])
})

test('TCP: IPv6 literal addresses', async () => {
  const server = net.createServer((sock) => sock.destroy())
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '::1', resolve)
    })
  } catch {
    return // No IPv6 loopback in this environment.
  }
  const addr = `[::1]:${(server.address() as AddressInfo).port}`
  try {
    const r = await runOnce({ tcp: addr })
    assert.deepEqual([r.status, r.output], ['passing', `TCP connect ${addr}: Success`])
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

test('UDP: a service that answers is passing', async () => {
  const server = dgram.createSocket('udp4')
  server.on('message', (_msg, rinfo) => server.send('pong', rinfo.port, rinfo.address))
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  const addr = `127.0.0.1:${server.address().port}`
  try {
    // A long timeout: the answer, not the timeout, must end the probe.
    const r = await runOnce({ udp: addr, timeoutMs: 30_000 })
    assert.deepEqual([r.status, r.output], ['passing', `UDP connect ${addr}: Success`])
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

test('UDP: a silent but open port is passing once the timeout passes', async () => {
  const server = dgram.createSocket('udp4')
  let received = 0
  server.on('message', () => received++)
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  const addr = `127.0.0.1:${server.address().port}`
  try {
    const r = await runOnce({ udp: addr, timeoutMs: 200 })
    assert.deepEqual([r.status, r.output], ['passing', `UDP connect ${addr}: Success`])
    assert.equal(received, 1)
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

test('UDP: port unreachable (ECONNREFUSED) is critical', async () => {
  const port = await freeUdpPort()
  const r = await runOnce({ udp: `127.0.0.1:${port}`, timeoutMs: 30_000 })
  assert.equal(r.status, 'critical')
  assert.match(r.output, new RegExp(`^read udp 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}: read: connection refused$`))
})

test('thresholds are wired into real runners: a TCP check warns, then turns critical', async () => {
  const server = net.createServer((sock) => sock.destroy())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const clock = new FakeClock()
  const rec = new Recorder()
  const runner = createCheckRunner(
    { id: 'tcp', name: 'tcp', tcp: `127.0.0.1:${port}`, intervalMs: 5_000, failuresBeforeWarning: 1, failuresBeforeCritical: 2 },
    rec,
    { clock, random: () => 0 },
  )
  runner.start()
  clock.advance(0)
  await runner.idle()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  for (let i = 0; i < 2; i++) {
    clock.advance(5_000)
    await runner.idle()
  }
  runner.stop()
  assert.deepEqual(rec.updates.map((u) => u.status), ['passing', 'warning', 'critical'])
  assert.equal(rec.updates[2]!.output, `dial tcp 127.0.0.1:${port}: connect: connection refused`)
})
