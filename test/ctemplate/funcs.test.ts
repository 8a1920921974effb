import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Template } from '../../src/template/index.js'
import { funcMap, type Brain } from '../../src/ctemplate/funcs.js'
import { HealthService, KeyPair, KVListQuery, HealthServiceQuery, KVGetQuery } from '../../src/ctemplate/deps.js'
import { goTimeFormat } from '../../src/ctemplate/gofmt.js'
import { removeDir, tempDir } from '../helpers/agent.js'

/** Renders text with consul-template's functions over a brain, as the runner does (dot is nil). */
function run(text: string, brain: Brain = new Map(), env: Record<string, string> = {}): { out: string; missing: string[]; used: string[] } {
  const rec = { used: new Map(), missing: new Map() }
  const t = new Template('t')
  t.funcs(funcMap({ brain, rec, tmpl: () => t, env, sandboxPath: '', denylist: [], now: () => new Date(Date.UTC(2009, 10, 10, 23, 4, 5, 120)) }))
    .option('missingkey=zero')
    .parse(text)
  return { out: t.execute(undefined), missing: [...rec.missing.keys()], used: [...rec.used.keys()] }
}
const R = (text: string, brain?: Brain, env?: Record<string, string>): string => run(text, brain, env).out

describe('data functions read the brain and record what is missing', () => {
  test('missing data gives zero values and is recorded', () => {
    const r = run('{{ key "a" }}|{{ keyOrDefault "b" "def" }}|{{ keyExists "c" }}|{{ len (service "web") }}')
    assert.equal(r.out, '|def|false|0')
    assert.deepEqual(r.missing, ['kv.block(a)', 'kv.get(b)', 'kv.get(c)', 'health.service(web|passing)'])
  })

  test('present data', () => {
    const brain: Brain = new Map()
    brain.set(new KVGetQuery('a', true).id, 'va')
    brain.set(new KVGetQuery('b').id, '')
    brain.set(new KVGetQuery('c').id, null)
    const hs = new HealthService()
    hs.Name = 'web'
    hs.Address = '10.0.0.1'
    hs.Port = 80
    brain.set(new HealthServiceQuery('web|passing,warning').id, [hs])
    const r = run('{{ key "a" }}|{{ keyOrDefault "b" "def" }}|{{ keyExists "c" }}|{{ range service "web" "passing, warning" }}{{.Address}}:{{.Port}}{{end}}', brain)
    assert.equal(r.out, 'va|def|false|10.0.0.1:80')
    assert.deepEqual(r.missing, [])
  })

  test('ls keeps top-level keys, tree drops folders, safeLs refuses empty', () => {
    const brain: Brain = new Map()
    const kp = (k: string, v: string) => new KeyPair('app/' + k, k, v, 1, 1, 0, 0, '')
    brain.set(new KVListQuery('app').id, [new KeyPair('app', '', 'self', 1, 1, 0, 0, ''), kp('a', '1'), kp('dir/', ''), kp('dir/b', '2')])
    brain.set(new KVListQuery('empty').id, [])
    assert.equal(R('{{range ls "app"}}{{.Key}}={{.Value}};{{end}}', brain), 'a=1;')
    assert.equal(R('{{range tree "app"}}{{.Key}}={{.Value}};{{end}}', brain), 'a=1;dir/b=2;')
    assert.deepEqual(run('{{range safeLs "empty"}}x{{end}}', brain).missing, ['kv.list(empty)'])
    assert.deepEqual(run('{{range ls "empty"}}x{{end}}', brain).missing, [])
    assert.equal(R('{{ with (tree "app" | explode) }}{{ .dir.b }}{{ end }}', brain), '2')
    assert.equal(R('{{ range $k, $v := (tree "app" | byKey) }}{{ $k }}:{{ range $v }}{{ .Key }}{{ end }}{{ end }}', brain), 'dir:b')
  })

  test('connect uses its own dependency; Vault and other unsupported functions fail clearly', () => {
    assert.deepEqual(run('{{ connect "web" }}').missing, ['health.connect(web|passing)'])
    assert.throws(() => R('{{ with secret "kv/x" }}{{ end }}'), /error calling secret: secret: Vault is not supported by this consul-template/)
  })

  test('bad queries fail the template with upstream messages', () => {
    assert.throws(() => R('{{ service "x.y.z!" }}'), /error calling service: health.service: invalid format: "x.y.z!"/)
  })
})

