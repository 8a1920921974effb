import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  aggregatedStatus,
  CatalogNodeQuery,
  CatalogNodesQuery,
  CatalogServicesQuery,
  HealthServiceQuery,
  KVGetQuery,
  KVListQuery,
} from '../../src/ctemplate/deps.js'
import { parseCli, parseTemplateSpec, parseWait, applyConfigObject, defaultConfig, parseConfigText } from '../../src/ctemplate/config.js'
import { parseHcl } from '../../src/lib/hcl.js'

describe('service query grammar', () => {
  test('tag, name, dc, near and filters make upstream ids', () => {
    assert.equal(new HealthServiceQuery('web').id, 'health.service(web|passing)')
    assert.equal(new HealthServiceQuery('web@dc1').id, 'health.service(web@dc1|passing)')
    assert.equal(new HealthServiceQuery('prod.web@dc1~_agent').id, 'health.service(prod.web@dc1~_agent|passing)')
    assert.equal(new HealthServiceQuery('web|warning,passing').id, 'health.service(web|passing,warning)')
    assert.equal(new HealthServiceQuery('web|any').id, 'health.service(web|any)')
    assert.equal(new HealthServiceQuery('web?ns=team&partition=p').id, 'health.service(web@partition=p@ns=team|passing)')
  })

  test('the tag is greedy: dotted names are not possible', () => {
    const q = new HealthServiceQuery('a.b.web')
    assert.equal(q.tag, 'a.b')
    assert.equal(q.name, 'web')
    assert.equal(new HealthServiceQuery('v=1:x.web').tag, 'v=1:x')
  })

  test('errors carry upstream texts', () => {
    assert.throws(() => new HealthServiceQuery('x.y.z!'), { message: 'health.service: invalid format: "x.y.z!"' })
    assert.throws(() => new HealthServiceQuery('web|bad'), { message: 'health.service: invalid filter: "bad" in "web|bad"' })
    // Spaces around commas are accepted (a difference from today's upstream); inside a word they are not.
    assert.equal(new HealthServiceQuery('web|passing, warning').id, 'health.service(web|passing,warning)')
    assert.deepEqual(new HealthServiceQuery('web| warning ,passing ').filters, ['passing', 'warning'])
    assert.throws(() => new HealthServiceQuery('web|pass ing'), { message: 'health.service: invalid filter: "pass ing" in "web|pass ing"' })
    assert.throws(() => new HealthServiceQuery('web |passing'), { message: 'health.service: invalid format: "web |passing"' })
    assert.throws(() => new HealthServiceQuery('web?foo=1'), /health.service: invalid query parameter key "foo" in query "foo=1"/)
    assert.throws(() => new HealthServiceQuery('web?peer=a&sameness-group=b'), { message: 'health.service: cannot specify both peer and sameness-group' })
  })

  test('kv, ls/tree, services, nodes, node', () => {
    assert.equal(new KVGetQuery('/foo/bar').id, 'kv.get(foo/bar)')
    assert.equal(new KVGetQuery('foo@dc2', true).id, 'kv.block(foo@dc2)')
    assert.throws(() => new KVGetQuery('foo@'), { message: 'kv.get: invalid format: "foo@"' })
    assert.equal(new KVListQuery('app/').id, 'kv.list(app/)')
    assert.equal(new CatalogServicesQuery('').id, 'catalog.services')
    assert.equal(new CatalogServicesQuery('@dc2').id, 'catalog.services(@dc2)')
    assert.throws(() => new CatalogServicesQuery('dc2'), { message: 'catalog.services: invalid format: "dc2"' })
    assert.equal(new CatalogNodesQuery('').id, 'catalog.nodes')
    assert.equal(new CatalogNodesQuery('@dc1~n1').id, 'catalog.nodes(@dc1~n1)')
    assert.equal(new CatalogNodeQuery('').id, 'catalog.node()')
    assert.equal(new CatalogNodeQuery('n1.example@dc1').id, 'catalog.node(n1.example@dc1)')
  })

  test('aggregated status', () => {
    const c = (CheckID: string, Status: string) => ({ CheckID, Status })
    assert.equal(aggregatedStatus([]), 'passing')
    assert.equal(aggregatedStatus([c('a', 'passing'), c('b', 'warning')]), 'warning')
    assert.equal(aggregatedStatus([c('a', 'critical'), c('b', 'warning')]), 'critical')
    assert.equal(aggregatedStatus([c('_node_maintenance', 'critical'), c('b', 'passing')]), 'maintenance')
    assert.equal(aggregatedStatus([c('_service_maintenance:web', 'critical')]), 'maintenance')
    assert.equal(aggregatedStatus([c('a', 'bogus')]), '')
  })
})

