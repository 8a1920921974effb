import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startAgent, removeDir, tempDir, type RunningAgent } from '../helpers/agent.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

describe('bad input gets the right status and the agent keeps serving', () => {
  let agent: RunningAgent
  let base: string
  let dir: string

  before(async () => {
    dir = tempDir()
    const config = join(dir, 'limits.json')
    writeFileSync(config, JSON.stringify({ limits: { kv_max_value_size: 1024 } }))
    agent = await startAgent({ args: [`-config-file=${config}`] })
    base = agent.httpAddr
  })
  after(async () => {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  })

  const expectStatus = async (path: string, init: RequestInit, status: number, body?: RegExp) => {
    const res = await fetch(base + path, init)
    const text = await res.text()
    assert.equal(res.status, status, `${init.method ?? 'GET'} ${path}: ${text}`)
    if (body) assert.match(text, body, path)
    if (status >= 400) assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    return res
  }

  test('malformed and wrongly shaped transaction bodies', async () => {
    await expectStatus('/v1/txn', { method: 'PUT', body: '{not json' }, 400, /^Failed to parse body/)
    await expectStatus('/v1/txn', { method: 'PUT', body: '{"KV":{}}' }, 400, /JSON array/)
    await expectStatus('/v1/txn', { method: 'PUT', body: '[{"KV":{"Verb":"set","Key":"a","Value":"***"}}]' }, 400, /base64/)
    await expectStatus('/v1/txn', { method: 'PUT', body: '[{"KV":{"Verb":"set","Key":"a","Flags":-1}}]' }, 400, /Flags/)
    await expectStatus('/v1/txn', { method: 'PUT', body: '[{"Nope":{}}]' }, 400, /no KV member/)
  })

  test('oversize values are 413 with the limit named', async () => {
    await expectStatus('/v1/kv/big', { method: 'PUT', body: 'x'.repeat(1025) }, 413, /too large, max size: 1024 bytes/)
    await expectStatus('/v1/kv/big', { method: 'PUT', body: 'x'.repeat(1024) }, 200)
  })

  test('a chunked upload over the limit is 413 too', async () => {
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new TextEncoder().encode('y'.repeat(512)))
        c.close()
      },
    })
    await expectStatus('/v1/kv/chunked', { method: 'PUT', body, duplex: 'half' } as RequestInit, 413)
  })

  test('invalid UTF-8 and broken percent-encoding in keys are 400', async () => {
    await expectStatus('/v1/kv/%FF%FE', {}, 400, /UTF-8/)
    await expectStatus('/v1/kv/%E0%A4%A', { method: 'PUT', body: 'x' }, 400)
  })

  test('missing key names, bad flags, bad cas, conflicting flags', async () => {
    await expectStatus('/v1/kv/', { method: 'PUT', body: 'x' }, 400, /Missing key name/)
    await expectStatus('/v1/kv/', {}, 400, /Missing key name/)
    await expectStatus('/v1/kv/', { method: 'DELETE' }, 400, /Missing key name/)
    await expectStatus('/v1/kv/k?flags=abc', { method: 'PUT', body: 'x' }, 400, /flags/)
    await expectStatus('/v1/kv/k?cas=-3', { method: 'PUT', body: 'x' }, 400, /cas/)
    await expectStatus('/v1/kv/k?cas=0&acquire=abc', { method: 'PUT', body: 'x' }, 400, /Conflicting flags/)
    await expectStatus('/v1/kv/k?recurse&cas=1', { method: 'DELETE' }, 400, /Conflicting flags/)
  })

  test('unknown paths are 404 and wrong methods 405 with Allow', async () => {
    await expectStatus('/v1/nope', {}, 404, /Invalid URL path/)
    await expectStatus('/ui-not-here', {}, 404)
    const res = await expectStatus('/v1/kv/k', { method: 'POST', body: 'x' }, 405)
    assert.equal(res.headers.get('allow'), 'GET,PUT,DELETE')
    const txn = await expectStatus('/v1/txn', { method: 'GET' }, 405)
    assert.equal(txn.headers.get('allow'), 'PUT')
  })

  test('acquiring with a session that does not exist is an error', async () => {
    await expectStatus('/v1/kv/lock?acquire=0f9c2c9a-0000-0000-0000-000000000000', { method: 'PUT', body: 'x' }, 500, /invalid session/)
  })

  test('garbage on the socket does not hurt the agent', async () => {
    const { port } = new URL(base)
    await new Promise<void>((resolve) => {
      const sock = net.connect(Number(port), '127.0.0.1', () => sock.end('\x00\x01GARBAGE \r\n\r\n'))
      sock.on('close', () => resolve())
      sock.on('error', () => resolve())
      sock.resume()
    })
  })

  test('after all of that, the agent still answers', async () => {
    await expectStatus('/v1/kv/still/alive', { method: 'PUT', body: 'yes' }, 200)
    await expectStatus('/v1/kv/still/alive?raw', {}, 200, /^yes$/)
    assert.equal(agent.proc.exitCode, null)
  })
})
