/**
 * Go's regular expressions (RE2 syntax) run as JavaScript RegExps, for the two places users
 * write them: `?filter=` `matches` (go-bexpr) and consul-template's regex functions. The pattern
 * is translated, then compiled with the `u` flag, so that `.` and classes match code points as Go
 * matches runes. Compiled patterns are cached.
 *
 * Translated: a leading `(?flags)` with i, m, s and U (ungreedy: every quantifier's greediness
 * swapped); `(?P<name>` and `(?<name>` groups; `\A`, `\z`; `\Q...\E`; POSIX classes such as
 * `[[:alpha:]]`; `\pL`, `\p{Lu}`, `\p{Greek}`, `\PL`, `\p{^Greek}`; `\x{10FFFF}`; octal `\012`; `\a`;
 * `.`, and `^`/`$` under (?m), seeing only `\n` as a line end;
 * escaped punctuation; `]`, `}` and a `{` that starts no repetition, which RE2 reads as literals.
 * Rejected as RE2 rejects them: look-around and back-references. Not supported (rejected with a
 * message): flag groups other than a leading one, negated POSIX classes. Remaining differences:
 * JS's `\s` also matches Unicode spaces and `\v`; a group inside a loop that last matched empty
 * (`(a*)*`) reports no text where Go reports ""; RE2 is linear-time while JS backtracks (patterns
 * come from configuration and requests, both bounded in length). test/lib/re2.test.ts checks all
 * this against Go's own results (test/lib/re2/cases.golden.json).
 */

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
}