describe('flags and config', () => {
  test('-template splits like upstream, keeping drive letters and rejoining the command', () => {
    assert.deepEqual([parseTemplateSpec('in:out').source, parseTemplateSpec('in:out').destination], ['in', 'out'])
    const t = parseTemplateSpec('C:\\in:out:sh -c "a:b"')
    assert.equal(t.source, 'C:\\in')
    assert.equal(t.command, 'sh -c "a:b"')
    assert.throws(() => parseTemplateSpec(' '), { message: 'template: cannot be empty' })
  })

  test('-wait', () => {
    assert.deepEqual(parseWait('5s'), { minMs: 5000, maxMs: 20000 })
    assert.deepEqual(parseWait('1s:3s'), { minMs: 1000, maxMs: 3000 })
    assert.throws(() => parseWait('3s:1s'), { message: 'wait: min must be less than max' })
  })

  test('Go flag parsing: both dash forms, bools, repeated -template, stop at the first non-flag', () => {
    const r = parseCli(['--once', '-template=a:b', '-template', 'in:out:cmd', '-wait', '2s', '-consul-addr=h:1'], {})
    assert.equal(r.config.once, true)
    assert.equal(r.config.templates.length, 2)
    assert.equal(r.config.templates[1].command, 'cmd')
    assert.equal(r.config.consul.address, 'h:1')
    assert.throws(() => parseCli(['-nope'], {}), { message: 'flag provided but not defined: -nope' })
    assert.throws(() => parseCli(['-once', 'extra'], {}), { message: 'cli: extra args: ["extra"]' })
    assert.throws(() => parseCli(['-once=maybe'], {}), { message: 'invalid boolean value "maybe" for -once: parse error' })
  })

  test('environment defaults', () => {
    const r = parseCli([], { CONSUL_HTTP_ADDR: 'x:1', CONSUL_HTTP_TOKEN: 't' })
    assert.equal(r.config.consul.address, 'x:1')
    assert.equal(r.config.consul.token, 't')
  })

  test('HCL v1: blocks as lists, octal perms, heredocs, comments', () => {
    const v = parseHcl(`
# comment
consul { address = "127.0.0.1:8500"
  retry { attempts = 3 backoff = "10ms" } }
template {
  source = "a.ctmpl" // trailing comment
  destination = "a.out"
  perms = 0600
  command = ["svc", "reload"]
}
template {
  contents = <<EOF
{{ key "x" }}
EOF
  destination = "b.out"
  wait { min = "1s" }
}
/* block
   comment */
wait = "2s:4s"
`)
    assert.deepEqual(v.consul, [{ address: '127.0.0.1:8500', retry: [{ attempts: 3, backoff: '10ms' }] }])
    assert.equal((v.template as any[]).length, 2)
    assert.equal((v.template as any[])[0].perms, 384)
    assert.equal((v.template as any[])[1].contents, '{{ key "x" }}\n')
    const cfg = defaultConfig({})
    applyConfigObject(cfg, v, 'x.hcl')
    assert.equal(cfg.consul.retry.attempts, 3)
    assert.equal(cfg.consul.retry.backoffMs, 10)
    assert.equal(cfg.templates[0].perms, 0o600)
    assert.deepEqual(cfg.templates[0].command, ['svc', 'reload'])
    assert.deepEqual(cfg.templates[1].wait, { minMs: 1000, maxMs: 4000 })
    assert.deepEqual(cfg.wait, { minMs: 2000, maxMs: 4000 })
  })

  test('JSON config and unknown keys', () => {
    const cfg = defaultConfig({})
    applyConfigObject(cfg, parseConfigText('{"template":[{"source":"a","destination":"b","perms":"0640"}],"once":true}', 'c.json'), 'c.json')
    assert.equal(cfg.templates[0].perms, 0o640)
    assert.equal(cfg.once, true)
    assert.throws(() => applyConfigObject(defaultConfig({}), { bogus: 1 }, 'c.json'), /c.json: invalid keys: bogus/)
    assert.throws(() => parseConfigText('template {', 'bad.hcl'), /error decoding config at bad.hcl/)
  })
})
