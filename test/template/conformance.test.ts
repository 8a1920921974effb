/**
 * Differential conformance: every case in test/template/cases must render
 * exactly what Go's text/template rendered (the golden files), or, for cases
 * needing a newer Go than the goldens were made with, the hand-verified
 * "expect" written in the case.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTopics, runCase, type Result } from './harness.js';

const topics = loadTopics();

test('the corpus has cases', () => {
  const n = topics.reduce((acc, t) => acc + t.cases.length, 0);
  assert.ok(n > 0);
});

for (const { topic, cases, golden } of topics) {
  test(`conformance: ${topic}`, async (t) => {
    for (const c of cases) {
      await t.test(c.name, () => {
        let want: Result | undefined = golden?.results[c.name];
        if (want === undefined) {
          assert.ok(c.minGo !== undefined && c.expect !== undefined, `case ${c.name} has no golden and no minGo expectation`);
          want = c.expect;
        }
        const got = runCase(c);
        assert.deepEqual(
          { out: got.out, err: got.err ?? null, phase: got.phase ?? null },
          { out: want!.out, err: want!.err ?? null, phase: want!.phase ?? null },
        );
      });
    }
  });
}
