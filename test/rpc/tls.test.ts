/**
 * Server RPC over TLS on real loopback sockets, with certificates made by our PKI (the same that
 * `consul tls cert create` writes): verify_incoming shuts out plaintext and certificates of another
 * CA, verify_outgoing checks the chain, verify_server_hostname the name, and a client certificate
 * reaches every method but the servers-only ones. Each refusal is one log line and one count.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RpcServer, type RpcServerOptions } from '../../src/rpc/server.js'
import { RpcTls, type RpcTlsOptions } from '../../src/rpc/tls.js'
import { createCa, createCert, type PemPair } from '../../src/agent/pki.js'

interface Pki {
  ca: PemPair
  server: PemPair
  client: PemPair
}

async function pki(): Promise<Pki> {
  const ca = await createCa()
  const server = await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server', datacenter: 'dc1' })
  const client = await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'client', datacenter: 'dc1' })
  return { ca, server, client }
}

const ours = await pki()
const theirs = await pki()

function tls(cert: PemPair | undefined, o: Partial<Omit<RpcTlsOptions, 'ca'>> & { ca?: PemPair } = {}): RpcTls {
  return new RpcTls({ verifyIncoming: false, verifyOutgoing: false, ...o, ca: (o.ca ?? ours.ca).certPem, cert: cert?.certPem, key: cert?.keyPem })
}

interface Started {
  rpc: RpcServer
  logs: string[]
  address: string
}

const open: RpcServer[] = []

async function start(id: string, opts: Partial<RpcServerOptions> = {}): Promise<Started> {
  const logs: string[] = []
  const rpc = new RpcServer({ id, datacenter: 'dc1', cluster: 'c', log: (level, m) => logs.push(`${level} ${m}`), limits: { backoffMaxMs: 50 }, ...opts })
  open.push(rpc)
  const { host, port } = await rpc.listen('127.0.0.1', 0)
  rpc.handle('Test.Echo', (body) => body)
  rpc.handle('Raft.Test', (body) => body, { serversOnly: true })
  return { rpc, logs, address: `${host}:${port}` }
}

test.after(async () => {
  await Promise.all(open.map((r) => r.close()))
})

const strict = { verifyIncoming: true, verifyOutgoing: true, serverDomain: 'consul' }

test('verify_incoming: TLS with a certificate of the CA is served, plaintext and a foreign CA are refused with the reason', async () => {
  const b = await start('b', { tls: tls(ours.server, strict) })
  const good = await start('good', { tls: tls(ours.server, strict) })
  assert.deepEqual(await good.rpc.call(b.address, 'Test.Echo', 'hi'), { ok: true, value: 'hi' })
  assert.deepEqual(await good.rpc.call(b.address, 'Raft.Test', 1), { ok: true, value: 1 }, 'a server certificate may call the servers-only methods')

  const plain = await start('plain')
  const r = await plain.rpc.call(b.address, 'Test.Echo', 'hi', { timeoutMs: 2000 })
  assert.equal(r.ok, false)
  assert.match(JSON.stringify(r), /verify_incoming wants TLS/, 'the plaintext dialer hears why')
  assert.ok(plain.logs.some((l) => /refused this server: tls: a plaintext connection/.test(l)), plain.logs.join('\n'))

  const foreign = await start('foreign', { tls: new RpcTls({ ...strict, ca: ours.ca.certPem, cert: theirs.server.certPem, key: theirs.server.keyPem }) })
  const f = await foreign.rpc.call(b.address, 'Test.Echo', 'hi', { timeoutMs: 2000 })
  assert.equal(f.ok, false)

  const nocert = await start('nocert', { tls: tls(undefined, { verifyOutgoing: true }) })
  const n = await nocert.rpc.call(b.address, 'Test.Echo', 'hi', { timeoutMs: 2000 })
  assert.equal(n.ok, false)

  const stats = b.rpc.stats()
  assert.equal(stats.refused_tls, 3, `one refusal each for plaintext, a foreign CA and no certificate: ${b.logs.join('\n')}`)
  assert.ok(b.logs.some((l) => /refused a connection from .*: tls: a plaintext connection/.test(l)))
  assert.ok(b.logs.some((l) => /refused a connection from .*: tls: the peer presented no certificate/.test(l)), b.logs.join('\n'))
  assert.deepEqual(await good.rpc.call(b.address, 'Test.Echo', 'still'), { ok: true, value: 'still' }, 'good peers are still served')
})

test('verify_outgoing checks the chain, verify_server_hostname the name server.<dc>.<domain>', async () => {
  // A listener that takes TLS but checks nothing: what the dialer trusts is the dialer's business.
  const impostor = await start('impostor', { tls: tls(theirs.server, { ca: theirs.ca }) })
  const dialer = await start('dialer', { tls: tls(ours.server, { verifyOutgoing: true }) })
  const r = await dialer.rpc.call(impostor.address, 'Test.Echo', 'x', { timeoutMs: 2000 })
  assert.equal(r.ok, false)
  assert.match(JSON.stringify(r), /not signed by the CA in ca_file/)

  // A client certificate of the right CA: the chain is fine, the name is not a server's.
  const clientAsServer = await start('client-as-server', { tls: tls(ours.client) })
  assert.deepEqual(await dialer.rpc.call(clientAsServer.address, 'Test.Echo', 'x'), { ok: true, value: 'x' }, 'without verify_server_hostname a CA-signed certificate is enough')
  const named = await start('named', { tls: tls(ours.server, { serverDomain: 'consul' }) })
  const n = await named.rpc.call(clientAsServer.address, 'Test.Echo', 'x', { timeoutMs: 2000 })
  assert.equal(n.ok, false)
  assert.match(JSON.stringify(n), /not valid for server\.dc1\.consul/)
  assert.deepEqual(await named.rpc.call(impostor.address, 'Test.Echo', 'x', { timeoutMs: 2000 }).then((x) => x.ok), false)

  // Another datacenter's server certificate on a server of dc1: the name follows the peer's hello.
  const dc2cert = await createCert({ caCertPem: ours.ca.certPem, caKeyPem: ours.ca.keyPem, kind: 'server', datacenter: 'dc2' })
  const liar = await start('liar', { tls: tls(dc2cert) })
  const l = await named.rpc.call(liar.address, 'Test.Echo', 'x', { timeoutMs: 2000 })
  assert.equal(l.ok, false)
  assert.match(JSON.stringify(l), /not valid for server\.dc1\.consul/)
  const good = await start('good', { tls: tls(ours.server) })
  assert.deepEqual(await named.rpc.call(good.address, 'Test.Echo', 'x'), { ok: true, value: 'x' })
})

test('under verify_incoming and verify_server_hostname a client certificate reaches every method but the servers-only ones', async () => {
  const server = await start('server', { tls: tls(ours.server, strict) })
  const agent = await start('agent', { tls: tls(ours.client, strict) })
  assert.deepEqual(await agent.rpc.call(server.address, 'Test.Echo', 'kv'), { ok: true, value: 'kv' })
  const raft = await agent.rpc.call(server.address, 'Raft.Test', 1)
  assert.equal(raft.ok, false)
  assert.deepEqual(raft.ok ? undefined : raft.error.code, 'permission')
  assert.match(raft.ok ? '' : raft.error.message, /Raft\.Test is for servers only: its certificate .* is not valid for server\.dc1\.consul/)
  assert.equal(server.rpc.stats().not_server, 1)
  // A server without verify_server_hostname does not ask about its callers' names.
  const lax = await start('lax', { tls: tls(ours.server, { verifyIncoming: true }) })
  assert.deepEqual(await agent.rpc.call(lax.address, 'Raft.Test', 2), { ok: true, value: 2 })
})

test('plaintext stays welcome without verify_incoming, so a cluster can move to TLS one server at a time', async () => {
  const moving = await start('moving', { tls: tls(ours.server) })
  const plain = await start('plain')
  const tlsPeer = await start('tls-peer', { tls: tls(ours.server, { verifyOutgoing: true }) })
  assert.deepEqual(await plain.rpc.call(moving.address, 'Raft.Test', 'p'), { ok: true, value: 'p' })
  assert.deepEqual(await tlsPeer.rpc.call(moving.address, 'Raft.Test', 't'), { ok: true, value: 't' })
  assert.deepEqual(await moving.rpc.call(plain.address, 'Test.Echo', 'back'), { ok: true, value: 'back' }, 'its own dials stay plaintext until verify_outgoing')
  assert.equal(moving.rpc.stats().refused_tls, 0)
})
