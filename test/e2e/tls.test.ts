import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import { CONSUL_BIN, CONSULKV_BIN, removeDir, runCli, startAgent, tempDir, type RunningAgent } from '../helpers/agent.js'

/** Runs `consul ...` in `dir` and insists it succeeded. */
async function consulOk(dir: string, args: string[]): Promise<string> {
  const res = await runCli(CONSUL_BIN, args, { cwd: dir })
  assert.equal(res.code, 0, `consul ${args.join(' ')}: ${res.stdout}${res.stderr}`)
  return res.stdout
}

interface Pki {
  dir: string
  ca: string
  serverCert: string
  serverKey: string
}

/** A CA and a server certificate made by the real CLI, the way a user would. */
async function makePki(dir: string): Promise<Pki> {
  await consulOk(dir, ['tls', 'ca', 'create'])
  await consulOk(dir, ['tls', 'cert', 'create', '-server', '-dc', 'dc1'])
  return { dir, ca: join(dir, 'consul-agent-ca.pem'), serverCert: join(dir, 'dc1-server-consul-0.pem'), serverKey: join(dir, 'dc1-server-consul-0-key.pem') }
}

/** Starts an agent serving HTTPS with the PKI's server certificate. */
async function startTlsAgent(pki: Pki, extra: Record<string, unknown> = {}): Promise<RunningAgent> {
  const configFile = join(pki.dir, 'tls.json')
  writeFileSync(configFile, JSON.stringify({ tls: { defaults: { ca_file: pki.ca, cert_file: pki.serverCert, key_file: pki.serverKey, ...extra } } }))
  const agent = await startAgent({ args: ['-https-port=0', `-config-file=${configFile}`] })
  assert.ok(agent.httpsAddr, `agent logged no HTTPS listener:\n${agent.output()}`)
  return agent
}

/** `127.0.0.1:PORT` of the agent's HTTPS listener, the form consulkv's --consul takes. */
function hostPort(agent: RunningAgent): string {
  return new URL(agent.httpsAddr!).host
}

/** Stops the agent (if it started) and removes its data dir and the test's temp dir. */
async function cleanup(agent: RunningAgent | undefined, dir: string): Promise<void> {
  if (agent) {
    await agent.stop()
    removeDir(agent.dataDir)
  }
  removeDir(dir)
}

test('tls ca create and tls cert create write Consul\'s files and refuse to overwrite', async () => {
  const dir = tempDir('consul-tls-')
  try {
    const caOut = await consulOk(dir, ['tls', 'ca', 'create'])
    assert.equal(caOut, '==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n')
    assert.equal(statSync(join(dir, 'consul-agent-ca-key.pem')).mode & 0o077, 0, 'CA key is private to its owner')
    const caPem = readFileSync(join(dir, 'consul-agent-ca.pem'), 'utf8')

    const again = await runCli(CONSUL_BIN, ['tls', 'ca', 'create'], { cwd: dir })
    assert.equal(again.code, 1)
    assert.match(again.stderr, /consul-agent-ca\.pem already exists\./)
    assert.equal(readFileSync(join(dir, 'consul-agent-ca.pem'), 'utf8'), caPem, 'existing CA untouched')

    const first = await consulOk(dir, ['tls', 'cert', 'create', '-server', '-dc', 'dc1'])
    assert.match(first, /==> WARNING: Server Certificates grants authority/)
    assert.match(first, /==> Using consul-agent-ca\.pem and consul-agent-ca-key\.pem\n/)
    assert.match(first, /==> Saved dc1-server-consul-0\.pem\n==> Saved dc1-server-consul-0-key\.pem\n$/)
    // The next certificate takes the next free number instead of overwriting.
    assert.match(await consulOk(dir, ['tls', 'cert', 'create', '-server', '-additional-ipaddress=10.9.8.7']), /==> Saved dc1-server-consul-1\.pem\n/)
    assert.match(await consulOk(dir, ['tls', 'cert', 'create', '-client']), /==> Saved dc1-client-consul-0\.pem\n==> Saved dc1-client-consul-0-key\.pem\n$/)
    assert.match(await consulOk(dir, ['tls', 'cert', 'create', '-cli']), /==> Saved dc1-cli-consul-0\.pem\n/)

    const ca = new X509Certificate(caPem)
    const server0 = new X509Certificate(readFileSync(join(dir, 'dc1-server-consul-0.pem')))
    assert.ok(server0.verify(ca.publicKey))
    assert.equal(server0.subject, 'CN=server.dc1.consul')
    assert.match(server0.subjectAltName ?? '', /DNS:server\.dc1\.consul, DNS:localhost, IP Address:127\.0\.0\.1/)
    assert.match(new X509Certificate(readFileSync(join(dir, 'dc1-server-consul-1.pem'))).subjectAltName ?? '', /IP Address:10\.9\.8\.7/)
    assert.equal(new X509Certificate(readFileSync(join(dir, 'dc1-client-consul-0.pem'))).subject, 'CN=client.dc1.consul')

    const none = await runCli(CONSUL_BIN, ['tls', 'cert', 'create'], { cwd: dir })
    assert.equal(none.code, 1)
    assert.match(none.stderr, /Please provide either -server, -client, or -cli/)
    const noCa = await runCli(CONSUL_BIN, ['tls', 'cert', 'create', '-client', '-ca=missing.pem'], { cwd: dir })
    assert.equal(noCa.code, 1)
    assert.match(noCa.stderr, /Error reading CA: .*missing\.pem/)

    const otherDomain = await consulOk(dir, ['tls', 'ca', 'create', '-domain=example', '-days=30'])
    assert.match(otherDomain, /==> Saved example-agent-ca\.pem\n==> Saved example-agent-ca-key\.pem\n/)
    assert.match(await consulOk(dir, ['tls', 'cert', 'create', '-server', '-domain=example', '-dc=eu']), /==> Using example-agent-ca\.pem and example-agent-ca-key\.pem\n[\s\S]*==> Saved eu-server-example-0\.pem/)
    assert.ok(existsSync(join(dir, 'eu-server-example-0-key.pem')))
  } finally {
    removeDir(dir)
  }
})

