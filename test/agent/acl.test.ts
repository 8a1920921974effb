/**
 * The agent's ACL side on a client agent: resolved tokens kept for token_ttl, down_policy when no
 * server answers, the recovery token, tokens set at run time and kept with enable_token_persistence.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AgentAcl, TOKENS_FILE } from '../../src/agent/acl.js'
import type { AclConfig, AclDownPolicy } from '../../src/agent/config-acl.js'
import { AclNotFoundError } from '../../src/acl/errors.js'
import { parseRules, rulesToWire } from '../../src/acl/rules.js'
import { VirtualClock } from '../../src/lib/clock.js'
import { NoServersError } from '../../src/server/errors.js'
import type { ResolvedToken } from '../../src/server/acl-endpoint.js'
import { removeDir, tempDir } from '../helpers/agent.js'

const config = (more: Partial<AclConfig> = {}): AclConfig => ({
  enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache', tokenTtlMs: 30_000, enableKeyListPolicy: false, enableTokenPersistence: false, tokens: {}, ...more,
})
const WEB: ResolvedToken = { accessor: 'acc-web', management: false, defaultPolicy: 'deny', rules: rulesToWire(parseRules('key_prefix "web/" { policy = "write" }')) }

function client(downPolicy: AclDownPolicy = 'extend-cache', more: Partial<AclConfig> = {}) {
  const clock = new VirtualClock(0)
  const calls: string[] = []
  let servers: 'up' | 'down' = 'up'
  const known = new Map<string, ResolvedToken>([['web-secret', WEB]])
  const acl = new AgentAcl({
    config: config({ downPolicy, ...more }),
    remote: async (token) => {
      calls.push(token)
      if (servers === 'down') throw new NoServersError()
      const r = known.get(token)
      if (!r) throw new AclNotFoundError()
      return r
    },
    clock,
    dataDir: undefined,
    log: () => undefined,
  })
  return { acl, clock, calls, known, down: () => (servers = 'down'), up: () => (servers = 'up') }
}

test('a resolved token is kept for token_ttl, then asked for again', async () => {
  const { acl, clock, calls } = client()
  const who = await acl.identity('web-secret')
  assert.equal(who.accessor, 'acc-web')
  assert.equal(who.authorizer.allowed('key', 'web/a', 'write'), true)
  assert.equal(who.authorizer.allowed('key', 'db/a', 'read'), false)
  await acl.identity('web-secret')
  assert.equal(calls.length, 1)
  clock.advance(30_001)
  await acl.identity('web-secret')
  assert.equal(calls.length, 2)
  await assert.rejects(acl.identity('nope'), AclNotFoundError)
})

test('down_policy: extend-cache keeps the last answer, deny and allow decide alone, an unknown token is denied', async () => {
  for (const [policy, cachedAllowed, unknownAllowed] of [['extend-cache', true, false], ['async-cache', true, false], ['deny', false, false], ['allow', true, true]] as const) {
    const { acl, clock, down } = client(policy)
    await acl.identity('web-secret')
    clock.advance(60_000)
    down()
    assert.equal((await acl.identity('web-secret')).authorizer.allowed('key', 'web/a', 'write'), cachedAllowed, policy)
    assert.equal((await acl.identity('other-secret')).authorizer.allowed('key', 'web/a', 'read'), unknownAllowed, policy)
  }
})

test('async-cache answers from the stale entry at once and refreshes behind it', async () => {
  const { acl, clock, calls, known } = client('async-cache')
  await acl.identity('web-secret')
  clock.advance(60_000)
  known.set('web-secret', { ...WEB, rules: rulesToWire(parseRules('')) })
  assert.equal((await acl.identity('web-secret')).authorizer.allowed('key', 'web/a', 'write'), true, 'the stale answer')
  await new Promise((r) => setImmediate(r))
  assert.equal(calls.length, 2)
  assert.equal((await acl.identity('web-secret')).authorizer.allowed('key', 'web/a', 'write'), false, 'the refreshed one')
})

test('the recovery token may use the agent\'s endpoints without any server; ACLs off allow everything', async () => {
  const { acl, down, calls } = client('deny', { tokens: { agentRecovery: 'break-glass' } })
  down()
  const who = await acl.identity('break-glass')
  assert.equal(who.authorizer.allowed('agent', 'n1', 'write'), true)
  assert.equal(who.authorizer.allowed('key', 'x', 'read'), false)
  assert.equal(calls.length, 0)
  const off = new AgentAcl({ config: config({ enabled: false }), clock: new VirtualClock(0), dataDir: undefined, log: () => undefined })
  assert.equal((await off.identity('')).authorizer.allowed('acl', '', 'write'), true)
})

test('tokens set at run time: the default one serves requests without a token; persisted with enable_token_persistence', async () => {
  const dir = tempDir('agent-acl-')
  try {
    const make = () => new AgentAcl({ config: config({ enableTokenPersistence: true, tokens: { default: 'from-config' } }), remote: async () => WEB, clock: new VirtualClock(0), dataDir: dir, log: () => undefined })
    const acl = make()
    assert.equal(acl.defaultToken(), 'from-config')
    let changes = 0
    acl.onTokensChanged(() => changes++)
    acl.setToken('default', 'web-secret')
    acl.setToken('agent', 'agent-secret')
    assert.equal(changes, 2)
    assert.equal(acl.agentToken(), 'agent-secret')
    assert.ok(existsSync(join(dir, TOKENS_FILE)))
    assert.deepEqual(JSON.parse(readFileSync(join(dir, TOKENS_FILE), 'utf8')), { default: 'web-secret', agent: 'agent-secret' })
    const again = make()
    assert.equal(again.defaultToken(), 'web-secret', 'the persisted token wins over the config file')
    again.setToken('agent', '')
    assert.equal(again.agentToken(), 'web-secret', 'no agent token: the default one')
  } finally {
    removeDir(dir)
  }
})
