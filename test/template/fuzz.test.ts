/**
 * Fuzz: random templates built from the grammar (and random mutations of the
 * conformance corpus) never hang or crash the engine; every failure is a
 * typed TemplateError. Seeded, so a failure replays: the seed is in the name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Template, TemplateError, float64 } from '../../src/template/index.js';
import { body, mutate, pick, rng } from './grammar.js';
import { loadTopics, TEST_FUNCS } from './harness.js';

const DATA = [
  null,
  { a: 1, b: 'two', l: [1, 2, 3], m: { x: 'y' }, f: () => 'called' },
  { a: float64(2), l: [], m: {} },
  [1, 'a', null, { a: 1 }],
  'str',
  42,
];

function runOne(text: string, data: unknown, missingkey: string): void {
  try {
    const t = new Template('fuzz').funcs(TEST_FUNCS).option('missingkey=' + missingkey);
    t.parse(text);
    t.new('t').parse('[{{.}}]');
    const out = t.execute(data);
    assert.equal(typeof out, 'string');
  } catch (e) {
    if (!(e instanceof TemplateError)) {
      throw new Error(`untyped error for ${JSON.stringify(text)}: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
}

const SEED = 20261126;

test(`fuzz: grammar-built templates (seed ${SEED})`, () => {
  const r = rng(SEED);
  for (let i = 0; i < 3000; i++) {
    runOne(body(r, 0), pick(r, DATA), pick(r, ['default', 'zero', 'error']));
  }
});

test(`fuzz: mutated corpus templates (seed ${SEED + 1})`, () => {
  const r = rng(SEED + 1);
  const corpus = loadTopics().flatMap((t) => t.cases.map((c) => c.tmpl));
  for (let i = 0; i < 3000; i++) {
    runOne(mutate(r, pick(r, corpus)), pick(r, DATA), pick(r, ['default', 'zero', 'error']));
  }
});

test('fuzz: deep nesting is a typed error, not a crash', () => {
  for (const text of ['{{'.repeat(5000), '{{print '.repeat(3000), '{{if 1}}'.repeat(3000), '('.repeat(5000)]) {
    runOne(text, null, 'default');
  }
  runOne('{{print ' + '('.repeat(2000) + '1' + ')'.repeat(2000) + '}}', null, 'default');
  runOne('{{if 1}}'.repeat(3000) + '{{end}}'.repeat(3000), null, 'default');
});
