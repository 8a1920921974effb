import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiRequest } from '../../src/http/request.js'

test('the request token comes from ?token, else X-Consul-Token, else Authorization: Bearer, as Consul reads it', async () => {
  const server = http.createServer((raw, res) => res.end(new ApiRequest(raw).token))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const token = async (path: string, headers: Record<string, string> = {}): Promise<string> => (await fetch(base + path, { headers })).text()
  try {
    assert.equal(await token('/v1/kv/a'), '')
    assert.equal(await token('/v1/kv/a?token=q', { 'X-Consul-Token': 'h', Authorization: 'Bearer b' }), 'q')
    assert.equal(await token('/v1/kv/a', { 'X-Consul-Token': 'h', Authorization: 'Bearer b' }), 'h')
    assert.equal(await token('/v1/kv/a', { Authorization: 'Bearer b' }), 'b')
    assert.equal(await token('/v1/kv/a', { Authorization: 'bearer  b2' }), 'b2')
    assert.equal(await token('/v1/kv/a', { Authorization: 'Basic dXNlcjpwdw==' }), '', 'only a bearer token is a token')
  } finally {
    server.close()
  }
})
