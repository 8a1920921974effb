/**
 * `consul agent` as a user runs it: reloads compared against the running configuration, flags
 * this build does not have yet, the start-up banner, and config keys it refuses or warns about.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, removeDir, runCli, tempDir, CONSUL_BIN } from '../helpers/agent.js'

test('consul reload: a restart-needing change, then reverted, needs no restart any more', async () => {
  const dir = tempDir('reload-')
  const file = join(dir, 'agent.json')
  writeFileSync(file, JSON.stringify({ log_level: 'info' }))
  const agent = await startAgent({ args: [`-config-file=${file}`] })
  try {
    const env = { CONSUL_HTTP_ADDR: agent.httpAddr }
    writeFileSync(file, JSON.stringify({ log_level: 'info', datacenter: 'elsewhere' }))
    const changed = await runCli(CONSUL_BIN, ['reload'], { env })
    assert.equal(changed.code, 0, changed.stderr)
    assert.match(changed.stderr, /only after a restart: datacenter/)
    writeFileSync(file, JSON.stringify({ log_level: 'debug' }))
    const reverted = await runCli(CONSUL_BIN, ['reload'], { env })
    assert.equal(reverted.code, 0, reverted.stderr)
    assert.equal(reverted.stderr, '', 'the running datacenter is the file\'s again')
    const self = (await (await fetch(`${agent.httpAddr}/v1/agent/self`)).json()) as { Config: { Datacenter: string }; DebugConfig: { LogLevel: string } }
    assert.equal(self.Config.Datacenter, 'dc1')
    assert.equal(self.DebugConfig.LogLevel, 'DEBUG')
    writeFileSync(file, JSON.stringify({ log_level: 'debug', datacenter: 'elsewhere' }))
    assert.match((await runCli(CONSUL_BIN, ['reload'], { env })).stderr, /only after a restart: datacenter/, 'changed again: warned again')
  } finally {
    await agent.stop()
    removeDir(agent.dataDir)
    removeDir(dir)
  }
})

test('an ACL config that would deny stops the agent with a clear message; unsupported keys are warned about at start', async () => {
  const dir = tempDir('acl-')
  try {
    const deny = join(dir, 'acl.hcl')
    writeFileSync(deny, 'acl {\n  enabled        = true\n  default_policy = "deny"\n}\n')
    const out = await runCli(CONSUL_BIN, ['agent', '-dev', '-http-port=0', '-dns-port=-1', `-config-file=${deny}`])
    assert.equal(out.code, 1)
    assert.match(out.stderr, /^==> Config validation failed: config: acl\.default_policy: ACLs with default_policy "deny" are not enforced by this build yet/)
    assert.doesNotMatch(out.stderr + out.stdout, /agent: started/)
    const gossip = join(dir, 'gossip.json')
    writeFileSync(gossip, JSON.stringify({ encrypt: 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=', retry_join: ['10.0.0.1'] }))
    const agent = await startAgent({ dev: true, args: [`-config-file=${gossip}`] })
    await agent.stop()
    assert.match(agent.output(), /config key "encrypt" is accepted but not supported yet/)
    assert.match(agent.output(), /config key "retry_join" is accepted but not supported yet/)
  } finally {
    removeDir(dir)
  }
})
