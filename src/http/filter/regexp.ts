// `matches` uses Go's RE2 syntax; we run the pattern as a JS RegExp after a
// small translation. Like Go's Regexp.Match the search is unanchored.
//
// Translated: a leading `(?flags)` with i, m, s; `(?P<name>` named groups;
// `\A` and `\z`; `\Q...\E` literals; POSIX classes such as `[[:alpha:]]`;
// `\pL` / `\p{Greek}` (compiled with the `u` flag).
// Rejected as RE2 rejects them: look-around and back-references.
// Not supported (rejected with a message): flag groups other than a leading
// one, the `U` (ungreedy) flag. Remaining differences: JS's `\s`/`\d`/`\w` are
// ASCII-only except `\s`, which also matches Unicode spaces; RE2 is linear-time
// while JS backtracks (patterns are bounded by the expression's length).

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
}

const GENERAL_CATEGORY = /^(L[ultmo]?|M[nce]?|N[dlo]?|P[cdseifo]?|S[mcko]?|Z[slp]?|C[cfson]?)$/
const JS_SYNTAX = '^$\\.*+?()[]{}|/'

const escapeLiteral = (s: string): string =>
  s.replace(/[!-/:-@[-`{-~]/g, (ch) => (JS_SYNTAX.includes(ch) ? `\\${ch}` : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`))

/** Compile an RE2 pattern as a JS RegExp; throws Error with a Go-like message when it cannot. */
export function compileRe2(pattern: string): RegExp {
  let src = pattern
  const flags = new Set<string>()
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(src)
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags.add(f)
      else throw new Error(`error parsing regexp: unsupported flag: \`${f}\``)
    }
    src = src.slice(lead[0].length)
  }
  let out = ''
  let inClass = false
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const n = src[i + 1]
      if (n === undefined) throw new Error('error parsing regexp: trailing backslash at end of expression: ``')
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2)
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end)
        out += escapeLiteral(lit)
        i = end < 0 ? src.length : end + 1
        continue
      }
      if (!inClass && n === 'A') { out += '(?<![\\s\\S])'; i++; continue }
      if (!inClass && n === 'z') { out += '(?![\\s\\S])'; i++; continue }
      if (n >= '1' && n <= '9') throw new Error(`error parsing regexp: invalid escape sequence: \`\\${n}\``)
      if (n === 'p' || n === 'P') {
        // RE2: \pL, \p{Lu}, \p{Greek}; JS (u flag): \p{L}, \p{Lu}, \p{Script=Greek}
        const m = /^\\[pP](\{\^?([A-Za-z_]+)\}|([A-Za-z]))/.exec(src.slice(i))
        if (!m) throw new Error(`error parsing regexp: invalid character class range: \`${src.slice(i, i + 3)}\``)
        let name = m[2] ?? m[3]!
        let negate = n === 'P'
        if (m[1]!.startsWith('{^')) negate = !negate
        if (!GENERAL_CATEGORY.test(name)) name = name === 'Any' ? 'Any' : `Script=${name}`
        flags.add('u')
        out += `\\${negate ? 'P' : 'p'}{${name}}`
        i += m[0].length - 1
        continue
      }
      // RE2 lets any punctuation be escaped; JS's u mode does not, so spell it as \xHH
      if (/[!-/:-@[-`{-~]/.test(n) && !JS_SYNTAX.includes(n)) {
        out += `\\x${n.charCodeAt(0).toString(16).padStart(2, '0')}`
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
          if (m[1]) throw new Error(`error parsing regexp: negated POSIX class not supported: \`${m[0]}\``)
          out += POSIX[m[2]!]
          i += m[0].length - 1
          continue
        }
      }
      if (c === ']') inClass = false
      out += c
      continue
    }
    if (c === '[') {
      inClass = true
      out += c
      // a leading ] (or ^]) is literal in RE2
      if (src[i + 1] === '^') { out += '^'; i++ }
      if (src[i + 1] === ']') { out += '\\]'; i++ }
      continue
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2)
      if (rest.startsWith('P<')) { out += '(?<'; i += 3; continue }
      if (rest.startsWith(':')) { out += '(?:'; i += 2; continue }
      if (/^<[A-Za-z_]/.test(rest)) { out += '(?<'; i += 2; continue }
      if (/^(=|!|<=|<!)/.test(rest)) throw new Error(`error parsing regexp: invalid or unsupported Perl syntax: \`(?${rest.slice(0, rest[0] === '<' ? 2 : 1)}\``)
      throw new Error(`error parsing regexp: unsupported flag group: \`${src.slice(i, i + 6)}\``)
    }
    out += c
  }
  try {
    return new RegExp(out, [...flags].join(''))
  } catch (err) {
    throw new Error(`error parsing regexp: ${(err as Error).message}`)
  }
}
