import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileFilter, filterList, filterMap, FilterError, parseFilter, type FilterSchema } from '../../src/http/filter.js'

// --- realistic records and their schemas ---------------------------------

const CATALOG_SERVICE: FilterSchema = {
  ID: 'string',
  Node: 'string',
  Address: 'string',
  Datacenter: 'string',
  TaggedAddresses: 'map[string]string',
  NodeMeta: 'map[string]string',
  ServiceKind: 'string',
  ServiceID: 'string',
  ServiceName: 'string',
  ServiceTags: 'string[]',
  ServiceAddress: 'string',
  ServiceTaggedAddresses: { map: { fields: { Address: 'string', Port: 'int' } } },
  ServiceWeights: { fields: { Passing: 'int', Warning: 'int' } },
  ServiceMeta: 'map[string]string',
  ServicePort: 'int',
  ServiceEnableTagOverride: 'bool',
  CreateIndex: 'uint',
  ModifyIndex: 'uint',
}

const web1 = {
  ID: '40e4a748-2192-161a-0510-9bf59fe950b5',
  Node: 'node-1',
  Address: '10.1.10.12',
  Datacenter: 'dc1',
  TaggedAddresses: { lan: '10.1.10.12', wan: '198.18.0.1' },
  NodeMeta: { 'instance-type': 't2.medium', rack: 'r1' },
  ServiceKind: '',
  ServiceID: 'web-1',
  ServiceName: 'web',
  ServiceTags: ['primary', 'v1'],
  ServiceAddress: '',
  ServiceTaggedAddresses: { lan: { Address: '10.1.10.12', Port: 8000 } },
  ServiceWeights: { Passing: 10, Warning: 1 },
  ServiceMeta: { env: 'prod', 'k-1': 'one', version: '1.2.3' },
  ServicePort: 8000,
  ServiceEnableTagOverride: false,
  CreateIndex: 12,
  ModifyIndex: 14,
}
const web2 = {
  ...web1,
  ID: '2bd4c1f8-0000-0000-0000-000000000002',
  Node: 'node-2',
  Address: '10.1.10.13',
  NodeMeta: {},
  ServiceID: 'web-2',
  ServiceTags: [],
  ServiceAddress: 'web2.example.com',
  ServiceTaggedAddresses: {},
  ServiceWeights: { Passing: 1, Warning: 1 },
  ServiceMeta: { env: 'staging' },
  ServicePort: 8080,
  ServiceEnableTagOverride: true,
  CreateIndex: 20,
  ModifyIndex: 20,
}

const HEALTH_CHECK: FilterSchema = {
  Node: 'string',
  CheckID: 'string',
  Name: 'string',
  Status: 'string',
  Notes: 'string',
  Output: 'string',
  ServiceID: 'string',
  ServiceName: 'string',
  ServiceTags: 'string[]',
  Type: 'string',
  Definition: { fields: { Interval: 'string', Timeout: 'string', HTTP: 'string', TLSSkipVerify: 'bool' } },
  CreateIndex: 'uint',
  ModifyIndex: 'uint',
}

const check = {
  Node: 'node-1',
  CheckID: 'service:web-1',
  Name: "Service 'web' check",
  Status: 'critical',
  Notes: '',
  Output: 'HTTP GET http://10.1.10.12:8000/health: 503 Service Unavailable\nbody: "down"',
  ServiceID: 'web-1',
  ServiceName: 'web',
  ServiceTags: ['primary'],
  Type: 'http',
  Definition: { Interval: '10s', Timeout: '1s', HTTP: 'http://10.1.10.12:8000/health', TLSSkipVerify: false },
  CreateIndex: 15,
  ModifyIndex: 99,
}

const AGENT_SERVICE: FilterSchema = {
  Kind: 'string',
  ID: 'string',
  Service: 'string',
  Tags: 'string[]',
  Meta: 'map[string]string',
  Port: 'int',
  Address: 'string',
  TaggedAddresses: { map: { fields: { Address: 'string', Port: 'int' } } },
  Weights: { fields: { Passing: 'int', Warning: 'int' } },
  EnableTagOverride: 'bool',
  Datacenter: 'string',
}

