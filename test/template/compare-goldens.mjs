// Compares goldens regenerated with a different Go version than the committed
// ones (see check-goldens.sh): every case both versions ran must agree, and a
// minGo case the newer Go ran must match its hand-written "expect".
// Usage: node compare-goldens.mjs <cases-dir> <regenerated-dir>
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [casesDir, newDir] = process.argv.slice(2);
const norm = (r) => JSON.stringify({ out: r.out, err: r.err ?? null, phase: r.phase ?? null });
let bad = 0;
let same = 0;
let expects = 0;
for (const f of readdirSync(newDir).filter((x) => x.endsWith('.golden.json'))) {
  const topic = f.slice(0, -'.golden.json'.length);
  const fresh = JSON.parse(readFileSync(join(newDir, f), 'utf8'));
  const old = JSON.parse(readFileSync(join(casesDir, f), 'utf8'));
  const cases = JSON.parse(readFileSync(join(casesDir, topic + '.json'), 'utf8'));
  for (const c of cases) {
    const got = fresh.results[c.name];
    if (got === undefined) continue;
    const committed = old.results[c.name];
    if (committed !== undefined) {
      if (norm(committed) === norm(got)) same++;
      else {
        bad++;
        console.error(`${topic}/${c.name}: ${old.go} and ${fresh.go} differ:\n  ${norm(committed)}\n  ${norm(got)}`);
      }
    } else if (c.expect !== undefined) {
      if (norm(c.expect) === norm(got)) expects++;
      else {
        bad++;
        console.error(`${topic}/${c.name}: expect (minGo ${c.minGo}) differs from ${fresh.go}:\n  ${norm(c.expect)}\n  ${norm(got)}`);
      }
    }
  }
}
console.log(`compare-goldens: ${same} cases agree with the committed goldens, ${expects} minGo expectations confirmed, ${bad} mismatches`);
process.exit(bad === 0 ? 0 : 1);
