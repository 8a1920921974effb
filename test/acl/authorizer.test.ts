import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Authorizer, type Need } from '../../src/acl/authorizer.js'
import { mergeRules, parseRules } from '../../src/acl/rules.js'
import { mulberry32 } from '../../src/lib/prng.js'

const rules = (text: string) => parseRules(text)

test('the issue matrix: web/ write, every service read, default deny', () => {
  const a = new Authorizer(rules('key_prefix "web/" { policy = "write" }\nservice_prefix "" { policy = "read" }'), 'deny')
  assert.equal(a.allowed('key', 'web/x', 'write'), true)
  assert.equal(a.allowed('key', 'web/x', 'read'), true)
  assert.equal(a.allowed('key', 'db/x', 'read'), false)
  assert.equal(a.allowed('key', 'db/x', 'write'), false)
  assert.equal(a.allowed('service', 'anything', 'read'), true)
  assert.equal(a.allowed('service', 'anything', 'write'), false)
  assert.equal(a.allowed('node', 'n1', 'read'), false)
  assert.equal(a.allowed('operator', '', 'read'), false)
})

test('the exact rule beats the longest prefix, which beats shorter ones', () => {
  const a = new Authorizer(
    rules('key_prefix "" { policy = "read" }\nkey_prefix "app/" { policy = "write" }\nkey_prefix "app/secret/" { policy = "deny" }\nkey "app/secret/ok" { policy = "read" }'),
    'deny',
  )
  assert.equal(a.allowed('key', 'other', 'read'), true)
  assert.equal(a.allowed('key', 'other', 'write'), false)
  assert.equal(a.allowed('key', 'app/x', 'write'), true)
  assert.equal(a.allowed('key', 'app/secret/x', 'read'), false)
  assert.equal(a.allowed('key', 'app/secret/ok', 'read'), true)
  assert.equal(a.allowed('key', 'app/secret/ok', 'write'), false)
  // A prefix rule applies to the name equal to it.
  assert.equal(a.allowed('key', 'app/', 'write'), true)
})

test('levels: write grants all, list grants read and list, read only read, deny none', () => {
  const a = new Authorizer(rules('key "w" { policy = "write" }\nkey "l" { policy = "list" }\nkey "r" { policy = "read" }\nkey "d" { policy = "deny" }'), 'allow')
  const grid = (key: string) => (['read', 'list', 'write'] as Need[]).map((n) => a.allowed('key', key, n))
  assert.deepEqual(grid('w'), [true, true, true])
  assert.deepEqual(grid('l'), [true, true, false])
  assert.deepEqual(grid('r'), [true, false, false])
  assert.deepEqual(grid('d'), [false, false, false])
  // No rule: the default policy.
  assert.deepEqual(grid('other'), [true, true, true])
})

test('default allow still keeps ACL administration for management; management may do anything', () => {
  const allow = Authorizer.allowAll()
  assert.equal(allow.allowed('key', 'x', 'write'), true)
  assert.equal(allow.allowed('operator', '', 'write'), true)
  assert.equal(allow.allowed('acl', '', 'read'), false)
  assert.equal(allow.allowed('acl', '', 'write'), false)
  const deny = Authorizer.denyAll()
  assert.equal(deny.allowed('key', 'x', 'read'), false)
  const manage = Authorizer.manage()
  assert.equal(manage.allowed('acl', '', 'write'), true)
  assert.equal(manage.keyWritePrefix(''), true)
  // An acl rule grants ACL administration under either default.
  assert.equal(new Authorizer(rules('acl = "write"'), 'allow').allowed('acl', '', 'write'), true)
  assert.equal(new Authorizer(rules('acl = "read"'), 'deny').allowed('acl', '', 'write'), false)
})

test('keyWritePrefix: write over the prefix and nothing less under it', () => {
  const a = new Authorizer(rules('key_prefix "app/" { policy = "write" }\nkey "app/locked" { policy = "read" }\nkey_prefix "tmp/" { policy = "write" }'), 'deny')
  assert.equal(a.keyWritePrefix('tmp/'), true)
  assert.equal(a.keyWritePrefix('tmp/sub/'), true)
  assert.equal(a.keyWritePrefix('app/'), false, 'app/locked is only readable')
  assert.equal(a.keyWritePrefix('app/other/'), true)
  assert.equal(a.keyWritePrefix(''), false, 'nothing grants write at the root')
  assert.equal(a.keyWritePrefix('db/'), false, 'no rule: the default (deny)')
  const allow = new Authorizer(rules('key "keep/me" { policy = "read" }'), 'allow')
  assert.equal(allow.keyWritePrefix('other/'), true, 'no rule: the default (allow)')
  assert.equal(allow.keyWritePrefix('keep/'), false)
  assert.equal(allow.keyWritePrefix(''), false)
})

test('many policies merged: a lookup agrees with a brute-force reading of the rules (seeded)', () => {
  const prng = mulberry32(7)
  const alphabet = ['a', 'b', '/', 'c']
  const word = (max: number) => Array.from({ length: Math.floor(prng() * max) }, () => alphabet[Math.floor(prng() * alphabet.length)]).join('')
  const levels = ['deny', 'read', 'list', 'write'] as const
  for (let round = 0; round < 50; round++) {
    const texts = Array.from({ length: 5 }, () =>
      Array.from({ length: 8 }, () => `${prng() < 0.5 ? 'key' : 'key_prefix'} "${word(4)}" { policy = "${levels[Math.floor(prng() * 4)]}" }`).join('\n'),
    )
    const merged = mergeRules(texts.map((t) => parseRules(t)))
    const a = new Authorizer(merged, 'deny')
    for (let i = 0; i < 40; i++) {
      const key = word(6)
      const exact = merged.segments.key.exact.get(key)
      let best: string | undefined
      for (const p of merged.segments.key.prefix.keys()) if (key.startsWith(p) && (best === undefined || p.length > best.length)) best = p
      const rule = exact ?? (best === undefined ? undefined : merged.segments.key.prefix.get(best))
      const want = rule === 'write' || rule === 'list' || rule === 'read'
      assert.equal(a.allowed('key', key, 'read'), want, `round ${round} key ${JSON.stringify(key)}`)
      assert.equal(a.allowed('key', key, 'write'), rule === 'write', `round ${round} key ${JSON.stringify(key)}`)
    }
  }
})
