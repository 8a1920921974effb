/**
 * Our RE2 translation against Go's regexp package: for every case in test/lib/re2/cases.json,
 * the golden (written by Go through re2/gen/main.go, checked in CI by re2/check-goldens.sh)
 * says whether the pattern compiles and every match with its groups in each input.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compileRe2, findAllRe2 } from '../../src/lib/re2.js'
import { ROOT } from '../helpers/agent.js'

interface Case {
  pattern: string
  inputs: string[]
}
interface Golden {
  pattern: string
  error: boolean
  matches: Array<Array<Array<string | null>>>
}

const dir = join(ROOT, 'test', 'lib', 're2')
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Case[]
const golden = (JSON.parse(readFileSync(join(dir, 'cases.golden.json'), 'utf8')) as { results: Golden[] }).results

/** Patterns where we knowingly differ from Go; each says why. */
const KNOWN: Record<string, string> = {
  '(?<y>b)|c': 'Go 1.22 added (?<name>); the golden comes from Debian\'s Go 1.19, which rejects it. We accept it, as current Go does.',
  '(a*)*': 'JS reports a group that last matched empty inside a loop as unset; Go reports "".',
  '[[:^alpha:]]': 'negated POSIX classes are rejected with a message (not expressible in one JS class).',
  'a(?i)b': 'flags part-way through a pattern: Node 20\'s RegExp has no modifiers; rejected with a message.',
  'a(?i:b)': 'flag groups: as above.',
}

test('the golden covers every case, in order', () => {
  assert.deepEqual(
    golden.map((g) => g.pattern),
    cases.map((c) => c.pattern),
  )
})

test('RE2 patterns compile where Go compiles them and find the same matches and groups', () => {
  const failures: string[] = []
  for (const [i, c] of cases.entries()) {
    const g = golden[i]!
    if (KNOWN[c.pattern]) {
      // Still never a crash: either a RegExp or Go's kind of error.
      try {
        compileRe2(c.pattern)
      } catch (err) {
        assert.match((err as Error).message, /^error parsing regexp: /)
      }
      continue
    }
    let re: RegExp | undefined
    let error: string | undefined
    try {
      re = compileRe2(c.pattern, { global: true })
    } catch (err) {
      error = (err as Error).message
      if (!error.startsWith('error parsing regexp: ')) failures.push(`${JSON.stringify(c.pattern)}: error without Go's prefix: ${error}`)
    }
    if (g.error || !re) {
      if (g.error !== !re) failures.push(`${JSON.stringify(c.pattern)}: Go ${g.error ? 'rejects' : 'accepts'} it, we ${re ? 'accept' : `reject it (${error})`}`)
      continue
    }
    c.inputs.forEach((input, k) => {
      const ours = findAllRe2(re!, input).map((m) => [...m].map((s) => s ?? null))
      try {
        assert.deepEqual(ours, g.matches[k])
      } catch {
        failures.push(`${JSON.stringify(c.pattern)} on ${JSON.stringify(input)}: Go ${JSON.stringify(g.matches[k])}, ours ${JSON.stringify(ours)}`)
      }
    })
  }
  assert.deepEqual(failures, [])
})
