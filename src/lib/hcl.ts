/**
 * A small HCL v1 reader giving what hashicorp/hcl v1's `hcl.Decode` into `map[string]interface{}`
 * gives: `key = value`, blocks (`name { }`, `name "label" { }`) as lists of objects (repeated
 * blocks append), lists, heredocs, `#`, `//` and `/* *\/` comments, and numbers read with Go's
 * ParseInt(s, 0, 64), so `perms = 0600` is 384. Written here instead of depending on a 1.5 MB
 * GopherJS build (js-hcl-parser) for the handful of constructs consul-template and agent configs use.
 */

export class HclError extends Error {}

type Value = string | number | boolean | Value[] | { [k: string]: Value }
type Obj = { [k: string]: Value }

interface Tok {
  t: 'ident' | 'string' | 'number' | 'bool' | 'punct' | 'heredoc' | 'eof'
  v: string
  line: number
  col: number
}

function lex(src: string): Tok[] {
  const out: Tok[] = []
  let i = 0
  let line = 1
  let lineStart = 0
  const err = (msg: string): never => {
    throw new HclError(`At ${line}:${i - lineStart + 1}: ${msg}`)
  }
  while (i < src.length) {
    const c = src[i]
    if (c === '\n') {
      line++
      i++
      lineStart = i
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++
      continue
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++
      continue
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2)
      if (end < 0) err('comment not terminated')
      for (let k = i; k < end; k++) if (src[k] === '\n') {
        line++
        lineStart = k + 1
      }
      i = end + 2
      continue
    }
    const col = i - lineStart + 1
    if ('{}[]=,'.includes(c)) {
      out.push({ t: 'punct', v: c, line, col })
      i++
      continue
    }
    if (c === '"') {
      let s = ''
      i++
      let depth = 0
      for (;;) {
        if (i >= src.length || src[i] === '\n') err('literal not terminated')
        const d = src[i]
        if (d === '"' && depth === 0) break
        // ${...} interpolations may contain quotes; HCL1 keeps them as text.
        if (d === '$' && src[i + 1] === '{') {
          depth++
          s += '${'
          i += 2
          continue
        }
        if (d === '}' && depth > 0) depth--
        if (d === '\\' && depth === 0) {
          const e = src[i + 1]
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' }
          if (e in map) {
            s += map[e]
            i += 2
            continue
          }
          if (e === 'u' || e === 'U') {
            const n = e === 'u' ? 4 : 8
            const hex = src.slice(i + 2, i + 2 + n)
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) err('invalid escape sequence')
            s += String.fromCodePoint(parseInt(hex, 16))
            i += 2 + n
            continue
          }
          err('invalid escape sequence')
        }
        s += d
        i++
      }
      i++
      out.push({ t: 'string', v: s, line, col })
      continue
    }
    if (c === '<' && src[i + 1] === '<') {
      const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(src.slice(i))
      if (!m) err('invalid heredoc')
      const indent = m![1] === '-'
      const marker = m![2]
      i += m![0].length
      line++
      lineStart = i
      const lines: string[] = []
      for (;;) {
        if (i >= src.length) err(`heredoc not terminated: ${marker}`)
        let end = src.indexOf('\n', i)
        if (end < 0) end = src.length
        const l = src.slice(i, end).replace(/\r$/, '')
        i = end + 1
        line++
        lineStart = i
        if (l.trim() === marker && (indent || l === marker)) break
        lines.push(l)
      }
      let body = lines
      if (indent) {
        const min = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length))
        body = lines.map((l) => l.slice(Number.isFinite(min) ? min : 0))
      }
      out.push({ t: 'heredoc', v: body.map((l) => l + '\n').join(''), line, col })
      continue
    }
    const num = /^[+-]?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(src.slice(i))
    if (num && /[0-9]/.test(c + src[i + 1])) {
      out.push({ t: 'number', v: num[0], line, col })
      i += num[0].length
      continue
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.\-:]*/.exec(src.slice(i))
    if (id) {
      out.push({ t: id[0] === 'true' || id[0] === 'false' ? 'bool' : 'ident', v: id[0], line, col })
      i += id[0].length
      continue
    }
    err(`illegal char ${JSON.stringify(c)}`)
  }
  out.push({ t: 'eof', v: '', line, col: i - lineStart + 1 })
  return out
}

