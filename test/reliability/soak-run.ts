/**
 * `npm run soak -- [--minutes 60] [--servers 3] [--clients 20] [--sample 1m] [--round 1s] [--json FILE]`:
 * the long soak (CI runs 5 minutes of it, test/reliability/soak.test.ts). Prints a line per sample,
 * then each measure's worst growth against its bound; exits 1 on an error, a crash or a leak.
 * `--judge FILE` applies the bounds again to a saved run.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseDurationMs } from '../../src/lib/duration.js'
import { judge, soak, summary, type SoakReport } from './soak.js'
import { flag } from '../helpers/argv.js'

// `node --test dist/test/` runs every file under test/ (this one too): there it is not the CLI.
if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0)

if (process.argv.includes('--help')) {
  process.stdout.write('usage: npm run soak -- [--minutes 60] [--servers 3] [--clients 20] [--sample 1m] [--round 1s] [--json FILE] | --judge FILE\n')
  process.exit(0)
}
// --judge FILE: the bounds applied again to a saved run's samples (they are a pure function of them).
const saved = flag('judge')
if (saved) {
  const r = JSON.parse(readFileSync(saved, 'utf8')) as SoakReport
  r.growth = judge(r.samples)
  r.ok = r.errors.length === 0 && r.crashes.length === 0 && r.growth.every((g) => g.ok)
  process.stdout.write(`${summary(r)}\n`)
  writeFileSync(saved, `${JSON.stringify(r, null, 1)}\n`)
  process.exit(r.ok ? 0 : 1)
}
const started = Date.now()
const report = await soak({
  minutes: Number(flag('minutes') ?? 60),
  servers: Number(flag('servers') ?? 3),
  clients: Number(flag('clients') ?? 20),
  sampleMs: parseDurationMs(flag('sample') ?? '1m'),
  roundMs: parseDurationMs(flag('round') ?? '1s'),
  net: 60 + Math.floor(Math.random() * 40),
  log: (line) => process.stdout.write(`${line}\n`),
})
process.stdout.write(`${summary(report)}\n`)
const json = flag('json')
if (json) writeFileSync(json, `${JSON.stringify({ date: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), ...report }, null, 1)}\n`)
process.exit(report.ok ? 0 : 1)