const agentServices = {
  'redis-1': { ID: 'redis-1', Service: 'redis', Tags: ['primary', 'cache'], Meta: { 'redis-version': '7.2' }, Port: 6379, Address: '', Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Datacenter: 'dc1' },
  'redis-2': { ID: 'redis-2', Service: 'redis', Tags: ['replica'], Meta: {}, Port: 6380, Address: '127.0.0.2', Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Datacenter: 'dc1' },
  'web-1': { ID: 'web-1', Service: 'web', Tags: [], Meta: { env: 'prod' }, Port: 80, Address: '', Weights: { Passing: 5, Warning: 1 }, EnableTagOverride: true, Datacenter: 'dc1' },
}

const HEALTH_SERVICE: FilterSchema = {
  Node: { fields: { ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', Meta: 'map[string]string', TaggedAddresses: 'map[string]string' } },
  Service: { fields: AGENT_SERVICE },
  Checks: { list: { fields: HEALTH_CHECK } },
}

const entry = {
  Node: { ID: 'n-1', Node: 'node-1', Address: '10.1.10.12', Datacenter: 'dc1', Meta: { rack: 'r1' }, TaggedAddresses: {} },
  Service: agentServices['redis-1'],
  Checks: [
    { ...check, CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '' },
    { ...check, CheckID: 'service:redis-1', Status: 'critical', ServiceTags: ['primary', 'cache'] },
  ],
}

type Row = readonly [expression: string, expected: boolean]

function table(name: string, record: unknown, schema: FilterSchema, rows: readonly Row[]): void {
  describe(name, () => {
    for (const [expression, expected] of rows) {
      test(`${expression} → ${expected}`, () => {
        assert.equal(compileFilter(expression, { schema }).match(record), expected)
      })
    }
  })
}

table('CatalogService: equality, strings, numbers, bools', web1, CATALOG_SERVICE, [
  ['ServiceName == "web"', true],
  ['ServiceName == web', true],
  ['ServiceName == `web`', true],
  ['ServiceName != "web"', false],
  ['ServiceName == "Web"', false],
  ['ServiceName=="web"', true],
  ['ServiceName   ==   "web"', true],
  ['ServiceAddress == ""', true],
  ['ServicePort == 8000', true],
  ['ServicePort == "8000"', true],
  ['ServicePort == "0x1F40"', true],
  ['ServicePort == "0o17500"', true],
  ['ServicePort == "017500"', true],
  ['ServicePort == "8_000"', true],
  ['ServicePort != 8080', true],
  ['ServiceWeights.Passing == 10', true],
  ['ServiceWeights.Warning == -1', false],
  ['ServiceEnableTagOverride == false', true],
  ['ServiceEnableTagOverride == F', true],
  ['ServiceEnableTagOverride == 0', true],
  ['ServiceEnableTagOverride == "true"', false],
  ['ServiceEnableTagOverride != true', true],
  ['CreateIndex == 12', true],
  ['ModifyIndex != 12', true],
  ['ServiceTaggedAddresses.lan.Port == 8000', true],
  ['ServiceTaggedAddresses["lan"].Address == "10.1.10.12"', true],
])

// a bare 0x… is parsed as the number 0 followed by junk: an error, not a match
test('0x1F40 as a bare value is an invalid number literal', () => {
  assert.throws(() => compileFilter('ServicePort == 0x1F40', { schema: CATALOG_SERVICE }), /Invalid number literal/)
})

table('CatalogService: lists, maps, substring, regex', web1, CATALOG_SERVICE, [
  ['"primary" in ServiceTags', true],
  ['primary in ServiceTags', true],
  ['"prim" in ServiceTags', false],
  ['"secondary" not in ServiceTags', true],
  ['ServiceTags contains "v1"', true],
  ['ServiceTags not contains "v1"', false],
  ['ServiceTags is empty', false],
  ['ServiceTags is not empty', true],
  ['"node" in Node', true],
  ['Node contains "-1"', true],
  ['Node not contains "-2"', true],
  ['ServiceMeta.env == prod', true],
  ['ServiceMeta["env"] == "prod"', true],
  ['ServiceMeta["k-1"] == "one"', true],
  ['ServiceMeta[ "k-1" ] == "one"', true],
  ['ServiceMeta[`k-1`] == "one"', true],
  ['NodeMeta["instance-type"] == "t2.medium"', true],
  ['"env" in ServiceMeta', true],
  ['"prod" in ServiceMeta', false],
  ['ServiceMeta contains "version"', true],
  ['ServiceMeta is empty', false],
  ['ServiceMeta is not empty', true],
  ['TaggedAddresses.wan == "198.18.0.1"', true],
  ['ServiceMeta.version matches "^1\\\\.2\\\\."', true],
  ['ServiceMeta.version matches `^1\\.2\\.`', true],
  ['ServiceMeta.version matches `^1\\.3`', false],
  ['ServiceMeta.version not matches `^1\\.3`', true],
  ['Address matches `^10\\.1\\.`', true],
  ['Address matches "10"', true], // unanchored, as Go's Match
  ['ServiceName matches `(?i)^WEB$`', true],
  ['ServiceName matches `^\\Qweb\\E\\z`', true],
  ['ServiceName matches `^[[:alpha:]]+$`', true],
  ['ServiceName matches `^(?P<n>w)eb`', true],
])

table('map keys that are absent (go-bexpr semantics)', web1, CATALOG_SERVICE, [
  ['ServiceMeta.missing == "x"', false],
  ['ServiceMeta.missing != "x"', true],
  ['ServiceMeta.missing contains "x"', false],
  ['ServiceMeta.missing not contains "x"', true],
  ['ServiceMeta.missing matches "x"', true], // quirk kept from go-bexpr v0.1.2
  ['ServiceMeta.missing not matches "x"', true],
  ['ServiceTaggedAddresses.wan.Port == 0', false],
  ['ServiceTaggedAddresses.wan.Port != 0', true],
])

table('CatalogService with empty lists and maps', web2, CATALOG_SERVICE, [
  ['ServiceTags is empty', true],
  ['ServiceTags is not empty', false],
  ['"primary" in ServiceTags', false],
  ['"primary" not in ServiceTags', true],
  ['NodeMeta is empty', true],
  ['ServiceTaggedAddresses is empty', true],
  ['ServiceAddress == "web2.example.com"', true],
  ['ServiceEnableTagOverride == true', true],
])

table('zero values for fields missing from the record', { ServiceName: 'x' }, CATALOG_SERVICE, [
  ['ServicePort == 0', true],
  ['ServiceAddress == ""', true],
  ['ServiceEnableTagOverride == false', true],
  ['ServiceTags is empty', true],
  ['ServiceMeta is empty', true],
  ['ServiceWeights.Passing == 0', true],
])

table('HealthCheck', check, HEALTH_CHECK, [
  ['Status == critical', true],
  ['Status == "critical" and ServiceName == "web"', true],
  ['Status == passing or Status == warning', false],
  ['Output contains "503"', true],
  ['Output contains "\\"down\\""', true],
  ['Output contains "Unavailable\\nbody"', true],
  ['Output contains `Unavailable\\nbody`', false],
  ['Output matches "(?s)503.*down"', true],
  ['Output matches "503.*down"', false],
  ['Name == "Service \'web\' check"', true],
  ['Name == "Service \\x27web\\u0027 check"', true],
  ['Definition.Interval == "10s"', true],
  ['Definition.TLSSkipVerify == false', true],
  ['Definition.HTTP contains "/health"', true],
  ['primary in ServiceTags', true],
  ['Notes == ""', true],
])

table('health/service entries: selectors through a list of checks (any element)', entry, HEALTH_SERVICE, [
  ['Checks.Status == critical', true],
  ['Checks.Status == warning', false],
  ['Checks.Status != passing', true],
  ['Checks.CheckID == serfHealth and Checks.Status == passing', true],
  ['Checks.ServiceTags contains cache', true],
  ['Checks is empty', false],
  ['Checks is not empty', true],
  ['Service.Service == redis', true],
  ['Service.Meta["redis-version"] == "7.2"', true],
  ['Service.Tags contains primary', true],
  ['Service.Weights.Passing == 1', true],
  ['Node.Meta.rack == r1', true],
  ['Node.Node == "node-1" and Service.Port == 6379', true],
])

describe('precedence, negation and parentheses', () => {
  // A: true, B: false, C: true on web1
  const A = 'ServiceName == web'
  const B = 'ServicePort == 1'
  const C = '"v1" in ServiceTags'
  const rows: Row[] = [
    [`${A} or ${B} and ${B}`, true], // and binds tighter: A or (B and B)
    [`(${A} or ${B}) and ${B}`, false],
    [`${B} and ${B} or ${A}`, true],
    [`${B} and (${B} or ${A})`, false],
    [`not ${A} or ${C}`, true], // (not A) or C
    [`not (${A} or ${C})`, false],
    [`not ${B} and ${A}`, true], // (not B) and A
    [`not not ${A}`, true],
    [`not not not ${A}`, false],
    [`${A} and not ${B}`, true],
    [`${A} and not ${B} or ${B}`, true], // (A and (not B)) or B
    [`((${A}))`, true],
    [`( ${A} )`, true],
    [`(${A}) and (${C})`, true],
    [`  ${A}  `, true],
    [`\t${A}\nand\n${C}\r\n`, true],
    [`${A} or ${B} or ${B} and ${C}`, true],
    [`${B} or ${B} or ${A} and ${B}`, false],
  ]
  for (const [expression, expected] of rows) {
    test(`${expression.replace(/\s+/g, ' ')} → ${expected}`, () => {
      assert.equal(compileFilter(expression, { schema: CATALOG_SERVICE }).match(web1), expected)
    })
  }
  test('tree shapes', () => {
    assert.deepEqual(shape(parseFilter('a == 1 or b == 2 and c == 3')), ['or', 'a', ['and', 'b', 'c']])
    assert.deepEqual(shape(parseFilter('not a == 1 and b == 2')), ['and', ['not', 'a'], 'b'])
    assert.deepEqual(shape(parseFilter('a == 1 and b == 2 and c == 3')), ['and', 'a', ['and', 'b', 'c']])
    assert.deepEqual(shape(parseFilter('not not a == 1')), 'a')
  })
})

type Shape = string | Shape[]
function shape(e: ReturnType<typeof parseFilter>): Shape {
  switch (e.type) {
    case 'match': return e.selector.join('.')
    case 'not': return ['not', shape(e.operand)]
    default: return [e.type, shape(e.left), shape(e.right)]
  }
}

describe('parse results', () => {
  test('selectors, values and operators', () => {
    const m = (src: string) => {
      const e = parseFilter(src)
      assert.equal(e.type, 'match')
      return e.type === 'match' ? { selector: e.selector, op: e.op, raw: e.value?.raw } : undefined
    }
    assert.deepEqual(m('Service.Meta["k-1"] == x'), { selector: ['Service', 'Meta', 'k-1'], op: '==', raw: 'x' })
    assert.deepEqual(m('Tags contains "a"'), { selector: ['Tags'], op: 'in', raw: 'a' })
    assert.deepEqual(m('"a" not in Tags'), { selector: ['Tags'], op: 'not in', raw: 'a' })
    assert.deepEqual(m('Tags not contains a'), { selector: ['Tags'], op: 'not in', raw: 'a' })
    assert.deepEqual(m('Tags is not empty'), { selector: ['Tags'], op: 'is not empty', raw: undefined })
    assert.deepEqual(m('A == -1.5'), { selector: ['A'], op: '==', raw: '-1.5' })
    assert.deepEqual(m('A == some.dotted["x"]'), { selector: ['A'], op: '==', raw: 'some.dotted.x' })
    assert.deepEqual(m('A != "tab\\there"'), { selector: ['A'], op: '!=', raw: 'tab\there' })
    assert.deepEqual(m('A == `raw \\n \r\nstring`'), { selector: ['A'], op: '==', raw: 'raw \\n \nstring' })
    assert.deepEqual(m('A == "\\u00e9\\U0001F600\\101"'), { selector: ['A'], op: '==', raw: 'é😀A' })
    assert.deepEqual(m('notes == 1'), { selector: ['notes'], op: '==', raw: '1' })
    assert.deepEqual(m('A matches "^a"'), { selector: ['A'], op: 'matches', raw: '^a' })
    assert.deepEqual(m('A not matches "^a"'), { selector: ['A'], op: 'not matches', raw: '^a' })
  })
})

describe('errors', () => {
  const syntax: ReadonlyArray<readonly [string, RegExp, number?]> = [
    ['ServiceName ==', /^Failed to create boolean expression evaluator: 1:15 \(14\): no match found, expected: .*selector.*; found end of input/, 15],
    ['ServiceName = "web"', /1:13 \(12\): no match found, expected: .*"==".*; found "="/, 13],
    ['ServiceName == "web" and', /1:25 \(24\): no match found, .*; found end of input/, 25],
    ['ServiceName == "web" an ServicePort == 1', /1:21 \(20\)|1:22 \(21\)/],
    ['(ServiceName == "web"', /1:22 \(21\): Unmatched parentheses/, 22],
    ['ServiceName == "web")', /1:21 \(20\): no match found, .*; found "\)"/, 21],
    ['ServiceName == "web', /Unterminated string literal/],
    ['ServiceName == `web', /Unterminated string literal/],
    ['ServiceName == "a\\qb"', /1:18 \(17\): invalid syntax: invalid escape sequence \\q/, 18],
    ['ServicePort == 08', /1:17 \(16\): Invalid number literal/, 17],
    ['ServicePort == 1.5x', /Invalid number literal/],
    ['"web" in "ServiceTags"', /1:10 \(9\): Invalid selector/, 10],
    ['ServiceMeta[env] == x', /1:13 \(12\): Invalid index/, 13],
    ['ServiceMeta["env" == x', /Unclosed index expression/],
    ['(ServiceName == web)and(ServicePort == 1)', /1:21 \(20\): no match found, .*; found "a"/, 21],
    ['not(ServiceName == web)', /no match found/],
    ['ServiceTags contains"x"', /no match found/],
    ['ServiceName is  empty  x', /no match found, .*; found "x"/],
    ['ServiceName == "é" or', /1:22 \(22\)/, 22], // column counts characters, offset bytes
    ['ServiceName == web\nor', /2:3 \(21\)/],
  ]
  for (const [expression, pattern, column] of syntax) {
    test(`syntax: ${JSON.stringify(expression)}`, () => {
      assert.throws(() => compileFilter(expression, { schema: CATALOG_SERVICE }), (err: unknown) => {
        assert.ok(err instanceof FilterError)
        assert.equal(err.kind, 'syntax')
        assert.equal(err.status, 400)
        assert.match(err.message, /^Failed to create boolean expression evaluator: \d+:\d+ \(\d+\): /)
        assert.match(err.message, pattern)
        if (column !== undefined) assert.equal(err.position?.column, column)
        return true
      })
    })
  }

  const semantic: ReadonlyArray<readonly [string, string, string]> = [
    ['Foo == 1', 'selector', 'Failed to create boolean expression evaluator: Selector "Foo" is not valid'],
    ['servicename == web', 'selector', 'Failed to create boolean expression evaluator: Selector "servicename" is not valid'],
    ['ServiceWeights.Critical == 1', 'selector', 'Failed to create boolean expression evaluator: Selector "ServiceWeights.Critical" is not valid'],
    ['ServiceName.Foo == 1', 'selector', 'Failed to create boolean expression evaluator: Selector "ServiceName.Foo" is not valid'],
    ['ServiceTags.Foo == 1', 'selector', 'Failed to create boolean expression evaluator: Selector "ServiceTags.Foo" is not valid'],
    ['ServiceTaggedAddresses.lan.Nope == 1', 'selector', 'Failed to create boolean expression evaluator: Selector "ServiceTaggedAddresses.lan.Nope" is not valid'],
    ['ServiceTags == x', 'operator', 'Failed to create boolean expression evaluator: Invalid match operator "Equal" for selector "ServiceTags"'],
    ['ServicePort contains 1', 'operator', 'Failed to create boolean expression evaluator: Invalid match operator "In" for selector "ServicePort"'],
    ['ServicePort matches "1"', 'operator', 'Failed to create boolean expression evaluator: Invalid match operator "Matches" for selector "ServicePort"'],
    ['ServiceName is empty', 'operator', 'Failed to create boolean expression evaluator: Invalid match operator "Is Empty" for selector "ServiceName"'],
    ['ServiceWeights is empty', 'operator', 'Failed to create boolean expression evaluator: Invalid match operator "Is Empty" for selector "ServiceWeights"'],
    ['ServiceMeta == x', 'operator', 'Failed to create boolean expression evaluator: Invalid match operator "Equal" for selector "ServiceMeta"'],
    ['ServicePort == abc', 'value', 'Failed to create boolean expression evaluator: Failed to coerce value "abc" for selector "ServicePort": strconv.ParseInt: parsing "abc": invalid syntax'],
    ['ServicePort == 1.5', 'value', 'Failed to create boolean expression evaluator: Failed to coerce value "1.5" for selector "ServicePort": strconv.ParseInt: parsing "1.5": invalid syntax'],
    ['CreateIndex == -1', 'value', 'Failed to create boolean expression evaluator: Failed to coerce value "-1" for selector "CreateIndex": strconv.ParseUint: parsing "-1": invalid syntax'],
    ['ServicePort == 99999999999999999999', 'value', 'Failed to create boolean expression evaluator: Failed to coerce value "99999999999999999999" for selector "ServicePort": strconv.ParseInt: parsing "99999999999999999999": value out of range'],
    ['ServiceEnableTagOverride == yes', 'value', 'Failed to create boolean expression evaluator: Failed to coerce value "yes" for selector "ServiceEnableTagOverride": strconv.ParseBool: parsing "yes": invalid syntax'],
  ]
  for (const [expression, kind, message] of semantic) {
    test(`${kind}: ${expression}`, () => {
      assert.throws(() => compileFilter(expression, { schema: CATALOG_SERVICE }), (err: unknown) => {
        assert.ok(err instanceof FilterError)
        assert.equal(err.kind, kind)
        assert.equal(err.message, message)
        assert.ok(err.selector)
        return true
      })
    })
  }

  test('bad regular expressions are rejected when compiling, with or without a schema', () => {
    for (const schema of [CATALOG_SERVICE, undefined]) {
      const opts = schema ? { schema } : {}
      assert.throws(() => compileFilter('ServiceName matches "("', opts), /Failed to create boolean expression evaluator: Failed to compile regular expression "\(": error parsing regexp/)
      assert.throws(() => compileFilter('ServiceName matches "a(?=b)"', opts), /invalid or unsupported Perl syntax/)
      assert.throws(() => compileFilter('ServiceName matches `(a)\\1`', opts), /invalid escape sequence/)
    }
  })

  test('RE2 patterns are translated', () => {
    const ok = (pattern: string, value: string): boolean =>
      compileFilter(`Name matches \`${pattern}\``).match({ Name: value })
    assert.equal(ok('^\\pL+$', 'héllo'), true)
    assert.equal(ok('^\\pL+$', 'h3llo'), false)
    assert.equal(ok('^\\p{Greek}+$', 'αβγ'), true)
    assert.equal(ok('^\\PL', '3'), true)
    assert.equal(ok('^a\\-b\\@c$', 'a-b@c'), true)
    assert.equal(ok('^\\pL\\-\\pL$', 'a-b'), true)
    assert.equal(ok('^[]a]+$', ']a]'), true)
    assert.equal(ok('^\\Qa.b-c\\E$', 'a.b-c'), true)
    assert.equal(ok('^\\Qa.b\\E$', 'axb'), false)
    assert.equal(ok('^[[:digit:][:upper:]]+$', '9Z'), true)
    assert.equal(ok('(?im)^B$', 'a\nb'), true)
    assert.equal(ok('\\Aa', 'ba'), false)
    assert.equal(ok('a\\z', 'a\n'), false)
    assert.equal(ok('(?U)^a+b', 'aab'), true, '(?U): ungreedy, as Go has it')
    assert.throws(() => compileFilter('Name matches "(?x)a"'), /unsupported flag/)
    assert.throws(() => compileFilter('Name matches "a(?i:b)"'), /unsupported flag group/)
    assert.throws(() => compileFilter('Name matches "(?<!a)b"'), /invalid or unsupported Perl syntax/)
  })

  test('errors in the second half of an expression are found too', () => {
    assert.throws(() => compileFilter('ServiceName == web and Nope == 1', { schema: CATALOG_SERVICE }), /Selector "Nope" is not valid/)
    assert.throws(() => compileFilter('not (ServiceName == web or ServicePort == x)', { schema: CATALOG_SERVICE }), /Failed to coerce value "x"/)
  })

  test('only the empty string is the match-all filter', () => {
    assert.equal(compileFilter('').match(undefined), true)
    assert.throws(() => compileFilter('   '), FilterError)
  })
})

describe('without a schema (runtime types)', () => {
  const rows: Row[] = [
    ['ServiceName == web', true],
    ['ServicePort == 8000', true],
    ['ServicePort == "8000.0"', true],
    ['ServiceEnableTagOverride == false', true],
    ['primary in ServiceTags', true],
    ['ServiceTags is empty', false],
    ['ServiceMeta["k-1"] == one', true],
    ['env in ServiceMeta', true],
    ['ServiceAddress is empty', true],
    ['Nope == 1', false],
    ['Nope != 1', true],
    ['Nope is empty', true],
    ['ServiceTaggedAddresses.lan.Port == 8000', true],
    ['ServiceWeights.Passing == 10 and ServiceWeights.Warning == 1', true],
  ]
  for (const [expression, expected] of rows) {
    test(`${expression} → ${expected}`, () => assert.equal(compileFilter(expression).match(web1), expected))
  }
  test('selectors through arrays of objects match any element', () => {
    assert.equal(compileFilter('Checks.Status == critical').match(entry), true)
    assert.equal(compileFilter('Checks.Status == warning').match(entry), false)
  })
})

describe('filterList and filterMap', () => {
  test('filterList keeps matching elements in order', () => {
    assert.deepEqual(filterList([web1, web2], 'ServiceMeta.env == prod', CATALOG_SERVICE), [web1])
    assert.deepEqual(filterList([web1, web2], 'ServiceTags is empty or ServicePort == 8000', CATALOG_SERVICE), [web1, web2])
    assert.deepEqual(filterList([web1, web2], undefined, CATALOG_SERVICE), [web1, web2])
    assert.deepEqual(filterList([web1, web2], ''), [web1, web2])
    assert.deepEqual(filterList([entry], 'Checks.Status == critical', HEALTH_SERVICE), [entry])
  })
  test('filterMap filters on the values and keeps the keys', () => {
    assert.deepEqual(Object.keys(filterMap(agentServices, 'Service == redis', AGENT_SERVICE)), ['redis-1', 'redis-2'])
    assert.deepEqual(Object.keys(filterMap(agentServices, 'Tags is empty', AGENT_SERVICE)), ['web-1'])
    assert.deepEqual(Object.keys(filterMap(agentServices, '"redis-version" in Meta or Meta.env == prod', AGENT_SERVICE)), ['redis-1', 'web-1'])
    assert.deepEqual(Object.keys(filterMap(agentServices, 'Port != 6379 and not Address == ""', AGENT_SERVICE)), ['redis-2'])
    assert.deepEqual(Object.keys(filterMap(agentServices)), ['redis-1', 'redis-2', 'web-1'])
  })
  test('a bad expression throws even for an empty input', () => {
    assert.throws(() => filterList([], 'Nope == 1', CATALOG_SERVICE), FilterError)
    assert.throws(() => filterMap({}, 'Service ==', AGENT_SERVICE), FilterError)
  })
})

describe('property: random expressions agree with a naive evaluator', () => {
  // atoms with known truth on web1
  const atoms: ReadonlyArray<readonly [string, boolean]> = [
    ['ServiceName == web', true],
    ['ServicePort != 8000', false],
    ['"v1" in ServiceTags', true],
    ['ServiceTags contains "nope"', false],
    ['ServiceMeta["k-1"] is not empty', true],
    ['NodeMeta is empty', false],
    ['Address matches `^10\\.`', true],
    ['ServiceMeta.env not matches "^prod$"', false],
  ]
  type Tree = { t: 'atom'; i: number } | { t: 'not'; x: Tree } | { t: 'and' | 'or'; l: Tree; r: Tree }
  let seed = 42
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const gen = (depth: number): Tree => {
    const k = depth <= 0 ? 0 : rand(4)
    if (k === 0) return { t: 'atom', i: rand(atoms.length) }
    if (k === 1) return { t: 'not', x: gen(depth - 1) }
    return { t: k === 2 ? 'and' : 'or', l: gen(depth - 1), r: gen(depth - 1) }
  }
  const naive = (x: Tree): boolean =>
    x.t === 'atom' ? atoms[x.i]![1] : x.t === 'not' ? !naive(x.x) : x.t === 'and' ? naive(x.l) && naive(x.r) : naive(x.l) || naive(x.r)
  const sp = (): string => [' ', '  ', '\n', '\t '][rand(4)]!
  // fully parenthesised rendering, with random extra parentheses and spacing
  const render = (x: Tree): string => {
    const s = x.t === 'atom' ? atoms[x.i]![0] : x.t === 'not' ? `not${sp()}(${render(x.x)})` : `(${render(x.l)})${sp()}${x.t}${sp()}(${render(x.r)})`
    return rand(3) === 0 ? `(${sp()}${s}${sp()})` : s
  }
  // minimally parenthesised rendering that relies on precedence
  const prec = (x: Tree): number => (x.t === 'or' ? 1 : x.t === 'and' ? 2 : 3)
  const minimal = (x: Tree): string => {
    if (x.t === 'atom') return atoms[x.i]![0]
    if (x.t === 'not') return x.x.t === 'atom' || x.x.t === 'not' ? `not ${minimal(x.x)}` : `not (${minimal(x.x)})`
    const side = (y: Tree, right: boolean) => (prec(y) < prec(x) || (!right && prec(y) === prec(x)) ? `(${minimal(y)})` : minimal(y))
    return `${side(x.l, false)} ${x.t} ${side(x.r, true)}`
  }
  test('300 random trees, two renderings each', () => {
    for (let i = 0; i < 300; i++) {
      const tree = gen(1 + rand(5))
      const want = naive(tree)
      for (const src of [render(tree), minimal(tree)]) {
        assert.equal(compileFilter(src, { schema: CATALOG_SERVICE }).match(web1), want, src)
      }
    }
  })
  test('long chains and hostile nesting', () => {
    const chain = Array.from({ length: 20000 }, (_, i) => `ServicePort == ${10000 + i}`).join(' or ')
    assert.equal(compileFilter(chain, { schema: CATALOG_SERVICE }).match(web1), false)
    assert.equal(compileFilter(`${chain} or ServicePort == 8000`, { schema: CATALOG_SERVICE }).match(web1), true)
    assert.throws(() => compileFilter('('.repeat(100000), { schema: CATALOG_SERVICE }), /nested more than 500 levels/)
    assert.throws(() => compileFilter('not '.repeat(100000) + 'ServiceName == web', { schema: CATALOG_SERVICE }), FilterError)
    assert.equal(compileFilter('not '.repeat(101) + 'ServiceName == web', { schema: CATALOG_SERVICE }).match(web1), false)
  })
  test('deep nesting stays linear', () => {
    const deep = '('.repeat(200) + 'ServiceName == web' + ')'.repeat(200)
    assert.equal(compileFilter(deep, { schema: CATALOG_SERVICE }).match(web1), true)
    assert.throws(() => compileFilter('('.repeat(200) + 'ServiceName == web' + ')'.repeat(199), { schema: CATALOG_SERVICE }), /Unmatched parentheses/)
  })
})
