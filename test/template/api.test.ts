/**
 * The public API: Template methods, typed errors, the float64 marker, and
 * parsing every example template in templates/.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ExecError,
  GoFloat,
  Mode,
  ParseError,
  Template,
  TemplateError,
  float64,
  parse,
  sprintf,
} from '../../src/template/index.js';

test('parse returns the template; execute renders', () => {
  const t = new Template('hello');
  assert.equal(t.parse('Hello, {{.name}}!'), t);
  assert.equal(t.execute({ name: 'world' }), 'Hello, world!');
  assert.equal(t.execute({ name: 'again' }), 'Hello, again!');
});

test('funcs, option, delims chain and apply', () => {
  const t = new Template('t')
    .funcs({ up: (s: string) => s.toUpperCase() })
    .option('missingkey=error')
    .delims('[[', ']]')
    .parse('[[up .a]] {{.a}}');
  assert.equal(t.execute({ a: 'x' }), 'X {{.a}}');
  assert.throws(() => t.execute({}), (e: unknown) => e instanceof ExecError && /map has no entry for key "a"/.test(e.message));
});

test('a function that throws reports "error calling"; the thrown error is the cause', () => {
  const boom = new Error('nope');
  const t = new Template('t').funcs({
    bad: () => {
      throw boom;
    },
  });
  t.parse('a{{bad}}b');
  assert.throws(
    () => t.execute(null),
    (e: unknown) =>
      e instanceof ExecError &&
      e.message === 'template: t:1:3: executing "t" at <bad>: error calling bad: nope' &&
      e.partialOutput === 'a' &&
      e.templateName === 't' &&
      e.cause === boom,
  );
});

test('parse errors are ParseError with Go text', () => {
  assert.throws(
    () => new Template('x').parse('{{if}}'),
    (e: unknown) => e instanceof ParseError && e instanceof TemplateError && e.message === 'template: x:1: missing value for if',
  );
});

test('unknown option throws like Go panics', () => {
  assert.throws(() => new Template('x').option('bogus'), /unrecognized option: bogus/);
  assert.throws(() => new Template('x').funcs({ 'a-b': () => 1 }), /not a valid identifier/);
});

test('lookup, new, executeTemplate, definedTemplates', () => {
  const t = new Template('root').parse('{{define "a"}}A{{.}}{{end}}R');
  assert.ok(t.lookup('a'));
  assert.equal(t.lookup('zz'), undefined);
  assert.equal(t.executeTemplate('a', 1), 'A1');
  t.new('b').parse('B{{template "a" 2}}');
  assert.equal(t.executeTemplate('b', null), 'BA2');
  assert.match(t.definedTemplates(), /^; defined templates are: /);
  assert.throws(() => t.executeTemplate('nope', null), /no template "nope" associated with template "root"/);
});

test('incomplete template', () => {
  assert.throws(() => new Template('e').execute(null), /template: e: "e" is an incomplete or empty template/);
});

test('float64 marker: integral floats print and compare as Go float64', () => {
  assert.ok(float64(8080) instanceof GoFloat);
  assert.equal(float64(1.5), 1.5);
  const t = new Template('t').parse('{{.p}} {{printf "%d" .p}} {{.big}}');
  assert.equal(t.execute({ p: float64(8080), big: float64(1e6) }), '8080 %!d(float64=8080) 1e+06');
  assert.throws(() => new Template('t').parse('{{eq .p 8080}}').execute({ p: float64(8080) }), /incompatible types for comparison/);
});

test('bigint: int64 and uint64 print exactly', () => {
  const t = new Template('t').parse('{{.a}} {{.b}} {{printf "%T %T" .a .b}}');
  assert.equal(t.execute({ a: 9223372036854775807n, b: 18446744073709551615n }), '9223372036854775807 18446744073709551615 int uint64');
});

test('Map values are Go maps with sorted iteration', () => {
  const m = new Map<string, unknown>([
    ['b', 2],
    ['a', 1],
  ]);
  assert.equal(new Template('t').parse('{{range $k, $v := .}}{{$k}}{{$v}}{{end}} {{.a}}').execute(m), 'a1b2 1');
});

test('class getters are fields, methods are callable, Object.prototype is not reachable', () => {
  class Svc {
    constructor(private readonly port: number) {}
    get Port(): number {
      return this.port;
    }
    Addr(h: string): string {
      return `${h}:${this.port}`;
    }
  }
  const t = new Template('t').parse('{{.Port}} {{.Addr "h"}}');
  assert.equal(t.execute(new Svc(80)), '80 h:80');
  assert.throws(() => new Template('t').parse('{{.constructor}}').execute(new Svc(1)), /can't evaluate field constructor in type Svc/);
  assert.equal(new Template('t').parse('{{.toString}}').execute({}), '<no value>');
});

test('sprintf is exported and Go-compatible', () => {
  assert.equal(sprintf('%5.2f|%-4d|%q', 3.14159, 7, 'a"b'), ' 3.14|7   |"a\\"b"');
});

test('tree toString round-trips', () => {
  const src = '{{if .a}}x{{else}}{{range $i, $e := .l}}{{$i}}{{end}}{{end}}';
  const trees = parse('t', src, '', '', () => false);
  assert.equal(trees.get('t')!.root!.toString(), src);
});

const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

test('every example template in templates/ parses', { skip: !existsSync(TEMPLATES_DIR) }, () => {
  for (const file of walk(TEMPLATES_DIR)) {
    if (!/\.(tmpl|ctmpl|tpl|tmpl\.\w+)$/.test(file)) continue;
    // consul-template's functions are not builtins: skip the function check (Go's SkipFuncCheck).
    parse(file, readFileSync(file, 'utf8'), '', '', () => false, Mode.SkipFuncCheck);
  }
});
