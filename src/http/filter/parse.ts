// A scannerless recursive-descent parser for go-bexpr's grammar (v0.1.2, the
// version Consul uses), keeping its PEG behaviour: ordered choice with
// backtracking, `and` / `or` / `not` / `in` / `contains` / `matches` / `is`
// needing whitespace around them while `==` / `!=` do not, and error reports at
// the farthest position reached, with what was expected there.

import { FilterError, type Expr, type FilterPosition, type MatchExpr, type MatchOp, type MatchValue } from './ast.js'

const WS = new Set([' ', '\t', '\r', '\n'])
const isAlpha = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isIdentChar = (c: string | undefined): boolean => isAlpha(c) || isDigit(c) || c === '_'

/** Line, column (in code points) and UTF-8 byte offset of a character index. */
export function positionOf(src: string, index: number): FilterPosition {
  let line = 1
  let column = 1
  let offset = 0
  for (let i = 0; i < index && i < src.length; ) {
    const cp = src.codePointAt(i)!
    const width = cp > 0xffff ? 2 : 1
    offset += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
    if (cp === 0x0a) {
      line++
      column = 1
    } else {
      column++
    }
    i += width
  }
  return { line, column, offset }
}

/** Bound on nested `not` / parentheses, so a hostile expression cannot exhaust the stack. */
const MAX_DEPTH = 500

interface Selected {
  readonly path: string[]
}

class Parser {
  private pos = 0
  private failPos = -1
  private expected = new Set<string>()
  private custom: { at: number; message: string } | undefined
  private depth = 0

  constructor(private readonly src: string) {}

  parse(): Expr {
    this.optWs()
    const expr = this.parseOr()
    if (expr) {
      this.optWs()
      if (this.pos >= this.src.length) return expr
      this.expect('EOF')
    }
    throw this.error()
  }

  // --- error bookkeeping -------------------------------------------------

  private expect(what: string, at = this.pos): false {
    if (at > this.failPos) {
      this.failPos = at
      this.expected = new Set()
    }
    if (at === this.failPos) this.expected.add(what)
    return false
  }

  private fail(message: string, at = this.pos): void {
    // Keep the first such error, as pigeon lists them in the order raised.
    if (!this.custom) this.custom = { at, message }
  }

