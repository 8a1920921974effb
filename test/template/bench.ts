/**
 * Template benchmark: renders test/template/bench/services.tmpl (about 200
 * lines, ranges over 1,000 services) and prints renders per second for our
 * engine and, when a Go toolchain is present, for Go's text/template (the
 * same gen/main.go program in -bench mode), with the ratio. It also checks
 * that both engines produced the same bytes.
 *
 *   node dist/test/template/bench.js [--ms 2000]
 *
 * Exported as runTemplateBench() for bench/run (npm run bench -- template).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Template } from '../../src/template/index.js';
import { typeNumbers } from './harness.js';

const DIR = fileURLToPath(new URL('../../../test/template/', import.meta.url));
const TMPL = join(DIR, 'bench', 'services.tmpl');
const DATA = join(DIR, 'bench', 'services.json');

export interface BenchResult {
  ours: number;
  go: number | null;
  ratio: number | null;
  sameOutput: boolean | null;
}

function loadData(): unknown {
  // Numbers in the bench data are all integral: JSON.parse types them as Go ints.
  return typeNumbers(JSON.parse(readFileSync(DATA, 'utf8')), false);
}

function measureOurs(ms: number): { rate: number; out: string } {
  const t = new Template('bench').parse(readFileSync(TMPL, 'utf8'));
  const data = loadData();
  let out = t.execute(data);
  // Warm up.
  for (let i = 0; i < 20; i++) out = t.execute(data);
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    out = t.execute(data);
    n++;
  }
  return { rate: n / ((performance.now() - start) / 1000), out };
}

function measureGo(ms: number): { rate: number; out: string } | null {
  if (spawnSync('go', ['version']).status !== 0) return null;
  const tmp = mkdtempSync(join(tmpdir(), 'tmplbench-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off' };
    if (!env.GOCACHE) env.GOCACHE = join(tmp, 'gocache');
    execFileSync('go', ['build', '-o', join(tmp, 'gen'), join(DIR, 'gen', 'main.go')], { env, stdio: 'inherit' });
    const outFile = join(tmp, 'out.txt');
    const rate = Number(
      execFileSync(join(tmp, 'gen'), ['-bench-tmpl', TMPL, '-bench-data', DATA, '-bench-out', outFile, '-bench-ms', String(ms)], {
        encoding: 'utf8',
      }).trim(),
    );
    return { rate, out: readFileSync(outFile, 'utf8') };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function runTemplateBench(ms = 2000): BenchResult {
  const ours = measureOurs(ms);
  const go = measureGo(ms);
  const res: BenchResult = {
    ours: ours.rate,
    go: go?.rate ?? null,
    ratio: go ? ours.rate / go.rate : null,
    sameOutput: go ? go.out === ours.out : null,
  };
  console.log(`template: ours ${ours.rate.toFixed(1)} renders/s`);
  if (go) {
    console.log(`template: go   ${go.rate.toFixed(1)} renders/s (text/template, ${execFileSync('go', ['version'], { encoding: 'utf8' }).trim()})`);
    console.log(`template: ratio ours/go ${res.ratio!.toFixed(2)}x; same output: ${res.sameOutput}`);
  } else {
    console.log('template: go not found; Go comparison skipped');
  }
  return res;
}

/**
 * The bench/run entry point (`npm run bench -- template [--ms N]`): measures
 * for `--ms` milliseconds (default BENCH_SECONDS, else 2 s) per engine.
 * Exit code 1 when the engines' outputs differ, else 0.
 */
export async function runTemplateBenchCli(args: readonly string[]): Promise<number> {
  const i = args.indexOf('--ms');
  const ms = i >= 0 ? Number(args[i + 1]) : Number(process.env.BENCH_SECONDS ?? 2) * 1000;
  const res = runTemplateBench(ms);
  return res.sameOutput === false ? 1 : 0;
}

// Run when executed directly, but not when the test runner loads this file.
if (process.env.NODE_TEST_CONTEXT === undefined && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runTemplateBenchCli(process.argv.slice(2));
}