const GENERAL_CATEGORY = /^(L[ultmo]?|M[nce]?|N[dlo]?|P[cdseifo]?|S[mcko]?|Z[slp]?|C[cfson]?)$/
/** Characters JS's `u` mode lets a backslash escape; other punctuation is spelled `\xHH`. */
const JS_SYNTAX = '^$\\.*+?()[]{}|/'
const PUNCTUATION = /[!-/:-@[-`{-~]/
/** A repetition RE2 accepts: `{n}`, `{n,}`, `{n,m}`. */
const REPETITION = /^\{\d+(,\d*)?\}/
const CACHE_MAX = 256

const hex = (code: number): string => `\\u{${code.toString(16)}}`
const fail = (what: string): never => {
  throw new Error(`error parsing regexp: ${what}`)
}
const escapeLiteral = (s: string): string => [...s].map((ch) => (PUNCTUATION.test(ch) ? (JS_SYNTAX.includes(ch) ? `\\${ch}` : hex(ch.charCodeAt(0))) : ch)).join('')

const cache = new Map<string, RegExp>()

/**
 * Compiles an RE2 pattern; throws an Error whose message starts "error parsing regexp:" as Go's
 * does. `global` gives a RegExp for matchAll/replace (its lastIndex is reset on every call).
 */
export function compileRe2(pattern: string, opts: { global?: boolean } = {}): RegExp {
  const key = `${opts.global ? 'g' : '-'}${pattern}`
  const hit = cache.get(key)
  if (hit) {
    hit.lastIndex = 0
    return hit
  }
  const { source, flags } = translate(pattern)
  let re: RegExp
  try {
    re = new RegExp(source, `${flags}u${opts.global ? 'g' : ''}`)
  } catch (err) {
    return fail((err as Error).message.replace(/^Invalid regular expression: /, ''))
  }
  if (cache.size >= CACHE_MAX) cache.clear()
  cache.set(key, re)
  return re
}

function translate(pattern: string): { source: string; flags: string } {
  let src = pattern
  let flags = ''
  let ungreedy = false
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(src)
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') ungreedy = true
      else if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f
      else fail(`unsupported flag: \`${f}\``)
    }
    src = src.slice(lead[0].length)
  }
  // Multi-line anchors are spelled out below, so JS's m flag (with its wider line ends) is not used.
  const multiLine = flags.includes('m')
  flags = flags.replace('m', '')
  let out = ''
  let inClass = false
  /** After a quantifier: with U, a following `?` makes it greedy again, and its absence lazy. */
  const quantified = (i: number): number => {
    if (!ungreedy) return i
    if (src[i + 1] === '?') return i + 1
    out += '?'
    return i
  }
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const n = src[i + 1]
      if (n === undefined) fail('trailing backslash at end of expression: ``')
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2)
        out += escapeLiteral(end < 0 ? src.slice(i + 2) : src.slice(i + 2, end))
        i = end < 0 ? src.length : end + 1
        continue
      }
      if (!inClass && n === 'A') {
        out += '^' // JS's m flag is never used (see multiLine), so ^ is the start of the text
        i++
        continue
      }
      if (!inClass && n === 'z') {
        out += '$'
        i++
        continue
      }
      if (n === 'x' && src[i + 2] === '{') {
        const m = /^\\x\{([0-9A-Fa-f]{1,6})\}/.exec(src.slice(i))
        if (!m || parseInt(m[1]!, 16) > 0x10ffff) fail(`invalid escape sequence: \`${src.slice(i, i + 4)}\``)
        out += hex(parseInt(m![1]!, 16))
        i += m![0].length - 1
        continue
      }
      if (n >= '0' && n <= '7') {
        // Octal: \0, or two or three digits; a lone \1-\9 would be a back-reference, which RE2 lacks.
        const m = /^\\([0-7]{1,3})/.exec(src.slice(i))!
        if (n !== '0' && m[1]!.length === 1) fail(`invalid escape sequence: \`\\${n}\``)
        out += hex(parseInt(m[1]!, 8))
        i += m[0].length - 1
        continue
      }
      if (n === '8' || n === '9') fail(`invalid escape sequence: \`\\${n}\``)
      if (n === 'a') {
        out += hex(7) // bell: RE2 has it, JS's u mode does not
        i++
        continue
      }
      if (n === 'p' || n === 'P') {
        // RE2: \pL, \p{Lu}, \p{Greek}, \p{^Greek}; JS: \p{L}, \p{Lu}, \p{Script=Greek}.
        const m = /^\\[pP](\{\^?([A-Za-z_]+)\}|([A-Za-z]))/.exec(src.slice(i))
        if (!m) fail(`invalid character class range: \`${src.slice(i, i + 3)}\``)
        let name = m![2] ?? m![3]!
        let negate = n === 'P'
        if (m![1]!.startsWith('{^')) negate = !negate
        if (name === 'Any') {
          out += negate ? '[^\\s\\S]' : '[\\s\\S]'
        } else {
          if (!GENERAL_CATEGORY.test(name)) name = `Script=${name}`
          out += `\\${negate ? 'P' : 'p'}{${name}}`
        }
        i += m![0].length - 1
        continue
      }
      if (PUNCTUATION.test(n) && !JS_SYNTAX.includes(n)) {
        out += hex(n.charCodeAt(0))
        i++
        continue
      }
      out += c + n
      i++
      continue
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i))
        if (m && POSIX[m[2]!] !== undefined) {
          if (m[1]) fail(`negated POSIX class not supported: \`${m[0]}\``)
          out += POSIX[m[2]!]
          i += m[0].length - 1
          continue
        }
      }
      if (c === ']') inClass = false
      // A literal [ inside a class needs escaping in JS's u mode.
      out += c === '[' ? '\\[' : c
      continue
    }
    switch (c) {
      case '[':
        inClass = true
        out += c
        // A leading ] (or ^]) is a literal in RE2.
        if (src[i + 1] === '^') out += src[++i]
        if (src[i + 1] === ']') out += '\\' + src[++i]
        continue
      case ']':
      case '}':
        out += `\\${c}`
        continue
      case '{': {
        const m = REPETITION.exec(src.slice(i))
        if (!m) {
          out += '\\{'
          continue
        }
        out += m[0]
        i = quantified(i + m[0].length - 1)
        continue
      }
      case '^':
        // RE2's multi-line ^ and $ see only \n as a line end (JS's m flag also \r, U+2028, U+2029).
        // (Positive forms: V8's negative look-arounds also hold inside a surrogate pair.)
        out += multiLine ? '(?<=^|\\n)' : '^'
        continue
      case '$':
        out += multiLine ? '(?=\\n|$)' : '$'
        continue
      case '.':
        // RE2's . stops only at \n (JS's also at \r, U+2028 and U+2029), unless (?s).
        out += flags.includes('s') ? '.' : '[^\\n]'
        continue
      case '*':
      case '+':
      case '?':
        out += c
        i = quantified(i)
        continue
      case '(': {
        if (src[i + 1] !== '?') break
        const rest = src.slice(i + 2)
        if (rest.startsWith('P<')) {
          out += '(?<'
          i += 3
          continue
        }
        if (rest.startsWith(':')) {
          out += '(?:'
          i += 2
          continue
        }
        if (/^<[A-Za-z_]/.test(rest)) {
          out += '(?<'
          i += 2
          continue
        }
        if (/^(=|!|<=|<!)/.test(rest)) fail(`invalid or unsupported Perl syntax: \`(?${rest.slice(0, rest[0] === '<' ? 2 : 1)}\``)
        fail(`unsupported flag group: \`${src.slice(i, i + 6)}\``)
      }
    }
    out += c
  }
  return { source: out, flags }
}

/**
 * Every match of `re` (compiled with `global`) in `s`, as Go's FindAll reports them: scanning
 * goes on one code point past an empty match, and an empty match right after a match is skipped.
 */
export function findAllRe2(re: RegExp, s: string): RegExpExecArray[] {
  const out: RegExpExecArray[] = []
  re.lastIndex = 0
  let lastEnd = -1
  let m: RegExpExecArray | null
  while ((m = re.exec(s)) !== null) {
    const start = m.index
    if (m[0].length > 0) {
      out.push(m)
      lastEnd = start + m[0].length
      continue
    }
    if (start !== lastEnd) {
      out.push(m)
      lastEnd = start
    }
    if (start >= s.length) break
    re.lastIndex = start + (s.codePointAt(start)! > 0xffff ? 2 : 1)
  }
  return out
}
