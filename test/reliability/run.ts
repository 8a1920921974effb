/**
 * `npm run reliability -- [--seconds 20] [--sizes 3,5] [--clients 2] [--seed S] [--fault a,b]
 * [--workload x,y] [--json FILE]`: every nemesis against every workload on real processes, one
 * table; a failure prints its seed, schedule and replay line, and exits 1. CI runs a short version
 * (test/reliability/reliability.test.ts).
 */
import { writeFileSync } from 'node:fs'
import { FAULTS } from './nemeses.js'
import { WORKLOADS } from './workloads.js'
import { runSuite, table } from './suite.js'
import { flag } from '../helpers/argv.js'

// `node --test dist/test/` runs every file under test/ (this one too): there it is not the CLI.
if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0)

const list = (name: string): string[] | undefined => flag(name)?.split(',').filter(Boolean)

if (process.argv.includes('--help')) {
  process.stdout.write(`usage: npm run reliability -- [--seconds 20] [--sizes 3,5] [--clients 2] [--seed S] [--fault a,b] [--workload x,y] [--json FILE]\n\nnemeses:\n${FAULTS.map((f) => `  ${f.name.padEnd(18)} ${f.what}`).join('\n')}\nworkloads:\n${WORKLOADS.map((w) => `  ${w.name.padEnd(18)} ${w.what}`).join('\n')}\n`)
  process.exit(0)
}
const faults = list('fault')
const workloads = list('workload')
for (const f of faults ?? []) if (!FAULTS.some((x) => x.name === f)) throw new Error(`unknown nemesis ${f}; --help lists them`)
for (const w of workloads ?? []) if (!WORKLOADS.some((x) => x.name === w)) throw new Error(`unknown workload ${w}; --help lists them`)

const seed = Number(flag('seed') ?? Date.now() % 2 ** 31)
const started = Date.now()
const result = await runSuite({
  seed,
  sizes: (list('sizes') ?? ['3', '5']).map(Number),
  clients: Number(flag('clients') ?? 2),
  secondsPerFault: Number(flag('seconds') ?? 20),
  faults,
  workloads,
  net: 40,
  log: (line) => process.stderr.write(`${line}\n`),
})
process.stdout.write(`\n${table(result.rows)}\nseed ${seed}, ${Math.round((Date.now() - started) / 1000)} s\n`)
for (const f of result.failures) process.stdout.write(`\nFAILED ${f}\n`)
const json = flag('json')
if (json) writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), seed, rows: result.rows, failures: result.failures }, null, 2))
process.exit(result.failures.length > 0 ? 1 : 0)