function numberValue(s: string): number {
  if (/[.eE]/.test(s) && !/^[+-]?0[xX]/.test(s)) return Number(s)
  const neg = s.startsWith('-')
  const body = s.replace(/^[+-]/, '')
  let v: number
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16)
  else if (/^0[0-7]+$/.test(body)) v = parseInt(body, 8) // Go's ParseInt(s, 0, 64): leading 0 is octal
  else if (/^0[0-9]+$/.test(body)) throw new HclError(`invalid number ${JSON.stringify(s)}`)
  else v = parseInt(body, 10)
  return neg ? -v : v
}

/** Parses HCL v1 text into hcl.Decode's JSON shape. */
export function parseHcl(src: string): Obj {
  const toks = lex(src)
  let p = 0
  const peek = (): Tok => toks[p]
  const next = (): Tok => toks[p++]
  const fail = (t: Tok, msg: string): never => {
    throw new HclError(`At ${t.line}:${t.col}: ${msg}`)
  }
  const expect = (v: string): void => {
    const t = next()
    if (t.t !== 'punct' || t.v !== v) fail(t, `expected ${JSON.stringify(v)}, got ${t.t === 'eof' ? 'end of file' : JSON.stringify(t.v)}`)
  }

  const addBlock = (obj: Obj, key: string, block: Obj): void => {
    const cur = obj[key]
    if (Array.isArray(cur)) cur.push(block)
    else obj[key] = [block]
  }

  const parseBody = (end: 'eof' | '}'): Obj => {
    const obj: Obj = {}
    for (;;) {
      const t = peek()
      if (end === 'eof' ? t.t === 'eof' : t.t === 'punct' && t.v === '}') break
      if (t.t === 'eof') fail(t, 'expected "}", got end of file')
      if (t.t === 'punct' && t.v === ',') {
        next()
        continue
      }
      if (t.t !== 'ident' && t.t !== 'string') fail(t, `expected a key, got ${JSON.stringify(t.v)}`)
      const key = next().v
      const labels: string[] = []
      while (peek().t === 'string' || peek().t === 'ident') labels.push(next().v)
      const n = peek()
      if (n.t === 'punct' && n.v === '=') {
        if (labels.length) fail(n, 'unexpected "=" after block labels')
        next()
        const v = parseValue()
        // `key = { ... }` decodes like a block.
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) addBlock(obj, key, v)
        else obj[key] = v
      } else if (n.t === 'punct' && n.v === '{') {
        next()
        let body = parseBody('}')
        expect('}')
        for (let k = labels.length - 1; k >= 0; k--) body = { [labels[k]]: [body] }
        addBlock(obj, key, body)
      } else fail(n, `key ${JSON.stringify(key)} expected start of object ('{') or assignment ('=')`)
    }
    return obj
  }

  const parseValue = (): Value => {
    const t = next()
    switch (t.t) {
      case 'string':
      case 'heredoc':
        return t.v
      case 'number':
        return numberValue(t.v)
      case 'bool':
        return t.v === 'true'
      case 'punct':
        if (t.v === '[') {
          const list: Value[] = []
          for (;;) {
            if (peek().t === 'punct' && peek().v === ']') {
              next()
              return list
            }
            list.push(parseValue())
            const s = peek()
            if (s.t === 'punct' && s.v === ',') next()
            else if (!(s.t === 'punct' && s.v === ']')) fail(s, `expected "," or "]" in list, got ${JSON.stringify(s.v)}`)
          }
        }
        if (t.v === '{') {
          const body = parseBody('}')
          expect('}')
          return body
        }
    }
    return fail(t, `unexpected ${t.t === 'eof' ? 'end of file' : JSON.stringify(t.v)}, expected a value`)
  }

  return parseBody('eof')
}