test('tls commands document themselves with examples', async () => {
  for (const cmd of [['tls', 'ca', 'create'], ['tls', 'cert', 'create']]) {
    const res = await runCli(CONSUL_BIN, [...cmd, '--help'])
    assert.equal(res.code, 0)
    assert.match(res.stdout, /EXAMPLES/)
    assert.match(res.stdout, new RegExp(`consul ${cmd.join(' ')}`))
  }
})

test('consulkv over HTTPS against an agent using a CA made by consul tls ca create', async () => {
  const dir = tempDir('consul-tls-')
  let agent: RunningAgent | undefined
  try {
    const pki = await makePki(dir)
    agent = await startTlsAgent(pki)
    const addr = `--consul=${hostPort(agent)}`
    const trustEnv = { env: { CONSUL_CACERT: pki.ca } }

    const write = await runCli(CONSULKV_BIN, ['write', '--ssl', addr, 'nodes/config/test', 'Hello World'], trustEnv)
    assert.equal(write.code, 0, write.stderr)
    const read = await runCli(CONSULKV_BIN, ['read', '--ssl', addr, 'nodes/config/test'], trustEnv)
    assert.equal(read.code, 0, read.stderr)
    assert.equal(read.stdout, 'Hello World\n')

    // --ca-file instead of CONSUL_CACERT.
    const viaFlag = await runCli(CONSULKV_BIN, ['read', '--ssl', `--ca-file=${pki.ca}`, addr, 'nodes/config/test'], { env: { CONSUL_CACERT: '' } })
    assert.equal(viaFlag.code, 0, viaFlag.stderr)
    assert.equal(viaFlag.stdout, 'Hello World\n')

    // No CA and verification on: the agent's certificate cannot be trusted.
    const untrusted = await runCli(CONSULKV_BIN, ['read', '--ssl', addr, 'nodes/config/test'], { env: { CONSUL_CACERT: '' } })
    assert.equal(untrusted.code, 2)
    assert.equal(untrusted.stdout, '')
    assert.equal(untrusted.stderr.trim().split('\n').length, 1, `one-line reason: ${untrusted.stderr}`)
    assert.match(untrusted.stderr, /certificate/i)

    // No CA but --ssl-verify=false: accepted without checking.
    const unverified = await runCli(CONSULKV_BIN, ['read', '--ssl', '--ssl-verify=false', addr, 'nodes/config/test'], { env: { CONSUL_CACERT: '' } })
    assert.equal(unverified.code, 0, unverified.stderr)
    assert.equal(unverified.stdout, 'Hello World\n')

    // --ssl without --consul takes CONSUL_HTTP_ADDR...
    const fromEnv = await runCli(CONSULKV_BIN, ['read', '--ssl', 'nodes/config/test'], { env: { CONSUL_CACERT: pki.ca, CONSUL_HTTP_ADDR: hostPort(agent) } })
    assert.deepEqual(fromEnv, { code: 0, stdout: 'Hello World\n', stderr: '' })
    // ...and TLS against the plain HTTP port says so in one line, not as OpenSSL's "wrong version number".
    const plain = await runCli(CONSULKV_BIN, ['read', '--ssl', `--consul=${new URL(agent.httpAddr).host}`, 'nodes/config/test'], trustEnv)
    assert.equal(plain.code, 2)
    assert.equal(plain.stderr.split('\n').length, 2, plain.stderr)
    assert.match(plain.stderr, /^consulkv: Error connecting to https:\/\/127\.0\.0\.1:\d+: the server did not answer the TLS handshake; is this a plain HTTP port\?/)
    assert.doesNotMatch(plain.stderr, /wrong version number/)

    const del = await runCli(CONSULKV_BIN, ['delete', '--ssl', '--recurse', addr, 'nodes/config/test'], trustEnv)
    assert.equal(del.code, 0, del.stderr)
    const gone = await runCli(CONSULKV_BIN, ['read', '--ssl', addr, 'nodes/config/test'], trustEnv)
    assert.equal(gone.code, 1)
    assert.equal(gone.stdout, '')
  } finally {
    await cleanup(agent, dir)
  }
})