  private error(): FilterError {
    if (this.custom) {
      const position = positionOf(this.src, this.custom.at)
      return new FilterError('syntax', `${position.line}:${position.column} (${position.offset}): ${this.custom.message}`, { position })
    }
    const at = Math.max(this.failPos, 0)
    const position = positionOf(this.src, at)
    const list = [...this.expected].filter((e) => e !== 'EOF').sort()
    if (this.expected.has('EOF')) list.push('EOF')
    const found = at >= this.src.length ? 'end of input' : JSON.stringify(String.fromCodePoint(this.src.codePointAt(at)!))
    const expected = list.length <= 1 ? (list[0] ?? 'nothing') : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`
    return new FilterError('syntax', `${position.line}:${position.column} (${position.offset}): no match found, expected: ${expected}; found ${found}`, { position })
  }

  // --- terminals ---------------------------------------------------------

  /** `_`: one or more whitespace characters. */
  private ws(): boolean {
    if (!WS.has(this.src[this.pos] ?? '')) return this.expect('whitespace')
    while (WS.has(this.src[this.pos] ?? '')) this.pos++
    return true
  }

  /** `_?` */
  private optWs(): void {
    while (WS.has(this.src[this.pos] ?? '')) this.pos++
    // pigeon would record "whitespace" as a possible continuation here too
    this.expect('whitespace')
  }

  private lit(s: string): boolean {
    if (this.src.startsWith(s, this.pos)) {
      this.pos += s.length
      return true
    }
    return this.expect(JSON.stringify(s))
  }

  /** Try a sequence; restore the position when it does not match whole. */
  private attempt<T>(fn: () => T | false | undefined): T | undefined {
    const save = this.pos
    const result = fn()
    if (result === false || result === undefined) {
      this.pos = save
      return undefined
    }
    return result
  }

  // --- expressions -------------------------------------------------------

  // `Or <- And _ "or" _ Or / And` (and likewise for `and`), parsed as a loop
  // so long chains do not recurse; the tree is built right-associative as go-bexpr's.
  private parseOr(): Expr | undefined {
    return this.chain('or', () => this.parseAnd())
  }

  private parseAnd(): Expr | undefined {
    return this.chain('and', () => this.parseNot())
  }

  private chain(op: 'and' | 'or', operand: () => Expr | undefined): Expr | undefined {
    const first = operand()
    if (!first) return undefined
    const items = [first]
    for (;;) {
      const next = this.attempt(() => this.ws() && this.lit(op) && this.ws() && operand())
      if (!next) break
      items.push(next)
    }
    let tree = items.pop()!
    while (items.length > 0) tree = { type: op, left: items.pop()!, right: tree }
    return tree
  }

  private parseNot(): Expr | undefined {
    if (++this.depth > MAX_DEPTH) throw this.tooDeep()
    try {
      return this.parseNotInner()
    } finally {
      this.depth--
    }
  }

  private tooDeep(): FilterError {
    const position = positionOf(this.src, this.pos)
    return new FilterError('syntax', `${position.line}:${position.column} (${position.offset}): expression nested more than ${MAX_DEPTH} levels deep`, { position })
  }

  private parseNotInner(): Expr | undefined {
    const negated = this.attempt(() => this.lit('not') && this.ws() && this.parseNot())
    if (negated) return negated.type === 'not' ? negated.operand : { type: 'not', operand: negated }
    return this.parseGroup()
  }

  private parseGroup(): Expr | undefined {
    const start = this.pos
    if (this.lit('(')) {
      this.optWs()
      const inner = this.parseOr()
      if (inner) {
        this.optWs()
        if (this.lit(')')) return inner
        // go-bexpr's third alternative: "(" _? OrExpression _? !")"
        this.fail('Unmatched parentheses')
      }
      this.pos = start
      return undefined
    }
    return this.parseMatch()
  }

  private parseMatch(): MatchExpr | undefined {
    const start = this.pos
    const selector = this.parseSelector()
    if (selector) {
      const afterSelector = this.pos
      // MatchSelectorOpValue
      const op = this.attempt((): MatchOp | false => {
        if (this.attempt(() => (this.optWs(), this.lit('==')))) return '=='
        if (this.attempt(() => (this.optWs(), this.lit('!=')))) return '!='
        if (this.attempt(() => this.ws() && this.lit('contains') && this.ws())) return 'in'
        if (this.attempt(() => this.ws() && this.lit('not') && this.ws() && this.lit('contains') && this.ws())) return 'not in'
        if (this.attempt(() => this.ws() && this.lit('matches') && this.ws())) return 'matches'
        if (this.attempt(() => this.ws() && this.lit('not') && this.ws() && this.lit('matches') && this.ws())) return 'not matches'
        return false
      })
      if (op) {
        if (op === '==' || op === '!=') this.optWs()
        const value = this.parseValue()
        if (value) return { type: 'match', selector: selector.path, op, value, pos: start }
      } else {
        // MatchSelectorOp
        this.pos = afterSelector
        if (this.attempt(() => this.ws() && this.lit('is') && this.ws() && this.lit('empty'))) {
          return { type: 'match', selector: selector.path, op: 'is empty', pos: start }
        }
        if (this.attempt(() => this.ws() && this.lit('is') && this.ws() && this.lit('not') && this.ws() && this.lit('empty'))) {
          return { type: 'match', selector: selector.path, op: 'is not empty', pos: start }
        }
      }
    }
    // MatchValueOpSelector
    this.pos = start
    const value = this.parseValue()
    if (value) {
      const op = this.attempt((): MatchOp | false => {
        if (this.attempt(() => this.ws() && this.lit('in') && this.ws())) return 'in'
        if (this.attempt(() => this.ws() && this.lit('not') && this.ws() && this.lit('in') && this.ws())) return 'not in'
        return false
      })
      if (op) {
        const at = this.pos
        const target = this.parseSelector()
        if (target) return { type: 'match', selector: target.path, op, value, pos: start }
        this.fail('Invalid selector', at)
      }
    }
    this.pos = start
    return undefined
  }

  // --- selectors and values ----------------------------------------------

  private identifier(): string | undefined {
    const start = this.pos
    if (!isAlpha(this.src[this.pos])) {
      this.expect('selector')
      return undefined
    }
    this.pos++
    while (isIdentChar(this.src[this.pos])) this.pos++
    this.expect('[a-zA-Z0-9_]')
    return this.src.slice(start, this.pos)
  }

  private parseSelector(): Selected | undefined {
    const first = this.identifier()
    if (first === undefined) return undefined
    const path = [first]
    for (;;) {
      const save = this.pos
      if (this.src[this.pos] === '.') {
        this.pos++
        const id = this.identifier()
        if (id !== undefined) {
          path.push(id)
          continue
        }
        this.pos = save
        break
      }
      if (this.src[this.pos] === '[') {
        this.pos++
        this.optWs()
        const c = this.src[this.pos]
        if (c !== '"' && c !== '`') {
          this.expect('string')
          this.fail('Invalid index')
          this.pos = save
          break
        }
        const key = this.stringLiteral()
        if (key === undefined) {
          this.pos = save
          break
        }
        this.optWs()
        if (this.src[this.pos] !== ']') {
          this.expect('"]"')
          this.fail('Unclosed index expression')
          this.pos = save
          break
        }
        this.pos++
        path.push(key)
        continue
      }
      this.expect('"."')
      this.expect('"["')
      break
    }
    return { path }
  }

  private parseValue(): MatchValue | undefined {
    const selector = this.parseSelector()
    if (selector) return { raw: selector.path.join('.') }
    const number = this.numberLiteral()
    if (number !== undefined) return { raw: number }
    const string = this.stringLiteral()
    if (string !== undefined) return { raw: string }
    return undefined
  }

  /** `"-"? ("0" / [1-9][0-9]*) ("." [0-9]+)?` followed by whitespace, `)` or the end. */
  private numberLiteral(): string | undefined {
    const start = this.pos
    let p = this.pos
    if (this.src[p] === '-') p++
    if (this.src[p] === '0') p++
    else if (isDigit(this.src[p])) while (isDigit(this.src[p])) p++
    else {
      this.expect('number')
      return undefined
    }
    if (this.src[p] === '.' && isDigit(this.src[p + 1])) {
      p += 1
      while (isDigit(this.src[p])) p++
    }
    const next = this.src[p]
    if (next === undefined || next === ')' || WS.has(next)) {
      this.pos = p
      return this.src.slice(start, p)
    }
    this.expect('number')
    this.fail('Invalid number literal', p)
    return undefined
  }

  /**
   * A Go string literal: `raw` (carriage returns dropped) or "interpreted" with
   * Go's escapes. go-bexpr ends a double-quoted string at the first `"` even
   * after a backslash, so `\"` never worked there; here it is accepted.
   */
  private stringLiteral(): string | undefined {
    const start = this.pos
    const quote = this.src[this.pos]
    if (quote === '`') {
      const end = this.src.indexOf('`', start + 1)
      if (end < 0) {
        this.fail('Unterminated string literal', this.src.length)
        return this.expect('"`"', this.src.length) || undefined
      }
      this.pos = end + 1
      return this.src.slice(start + 1, end).replace(/\r/g, '')
    }
    if (quote !== '"') {
      this.expect('string')
      return undefined
    }
    let out = ''
    let p = start + 1
    for (;;) {
      const c = this.src[p]
      if (c === undefined) {
        this.fail('Unterminated string literal', p)
        return this.expect('"\\""', p) || undefined
      }
      if (c === '"') break
      if (c === '\n') {
        this.fail('invalid syntax: newline in string literal', p)
        return undefined
      }
      if (c !== '\\') {
        out += c
        p++
        continue
      }
      const esc = unescape(this.src, p)
      if (typeof esc === 'string') {
        this.fail(`invalid syntax: ${esc}`, p)
        return undefined
      }
      out += esc.text
      p = esc.end
    }
    this.pos = p + 1
    return out
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' }

/** One Go escape sequence at src[p] (a backslash): its text and where it ends, or an error message. */
function unescape(src: string, p: number): { text: string; end: number } | string {
  const c = src[p + 1]
  if (c === undefined) return 'unterminated escape sequence'
  if (c in SIMPLE_ESCAPES) return { text: SIMPLE_ESCAPES[c]!, end: p + 2 }
  const hex = (n: number): { text: string; end: number } | string => {
    const digits = src.slice(p + 2, p + 2 + n)
    if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) return `invalid escape sequence \\${c}${digits}`
    const cp = parseInt(digits, 16)
    if (n > 2 && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) return `invalid code point \\${c}${digits}`
    return { text: String.fromCodePoint(cp), end: p + 2 + n }
  }
  if (c === 'x') return hex(2)
  if (c === 'u') return hex(4)
  if (c === 'U') return hex(8)
  if (c >= '0' && c <= '7') {
    const digits = src.slice(p + 1, p + 4)
    if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) return `invalid escape sequence \\${digits}`
    return { text: String.fromCharCode(parseInt(digits, 8)), end: p + 4 }
  }
  return `invalid escape sequence \\${c}`
}

/** Parse a filter expression; throws FilterError (kind 'syntax') naming the line, column and byte offset. */
export function parseFilter(src: string): Expr {
  return new Parser(src).parse()
}
