import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { certProfile, createCa, createCert, PkiError } from '../../src/agent/pki.js'

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

/** The private key signs what the certificate's public key verifies: they belong together. */
function keyMatches(certPem: string, keyPem: string): boolean {
  const data = Buffer.from('pki test')
  return verify('sha256', data, new X509Certificate(certPem).publicKey, sign('sha256', data, createPrivateKey(keyPem)))
}

test('CA: self-signed ECDSA P-256 CA with Consul\'s default name and validity', async () => {
  const ca = await createCa()
  const cert = new X509Certificate(ca.certPem)
  assert.equal(cert.ca, true)
  assert.match(cert.subject, /^CN=Consul Agent CA \d+$/)
  assert.equal(cert.issuer, cert.subject)
  assert.ok(cert.verify(cert.publicKey), 'self-signed')
  assert.equal(cert.publicKey.asymmetricKeyType, 'ec')
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  assert.ok(keyMatches(ca.certPem, ca.keyPem))
  assert.match(ca.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/)
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000
  assert.ok(days > 1824 && days < 1826, `validity ${days} days`)
})

test('CA: common name and days are honoured', async () => {
  const ca = await createCa({ commonName: 'Test Root', days: 10 })
  const cert = new X509Certificate(ca.certPem)
  assert.equal(cert.subject, 'CN=Test Root')
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000
  assert.ok(days > 9 && days < 11, `validity ${days} days`)
  await assert.rejects(createCa({ days: 0 }), PkiError)
})

test('server certificate: names, usages, issuer, chains to the CA, key matches', async () => {
  const ca = await createCa()
  const caCert = new X509Certificate(ca.certPem)
  const srv = await createCert({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    kind: 'server',
    datacenter: 'dc7',
    domain: 'example',
    days: 30,
    node: 'n1',
    additionalDnsNames: ['consul.example.com', ' '],
    additionalIps: ['10.0.0.5', '::1'],
  })
  const cert = new X509Certificate(srv.certPem)
  assert.equal(cert.subject, 'CN=server.dc7.example')
  assert.equal(cert.issuer, caCert.subject)
  assert.equal(cert.ca, false)
  assert.ok(cert.checkIssued(caCert))
  assert.ok(cert.verify(caCert.publicKey))
  assert.ok(keyMatches(srv.certPem, srv.keyPem))
  const sans = cert.subjectAltName?.split(', ') ?? []
  for (const san of ['DNS:consul.example.com', 'DNS:n1.server.dc7.example', 'DNS:server.dc7.example', 'DNS:localhost', 'IP Address:10.0.0.5', 'IP Address:127.0.0.1']) {
    assert.ok(sans.includes(san), `${san} in ${cert.subjectAltName}`)
  }
  assert.ok(sans.some((s) => /^IP Address:0:0:0:0:0:0:0:1$/i.test(s)), `::1 in ${cert.subjectAltName}`)
  assert.deepEqual([...(cert.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH])
  assert.equal(cert.checkHost('server.dc7.example'), 'server.dc7.example')
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1')
  assert.equal(srv.profile.filePrefix, 'dc7-server-example')
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000
  assert.ok(days > 29 && days < 31, `validity ${days} days`)
})

test('client and cli certificates carry Consul\'s names', async () => {
  const ca = await createCa()
  const client = new X509Certificate((await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'client' })).certPem)
  assert.equal(client.subject, 'CN=client.dc1.consul')
  assert.equal(client.subjectAltName, 'DNS:client.dc1.consul, DNS:localhost, IP Address:127.0.0.1')
  assert.deepEqual([...(client.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH])

  const cli = new X509Certificate((await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'cli', additionalDnsNames: ['ignored.example'] })).certPem)
  assert.equal(cli.subject, 'CN=cli.dc1.consul')
  assert.equal(cli.subjectAltName, 'DNS:cli.dc1.consul, DNS:localhost')
  assert.ok(cli.verify(new X509Certificate(ca.certPem).publicKey))
  assert.equal(certProfile({ kind: 'client', datacenter: 'eu', domain: 'corp' }).filePrefix, 'eu-client-corp')
  assert.equal(certProfile({ kind: 'cli' }).filePrefix, 'dc1-cli-consul')
})