/** One GET over HTTPS trusting `ca`, optionally presenting a client certificate. */
function httpsGet(url: string, opts: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ...opts, agent: false }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', reject)
      })
      .on('error', reject)
  })
}

test('verify_incoming: a client without a certificate is refused, one with a CA-signed certificate is served', async () => {
  const dir = tempDir('consul-tls-')
  let agent: RunningAgent | undefined
  try {
    const pki = await makePki(dir)
    await consulOk(dir, ['tls', 'cert', 'create', '-client'])
    await consulOk(dir, ['tls', 'cert', 'create', '-cli'])
    agent = await startTlsAgent(pki, { verify_incoming: true })
    const url = `${agent.httpsAddr}/v1/status/leader`
    const ca = readFileSync(pki.ca)

    await assert.rejects(httpsGet(url, { ca }), (err: NodeJS.ErrnoException) => {
      // TLS 1.3 reports the server's refusal as an alert or a reset, depending on timing.
      assert.match(`${err.code ?? ''} ${err.message}`, /certificate|alert|ECONNRESET|socket hang up|EPIPE/i)
      return true
    })

    const client = await httpsGet(url, { ca, cert: readFileSync(join(dir, 'dc1-client-consul-0.pem')), key: readFileSync(join(dir, 'dc1-client-consul-0-key.pem')) })
    assert.equal(client.status, 200)
    assert.match(client.body, /^"127\.0\.0\.1:\d+"$/)

    const cli = await httpsGet(url, { ca, cert: readFileSync(join(dir, 'dc1-cli-consul-0.pem')), key: readFileSync(join(dir, 'dc1-cli-consul-0-key.pem')) })
    assert.equal(cli.status, 200)

    // A certificate from another CA is refused as well.
    const other = tempDir('consul-tls-other-')
    try {
      await consulOk(other, ['tls', 'ca', 'create'])
      await consulOk(other, ['tls', 'cert', 'create', '-client'])
      await assert.rejects(httpsGet(url, { ca, cert: readFileSync(join(other, 'dc1-client-consul-0.pem')), key: readFileSync(join(other, 'dc1-client-consul-0-key.pem')) }))
    } finally {
      removeDir(other)
    }

    // consulkv presents a client certificate through Consul's environment variables...
    const kv = await runCli(CONSULKV_BIN, ['write', '--ssl', `--consul=${hostPort(agent)}`, 'mtls/key', 'v'], {
      env: { CONSUL_CACERT: pki.ca, CONSUL_CLIENT_CERT: join(dir, 'dc1-client-consul-0.pem'), CONSUL_CLIENT_KEY: join(dir, 'dc1-client-consul-0-key.pem') },
    })
    assert.equal(kv.code, 0, kv.stderr)
    // ...or through --client-cert and --client-key; without one it is refused.
    const noCertEnv = { env: { CONSUL_CACERT: pki.ca, CONSUL_CLIENT_CERT: '', CONSUL_CLIENT_KEY: '' } }
    const byFlags = await runCli(CONSULKV_BIN, ['read', '--ssl', `--consul=${hostPort(agent)}`, `--client-cert=${join(dir, 'dc1-cli-consul-0.pem')}`, `--client-key=${join(dir, 'dc1-cli-consul-0-key.pem')}`, 'mtls/key'], noCertEnv)
    assert.deepEqual(byFlags, { code: 0, stdout: 'v\n', stderr: '' })
    const noCert = await runCli(CONSULKV_BIN, ['read', '--ssl', `--consul=${hostPort(agent)}`, 'mtls/key'], noCertEnv)
    assert.equal(noCert.code, 2)
    assert.equal(noCert.stdout, '')
  } finally {
    await cleanup(agent, dir)
  }
})