describe('helpers', () => {
  test('env, mustEnv, envOrDefault', () => {
    assert.equal(R('{{ env "CT_X" }}|{{ envOrDefault "CT_NOPE_X" "d" }}', new Map(), { CT_X: 'x' }), 'x|d')
    assert.throws(() => R('{{ mustEnv "CT_NOPE_X" }}'), /required environment variable CT_NOPE_X is empty/)
  })

  test('strings', () => {
    assert.equal(R('{{ "a,b,c" | split "," | join ";" }}'), 'a;b;c')
    assert.equal(R('{{ "  " | split "," | len }}'), '0')
    assert.equal(R('{{ "xxhixx" | trim "x" }}|{{ "prefix-a" | trimPrefix "prefix-" }}|{{ "a.txt" | trimSuffix ".txt" }}|{{ "  s \\n" | trimSpace }}'), 'hi|a|a|s')
    assert.equal(R('{{ "hello world" | toTitle }}|{{ "AbC" | toLower }}|{{ "abc" | toUpper }}'), 'Hello World|abc|ABC')
    assert.equal(R('{{ "a-b-c" | replaceAll "-" "+" }}'), 'a+b+c')
    assert.equal(R('{{ "a\\nb" | indent 2 }}'), '  a\n  b')
    assert.equal(R('{{ range $k, $v := "a=1&b=2" | splitToMap "&" "=" }}{{$k}}{{$v}}{{end}}'), 'a1b2')
  })

  test('regexes: RE2 syntax and $1/${name} expansion', () => {
    assert.equal(R('{{ "zk1:zkid-3" | regexReplaceAll ".*:zkid-([0-9]*)" "$1" }}'), '3')
    assert.equal(R('{{ "ab" | regexReplaceAll "(?P<x>a)" "${x}X" }}'), 'aXb')
    assert.equal(R('{{ "abc" | regexReplaceAll "(b)" "$1x" }}'), 'ac') // $1x names group "1x": empty
    assert.equal(R('{{ "abc" | regexReplaceAll "b" "$$" }}'), 'a$c')
    assert.equal(R('{{ "ABC" | regexMatch "(?i)^abc$" }}'), 'true')
    // RE2 syntax that JS spells differently: escaped punctuation, POSIX classes, \pL, \z.
    assert.equal(R('{{ "a-b:12" | regexMatch `^a\\-b\\:[[:digit:]]+\\z` }}'), 'true')
    assert.equal(R('{{ "é1" | regexReplaceAll `\\pL` "x" }}'), 'x1')
    assert.equal(R('{{ "a_b" | regexReplaceAll `[\\_]` "-" }}'), 'a-b')
    assert.throws(() => R('{{ regexMatch `(a)\\1` "aa" }}'), /error parsing regexp/)
  })

  test('encodings and hashes', () => {
    assert.equal(R('{{ "hi?" | base64Encode }}|{{ "aGk/" | base64Decode }}|{{ "hi?" | base64URLEncode }}|{{ "aGk_" | base64URLDecode }}'), 'aGk/|hi?|aGk_|hi?')
    assert.throws(() => R('{{ "!!" | base64Decode }}'), /base64Decode: illegal base64 data at input byte 0/)
    assert.equal(R('{{ "abc" | sha256Hex }}'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert.equal(R('{{ "abc" | md5sum }}'), '900150983cd24fb0d6963f7d28e17f72')
    assert.equal(R('{{ hmacSHA256Hex "msg" "key" }}'), '2d93cbc1be167bcb1637a4a23cbff01a7878f0c50ee833954ea5221bb1b8c628')
  })

  test('parse functions and JSON: float64 from parseJSON, Go escaping, sorted keys', () => {
    assert.equal(R('{{ parseBool "t" }}|{{ parseInt "-42" }}|{{ parseUint "18446744073709551615" }}|{{ parseFloat "1.5" }}'), 'true|-42|18446744073709551615|1.5')
    assert.equal(R('{{ (parseJSON `{"n":1000000}`).n }}'), '1e+06')
    assert.equal(R('{{ toJSON (parseJSON `{"b":[1,2.5],"a":"<&>"}`) }}'), '{"a":"\\u003c\\u0026\\u003e","b":[1,2.5]}')
    assert.equal(R('{{ toJSON (parseJSON `[1e21, 1e-7, 0.000001, 1e20]`) }}'), '[1e+21,1e-7,0.000001,100000000000000000000]')
    assert.equal(R('{{ toJSONPretty (parseJSON `{"b":1,"a":{}}`) }}'), '{\n  "a": {},\n  "b": 1\n}')
    assert.equal(R('{{ toUnescapedJSON (parseJSON `{"a":"<"}`) }}'), '{"a":"<"}')
    assert.equal(R('{{ (parseYAML "a: 1\\nb: [x, y]").b }}'), '[x y]')
    assert.equal(R('{{ toYAML (parseJSON `{"b":1,"a":"x"}`) }}'), 'a: x\nb: 1')
    assert.equal(R('{{ toTOML (parseJSON `{"b":1,"a":"x","t":{"k":true}}`) }}'), 'a = "x"\nb = 1.0\n\n[t]\n  k = true')
    assert.throws(() => R('{{ parseInt "x" }}'), /parseInt: strconv.ParseInt: parsing "x": invalid syntax/)
  })

  test('collections', () => {
    assert.equal(R('{{ "a,b" | split "," | contains "b" }}|{{ in ("a,b" | split ",") "c" }}|{{ "abc" | contains "bc" }}'), 'true|false|true')
    const lists = '{{ $h := "a,b,c" | split "," }}{{ $n := (parseJSON `["a","x"]`) }}'
    assert.equal(R(lists + '{{ containsAll $n $h }}{{ containsAny $n $h }}{{ containsNone $n $h }}{{ containsNotAll $n $h }}'), 'falsetruefalsetrue')
    assert.equal(R('{{ range loop 3 }}{{.}}{{end}}|{{ range loop 2 4 }}{{.}}{{end}}'), '012|23')
    assert.equal(R('{{ $m := mergeMap (parseJSON `{"a":1}`) (parseJSON `{"a":2,"b":3}`) }}{{ $m.a }}{{ $m.b }}'), '13')
    assert.equal(R('{{ (explodeMap (parseJSON `{"a/b":"x"}`)).a.b }}'), 'x')
  })

  test('math in consul-template argument order', () => {
    assert.equal(R('{{ subtract 2 5 }}|{{ 5 | subtract 2 }}|{{ add 1 2 }}|{{ multiply 3 4 }}|{{ divide 2 10 }}|{{ modulo 3 10 }}'), '3|3|3|12|5|1')
    assert.equal(R('{{ add 1.5 2 }}|{{ divide 4 2.0 }}|{{ minimum 1 2 }}|{{ maximum 1 2 }}'), '3.5|0.5|1|2')
    assert.throws(() => R('{{ add 1 "x" }}'), /add: unknown type for "x" \(string\)/)
    assert.throws(() => R('{{ divide 0 1 }}'), /integer divide by zero/)
  })

  test('scratch and executeTemplate', () => {
    assert.equal(R('{{ scratch.Set "a" 1 }}{{ scratch.Get "a" }}{{ scratch.Key "a" }}{{ scratch.MapSet "m" "z" 2 }}{{ scratch.MapSet "m" "y" 1 }}{{ scratch.MapValues "m" }}'), '1true[1 2]')
    assert.equal(R('{{ define "x" }}[{{ . }}]{{ end }}{{ executeTemplate "x" "v" }}'), '[v]')
  })

  test('timestamp with Go layouts', () => {
    assert.equal(R('{{ timestamp }}'), '2009-11-10T23:04:05Z')
    assert.equal(R('{{ timestamp "unix" }}'), '1257894245')
    assert.equal(R('{{ timestamp "Mon Jan _2 15:04:05.000 MST 2006" }}'), 'Tue Nov 10 23:04:05.120 UTC 2009')
    assert.equal(goTimeFormat(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), '02/01/06 3:04PM'), '02/01/24 3:04AM')
  })

  test('byTag and byMeta', () => {
    const a = new HealthService()
    a.ID = 'a'
    a.Tags = ['x', 'y']
    a.ServiceMeta = { v: '2', zone: 'e-1' }
    const b = new HealthService()
    b.ID = 'b'
    b.Tags = ['y']
    b.ServiceMeta = { v: '10' }
    const brain: Brain = new Map([[new HealthServiceQuery('web').id, [a, b]]])
    assert.equal(R('{{ range $t, $s := service "web" | byTag }}{{ $t }}={{ range $s }}{{ .ID }}{{ end }};{{ end }}', brain), 'x=a;y=ab;')
    assert.equal(R('{{ range $k, $s := service "web" | byMeta "zone,v|int" }}{{ $k }}={{ range $s }}{{ .ID }}{{ end }};{{ end }}', brain), '_no_zone__00010=b;e-1_00002=a;')
  })

  const dir = tempDir('ct-funcs-')
  after(() => removeDir(dir))
  test('writeToFile and plugin', () => {
    const p = join(dir, 'sub', 'f.txt')
    assert.equal(R(`{{ writeToFile "${p}" "" "" "0640" "one" }}{{ writeToFile "${p}" "" "" "0640" "append,newline" "two" }}`), '')
    assert.equal(readFileSync(p, 'utf8'), 'onetwo\n')
    assert.equal(statSync(p).mode & 0o777, 0o640)
    assert.equal(R('{{ plugin "echo" "  hi  " "there" }}'), 'hi there')
    assert.throws(() => R('{{ plugin "false" }}'), /exec "false": exit status 1/)
  })

  test('file honours sandbox_path', () => {
    const inside = join(dir, 'sb', 'in.txt')
    mkdirSync(join(dir, 'sb'), { recursive: true })
    writeFileSync(inside, 'x')
    writeFileSync(join(dir, 'out.txt'), 'y')
    const exec = (text: string) => {
      const rec = { used: new Map(), missing: new Map() }
      const t = new Template('t')
      t.funcs(funcMap({ brain: new Map(), rec, tmpl: () => t, env: {}, sandboxPath: join(dir, 'sb'), denylist: [] })).parse(text)
      t.execute(undefined)
      return [...rec.missing.keys()]
    }
    assert.equal(exec(`{{ file "${inside}" }}`).length, 1)
    assert.throws(() => exec(`{{ file "${join(dir, 'out.txt')}" }}`), /is outside of sandbox/)
  })

  test('function_denylist', () => {
    const t = new Template('t')
    t.funcs(funcMap({ brain: new Map(), rec: { used: new Map(), missing: new Map() }, tmpl: () => t, env: {}, sandboxPath: '', denylist: ['plugin', 'to*'] })).parse('{{ toUpper "a" }}')
    assert.throws(() => t.execute(undefined), /function is disabled/)
  })
})
