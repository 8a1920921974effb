import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mergeRules, nodeIdentityRules, parseRules, serviceIdentityRules } from '../../src/acl/rules.js'
import { AclRulesError } from '../../src/acl/errors.js'

const HCL = `
# web's deployer
key_prefix "web/" {
  policy = "write"
}
key "web/secret" { policy = "deny" }
key_prefix "" { policy = "list" }
service_prefix "" { policy = "read" }
service "web" {
  policy = "write"
  intentions = "read"
}
node_prefix "" { policy = "read" }
session_prefix "" { policy = "write" }
event "deploy" { policy = "write" }
query_prefix "web-" { policy = "read" }
agent "n1" { policy = "read" }
operator = "read"
keyring = "write"
acl = "read"
mesh = "deny"
peering = "read"
`

test('HCL rules: every resource, exact and prefix, flat levels', () => {
  const r = parseRules(HCL)
  assert.deepEqual([...r.segments.key.prefix], [['web/', 'write'], ['', 'list']])
  assert.deepEqual([...r.segments.key.exact], [['web/secret', 'deny']])
  assert.equal(r.segments.service.exact.get('web'), 'write')
  assert.equal(r.segments.service.prefix.get(''), 'read')
  assert.equal(r.segments.node.prefix.get(''), 'read')
  assert.equal(r.segments.session.prefix.get(''), 'write')
  assert.equal(r.segments.event.exact.get('deploy'), 'write')
  assert.equal(r.segments.query.prefix.get('web-'), 'read')
  assert.equal(r.segments.agent.exact.get('n1'), 'read')
  assert.deepEqual(r.flat, { operator: 'read', keyring: 'write', acl: 'read', mesh: 'deny', peering: 'read' })
})

test('JSON rules read like their HCL', () => {
  const json = JSON.stringify({
    key_prefix: { 'web/': { policy: 'write' }, '': { policy: 'list' } },
    key: { 'web/secret': { policy: 'deny' } },
    service: [{ web: { policy: 'write' } }],
    operator: 'read',
  })
  const r = parseRules(json)
  assert.equal(r.segments.key.prefix.get('web/'), 'write')
  assert.equal(r.segments.key.prefix.get(''), 'list')
  assert.equal(r.segments.key.exact.get('web/secret'), 'deny')
  assert.equal(r.segments.service.exact.get('web'), 'write')
  assert.equal(r.flat.operator, 'read')
})

test('empty rules are a policy with no rules', () => {
  const r = parseRules('  \n')
  assert.equal(r.segments.key.exact.size + r.segments.key.prefix.size, 0)
  assert.deepEqual(r.flat, {})
})

test('legacy rules match by prefix and know neither _prefix nor acl rules', () => {
  const r = parseRules('key "web/" { policy = "write" }\nservice "" { policy = "read" }\noperator = "read"', 'legacy')
  assert.equal(r.segments.key.prefix.get('web/'), 'write')
  assert.equal(r.segments.key.exact.size, 0)
  assert.equal(r.segments.service.prefix.get(''), 'read')
  assert.equal(r.flat.operator, 'read')
  assert.throws(() => parseRules('key_prefix "a" { policy = "read" }', 'legacy'), /Unknown ACL resource "key_prefix" in legacy rules/)
  assert.throws(() => parseRules('acl = "write"', 'legacy'), /Unknown ACL resource "acl"/)
})

test('the same name twice in one policy: the stronger level holds (deny first)', () => {
  const r = parseRules('key "a" { policy = "read" }\nkey "a" { policy = "write" }\nkey "b" { policy = "write" }\nkey "b" { policy = "deny" }')
  assert.equal(r.segments.key.exact.get('a'), 'write')
  assert.equal(r.segments.key.exact.get('b'), 'deny')
})

test('bad rules are refused with the line and the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['key "a" {\n  policy = "bogus"\n}', /^Invalid key policy: "a" has policy "bogus", want deny, read, write, list \(line 1\)$/],
    ['\n\nservice "web" { policy = "list" }', /^Invalid service policy: "web" has policy "list", want deny, read, write \(line 3\)$/],
    ['node "n" { }', /Invalid node policy: "n" has policy ""/],
    ['key "a" { policy = "read" ', /^Failed to parse ACL rules: At 1:\d+: /],
    ['operator = "list"', /^Invalid operator policy: "list"/],
    ['\nfrobnicate "x" { policy = "read" }', /^Unknown ACL resource "frobnicate" \(line 2\)$/],
    ['acl_prefix "" { policy = "read" }', /Unknown ACL resource "acl_prefix"/],
    ['service "web" { policy = "read" intentions = "list" }', /Invalid service intentions policy/],
    ['key = "read"', /Invalid key rule/],
    ['{"key": ', /^Failed to parse ACL rules: /],
    ['[1, 2]', /^Failed to parse ACL rules/],
  ]
  for (const [text, want] of cases) {
    assert.throws(() => parseRules(text), (err: unknown) => err instanceof AclRulesError && want.test(err.message), text)
  }
})

test('merging policies: deny beats write beats list beats read, per name', () => {
  const a = parseRules('key "x" { policy = "read" }\nkey_prefix "p/" { policy = "write" }\noperator = "write"')
  const b = parseRules('key "x" { policy = "list" }\nkey_prefix "p/" { policy = "deny" }\noperator = "read"')
  const m = mergeRules([a, b])
  assert.equal(m.segments.key.exact.get('x'), 'list')
  assert.equal(m.segments.key.prefix.get('p/'), 'deny')
  assert.equal(m.flat.operator, 'write')
})

test('service and node identities stand for the rules Consul gives them', () => {
  const s = serviceIdentityRules('web')
  assert.equal(s.segments.service.exact.get('web'), 'write')
  assert.equal(s.segments.service.exact.get('web-sidecar-proxy'), 'write')
  assert.equal(s.segments.service.prefix.get(''), 'read')
  assert.equal(s.segments.node.prefix.get(''), 'read')
  const n = nodeIdentityRules('n1')
  assert.equal(n.segments.node.exact.get('n1'), 'write')
  assert.equal(n.segments.service.prefix.get(''), 'read')
})
