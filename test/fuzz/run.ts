/**
 * `npm run fuzz -- <target|all> [--time 10m] [--runs N] [--seed S] [--from I]`: the long mode of the
 * fuzzers CI runs briefly (test/fuzz/fuzz.test.ts). Prints inputs, rate and the slowest input per
 * target; a finding prints the seed and index that replay it and exits 1.
 */
import { parseDurationMs } from '../../src/lib/duration.js'
import { fuzz } from './runner.js'
import { TARGETS } from './targets.js'
import { flag } from '../helpers/argv.js'

// `node --test dist/test/` runs every file under test/ (this one too): there it is not the CLI.
const underTestRunner = process.env.NODE_TEST_CONTEXT !== undefined


const which = process.argv[2]
if (underTestRunner) process.exit(0)
if (!which || which.startsWith('--') || (which !== 'all' && !TARGETS.some((t) => t.name === which))) {
  process.stderr.write(`usage: npm run fuzz -- <${['all', ...TARGETS.map((t) => t.name)].join('|')}> [--time 10m] [--runs N] [--seed S] [--from I]\n`)
  for (const t of TARGETS) process.stderr.write(`  ${t.name.padEnd(15)} ${t.what}\n`)
  process.exit(2)
}
const targets = which === 'all' ? TARGETS : TARGETS.filter((t) => t.name === which)
const time = flag('time')
const runs = flag('runs')
const seed = Number(flag('seed') ?? Date.now() % 2 ** 31)
const from = Number(flag('from') ?? 0)
// Without --time or --runs, a minute per target.
const timeMs = time !== undefined ? parseDurationMs(time) / targets.length : runs === undefined ? 60_000 : undefined
let failed = false
for (const t of targets) {
  const r = await fuzz(t, { seed, runs: runs === undefined ? undefined : Number(runs), timeMs, from })
  const rate = Math.round(r.inputs / (r.ms / 1000))
  process.stdout.write(`${t.name.padEnd(15)} ${r.inputs.toLocaleString().padStart(12)} inputs  ${rate.toLocaleString().padStart(9)}/s  slowest ${r.slowestMs.toFixed(1)} ms  seed ${seed}${r.finding ? '  FINDING' : '  ok'}\n`)
  if (r.finding) {
    failed = true
    process.stdout.write(`  ${r.finding.message}\n  replay: npm run fuzz -- ${t.name} --seed ${seed} --from ${r.finding.from} --runs ${r.finding.index - r.finding.from + 1}\n  input (base64): ${r.finding.inputBase64}\n`)
  }
}
process.exit(failed ? 1 : 0)