test('a PKCS#8 CA key is accepted as well as SEC1', async () => {
  const ca = await createCa()
  const pkcs8 = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString()
  const leaf = await createCert({ caCertPem: ca.certPem, caKeyPem: pkcs8, kind: 'server' })
  assert.ok(new X509Certificate(leaf.certPem).verify(new X509Certificate(ca.certPem).publicKey))
})

test('bad inputs are refused with a reason', async () => {
  const ca = await createCa()
  const other = await createCa()
  await assert.rejects(createCert({ caCertPem: ca.certPem, caKeyPem: other.keyPem, kind: 'server' }), /does not belong to the CA certificate/)
  await assert.rejects(createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server', additionalIps: ['not-an-ip'] }), /invalid IP address: not-an-ip/)
  await assert.rejects(createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'client', node: 'n1' }), /-node requires -server/)
  await assert.rejects(createCert({ caCertPem: 'garbage', caKeyPem: ca.keyPem, kind: 'server' }), /cannot parse the CA certificate/)
  await assert.rejects(createCert({ caCertPem: ca.certPem, caKeyPem: 'garbage', kind: 'server' }), /cannot parse the CA key/)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  await assert.rejects(createCert({ caCertPem: ca.certPem, caKeyPem: rsa, kind: 'server' }), /ECDSA P-256/)
  const leaf = await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server' })
  await assert.rejects(createCert({ caCertPem: leaf.certPem, caKeyPem: leaf.keyPem, kind: 'server' }), /not a CA/)
})

/** Serves HTTPS on 127.0.0.1 with the certificate and makes one request trusting only `caPem`. */
async function handshake(caPem: string, cert: { certPem: string; keyPem: string }): Promise<string> {
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    return await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, ca: caPem, agent: false }, (res) => {
          let body = ''
          res.on('data', (d: Buffer) => (body += d.toString()))
          res.on('end', () => resolve(body))
        })
        .on('error', reject)
    })
  } finally {
    server.closeAllConnections()
    server.close()
  }
}

test('Node\'s TLS stack accepts the key and certificate, and trusts the chain', async () => {
  const ca = await createCa()
  const srv = await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server' })
  assert.equal(await handshake(ca.certPem, srv), 'ok')
  const other = await createCa()
  await assert.rejects(handshake(other.certPem, srv), /self[- ]signed|unable to verify|unable to get local issuer/i)
})

test('name constraints: the CA only vouches for its domain and localhost', async () => {
  const ca = await createCa({ nameConstraint: true, domain: 'consul' })
  const pub = createPublicKey(ca.certPem)
  assert.equal(pub.asymmetricKeyType, 'ec')
  const inside = await createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server' })
  assert.equal(await handshake(ca.certPem, inside), 'ok')
  // createCert refuses to sign outside the constraints (TLS clients would reject the result).
  await assert.rejects(
    createCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: 'server', additionalDnsNames: ['evil.example.com'] }),
    /name constraints do not permit evil\.example\.com \(permitted: consul, localhost\)/,
  )
  // -additional-name-constraint widens the permitted set; the default names then fall outside.
  const extra = await createCa({ nameConstraint: true, domain: 'example.com', additionalNameConstraints: ['corp.net'] })
  const ok = await createCert({ caCertPem: extra.certPem, caKeyPem: extra.keyPem, kind: 'server', domain: 'example.com', additionalDnsNames: ['api.corp.net'] })
  assert.match(new X509Certificate(ok.certPem).subjectAltName ?? '', /DNS:api\.corp\.net/)
  await assert.rejects(createCert({ caCertPem: extra.certPem, caKeyPem: extra.keyPem, kind: 'server' }), /do not permit server\.dc1\.consul/)
})
