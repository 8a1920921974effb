import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

// The compiled tests run from dist/test/raft/core; the sources are at the repository's src/raft/core.
const dir = fileURLToPath(new URL('../../../../src/raft/core/', import.meta.url))

test('the raft core has no I/O, clock, randomness or Node imports', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  assert.ok(files.length >= 8, `found ${files.length} source files`)
  const forbidden = [/from ['"]node:/, /from ['"](fs|net|os|path|crypto|timers)['"]/, /Date\.now/, /new Date\(/, /Math\.random/,
    /setTimeout|setInterval|setImmediate|queueMicrotask/, /process\./, /^let |^var /m]
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8')
    for (const re of forbidden) assert.doesNotMatch(src, re, `${f} must not use ${re}`)
    assert.ok(src.split('\n').length <= 800, `${f} is over 800 lines`)
  }
})
