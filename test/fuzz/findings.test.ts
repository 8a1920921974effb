/**
 * What the HTTP API fuzzer found, each kept as a regression test against a live dev agent: the
 * request as the fuzzer sent it and the answer Consul gives.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, type RunningAgent } from '../helpers/agent.js'
import { until } from '../helpers/poll.js'
import { exchange, request } from './http.js'

let agent: RunningAgent
let port: number
before(async () => {
  agent = await startAgent({ dev: true })
  port = Number(new URL(agent.httpAddr).port)
})
after(() => agent.stop())

async function send(text: string): Promise<{ status: number; body: string }> {
  const { answer, timedOut } = await exchange(port, '127.0.0.1', [Buffer.from(text, 'latin1')], 0, true)
  assert.equal(timedOut, false)
  const s = answer.toString('latin1')
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(s)?.[1]), body: s.slice(s.indexOf('\r\n\r\n') + 4) }
}

test('a client that half-closes before its whole body is not an error the agent logs (it was a 500 "aborted")', async () => {
  const cut = await exchange(port, '127.0.0.1', [Buffer.from('PUT /v1/kv/lock HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello')], 0, true)
  assert.equal(cut.timedOut, false, 'the agent closes the connection')
  // The agent logs in order: once a later request's line is out, an error for the cut one would be too.
  assert.equal((await send(request('PUT', '/v1/agent/reload'))).status, 200)
  await until('the reload is logged', () => /reloaded configuration/.test(agent.output()) || undefined)
  assert.doesNotMatch(agent.output(), /\[ERROR\]/)
})

test('a session whose Checks holds a number (a uint64 one too) is a 400, not a BigInt serialisation error', async () => {
  const r = await send(request('PUT', '/v1/session/create', '{"Name":"fz","Checks":[18446744073709551615]}'))
  assert.deepEqual(r, { status: 400, body: 'Request decode failed: Checks must be a list of strings' })
})

test('a catalog registration whose NodeMeta value is a number is a 400', async () => {
  const r = await send(request('PUT', '/v1/catalog/register', '{"Node":"n1","Address":"10.0.0.1","NodeMeta":{"rack":18446744073709551615}}'))
  assert.deepEqual(r, { status: 400, body: 'Request decode failed: NodeMeta must be an object of strings' })
  const ok = await send(request('PUT', '/v1/catalog/register', '{"Node":"n1","Address":"10.0.0.1","NodeMeta":{"rack":"r1"}}'))
  assert.deepEqual(ok, { status: 200, body: 'true' })
})
