/**
 * Differential fuzz against Go (optional; needs a Go toolchain): random
 * templates from the grammar, and mutations of the corpus, are rendered by
 * Go's text/template (gen/main.go) and by our engine; any difference in
 * output or error text is printed. Seeded and bounded.
 *
 *   node dist/test/template/difffuzz.js [--seed N] [--count N] [--go /path/to/go]
 *
 * A difference found here becomes a conformance case in cases/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { body, mutate, pick, rng } from './grammar.js';
import { type Golden, loadTopics, parseCases, runCase } from './harness.js';

const DIR = fileURLToPath(new URL('../../../test/template/', import.meta.url));

const DATA = [
  'null',
  '{"a":1,"b":"two","l":[1,2,3],"m":{"x":"y"}}',
  '{"a":2.0,"l":[],"m":{}}',
  '[1,"a",null,{"a":1}]',
  '"str"',
  '42',
];

function arg(args: readonly string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}

interface R {
  out: string;
  err?: string;
  phase?: string;
}

/**
 * Differences that come from our engine implementing newer Go than the Go
 * that ran (see README "minGo"); returns why, or null.
 */
function knownVersionDifference(go: R, ours: R): string | null {
  const ge = go.err ?? '';
  const oe = ours.err ?? '';
  if (/range can't iterate over -?\d+$/.test(ge)) return 'range over an integer (Go 1.24)';
  if (ge.endsWith('incompatible types for comparison') && oe.startsWith(ge + ': ')) {
    return 'comparison error names the types (Go 1.25)';
  }
  if (/unexpected "\)" in [^"]+$/.test(ge) && oe.endsWith('unexpected right paren')) return "lexer's right paren error (Go 1.23)";
  if (ge.endsWith('unexpected <with> in else')) return '{{else with}} (Go 1.23)';
  if ((ours.out + oe).includes('%!p(')) return 'pointer addresses (%p) are not reproducible';
  if (/&\{/.test(ours.out + oe) && !/&\{/.test(go.out + ge)) return 'nested pointers print as addresses in Go';
  if (/(^|[^0-9a-f])(0x)?c[0-9a-f]{9}([^0-9a-f]|$)/.test(go.out + ge) || /\b82[0-9]{10}\b/.test(go.out + ge)) {
    return 'nested pointers print as addresses in Go';
  }
  if (ge.endsWith('exceeded maximum template depth (100000)') && oe.endsWith('exceeded maximum template depth (1000)')) {
    return 'our template call depth limit is 1000';
  }
  if (/error calling call: (wrong number of args|non-function)/.test(ge) && ge !== oe) return 'call errors name the callee (Go 1.23)';
  if (ge.replace(/ := /g, ' = ') === oe.replace(/ := /g, ' = ') && ge !== oe) return 'assignment printed as = (Go 1.23)';
  return null;
}

export function runDiffFuzz(args: readonly string[]): number {
  const seed = Number(arg(args, '--seed', '1'));
  const count = Number(arg(args, '--count', '2000'));
  const go = arg(args, '--go', 'go');
  const r = rng(seed);
  const corpus = loadTopics().flatMap((t) => t.cases.map((c) => c.tmpl));
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const tmpl = i % 2 === 0 ? body(r, 0) : mutate(r, pick(r, corpus));
    const c: Record<string, unknown> = { name: `f${i}`, tmpl, funcs: true, missingkey: pick(r, ['', 'zero', 'error']), defs: { t: '[{{.}}]' } };
    const k = r();
    if (k < 0.15) c.fixture = 'structs';
    else if (k < 0.3) c.floats = true;
    else if (k < 0.4) {
      c.delims = ['<<', '>>'];
      c.tmpl = tmpl.replace(/\{\{/g, '<<').replace(/\}\}/g, '>>');
      c.defs = { t: '[<<.>>]' };
    }
    lines.push(JSON.stringify(c).replace(/}$/, `,"data":${pick(r, DATA)}}`));
  }
  const tmp = mkdtempSync(join(tmpdir(), 'difffuzz-'));
  try {
    const cases = join(tmp, 'cases');
    mkdirSync(cases);
    const text = '[\n' + lines.join(',\n') + '\n]\n';
    writeFileSync(join(cases, 'fuzz.json'), text);
    const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off' };
    if (!env.GOCACHE) env.GOCACHE = join(tmp, 'gocache');
    execFileSync(go, ['build', '-o', join(tmp, 'gen'), join(DIR, 'gen', 'main.go')], { env, stdio: 'inherit' });
    execFileSync(join(tmp, 'gen'), ['-cases', cases, '-out', cases], { stdio: 'inherit' });
    const golden = JSON.parse(readFileSync(join(cases, 'fuzz.golden.json'), 'utf8')) as Golden;
    let diffs = 0;
    const known = new Map<string, number>();
    for (const c of parseCases(text)) {
      const want = golden.results[c.name];
      const got = runCase(c);
      const norm = (x: { out: string; err?: string; phase?: string }) =>
        JSON.stringify({ out: x.out, err: x.err ?? null, phase: x.phase ?? null });
      const short = (x: string) => (x.length > 300 ? x.slice(0, 300) + '...' : x);
      if (norm(got) !== norm(want)) {
        const why = knownVersionDifference(want, got);
        if (why !== null) {
          known.set(why, (known.get(why) ?? 0) + 1);
          continue;
        }
        diffs++;
        if (diffs <= 20) {
          const opts = JSON.stringify({ missingkey: c.missingkey, fixture: c.fixture, floats: c.floats, delims: c.delims });
          console.log(`--- ${c.name} ${JSON.stringify(c.tmpl)} data=${JSON.stringify(c.data)} ${opts}`);
          console.log(`  go:   ${short(norm(want))}`);
          console.log(`  ours: ${short(norm(got))}`);
        }
      }
    }
    for (const [why, n] of known) console.log(`difffuzz: ${n} expected differences: ${why}`);
    console.log(`difffuzz: seed ${seed}, ${count} templates, ${golden.go}: ${diffs} unexplained differences`);
    return diffs === 0 ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.env.NODE_TEST_CONTEXT === undefined && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = runDiffFuzz(process.argv.slice(2));
}
