/**
 * Go library behaviour the helper functions depend on: encoding/json output (sorted map keys,
 * HTML escaping), RE2 regexes and Regexp.Expand's `$1`/`${name}` replacement, time.Format layouts,
 * strconv parsing, and a small TOML encoder (BurntSushi/toml's layout for maps and scalars).
 */
import { GoFloat, GoSizedInt, sprint } from '../template/index.js'
import { kindOf, Kind } from '../template/value.js'
import { compileRe2, findAllRe2 } from '../lib/re2.js'

// ---- encoding/json -------------------------------------------------------------------------------

const JSON_ESC: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** Go's encodeState.string: control characters as \u00XX, and with escapeHTML `<>&` as \u003c etc; U+2028/9 always. */
export function jsonString(s: string, escapeHTML: boolean): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (JSON_ESC[ch] !== undefined) out += JSON_ESC[ch]
    else if (c < 0x20 || (escapeHTML && (ch === '<' || ch === '>' || ch === '&')) || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}

/** Go's strconv.FormatFloat(f, 'g'-ish) as encoding/json writes floats: no exponent between 1e-6 and 1e21. */
function jsonFloat(f: number): string {
  if (!Number.isFinite(f)) throw new Error(`json: unsupported value: ${f === Infinity ? '+Inf' : f === -Infinity ? '-Inf' : 'NaN'}`)
  const abs = Math.abs(f)
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go writes e-07 as e-07 (two-digit exponent), JS as e-7.
    // Go trims e-07 to e-7 here (encoding/json), which is what JS prints already.
    return f.toExponential()
  }
  return String(f)
}

/** json.Marshal / MarshalIndent(v, "", indent) of a template value. */
export function goJson(v: unknown, opts: { indent?: string; escapeHTML?: boolean } = {}): string {
  const escapeHTML = opts.escapeHTML ?? true
  const indent = opts.indent ?? ''
  const enc = (x: unknown, depth: number): string => {
    const nl = indent ? '\n' + indent.repeat(depth + 1) : ''
    const close = indent ? '\n' + indent.repeat(depth) : ''
    const sep = indent ? ': ' : ':'
    if (x === undefined || x === null) return 'null'
    if (x instanceof GoFloat) return jsonFloat(x.value)
    if (x instanceof GoSizedInt) return String(x.value)
    switch (typeof x) {
      case 'string':
        return jsonString(x, escapeHTML)
      case 'boolean':
        return x ? 'true' : 'false'
      case 'number':
        return Number.isSafeInteger(x) ? String(x) : jsonFloat(x)
      case 'bigint':
        return x.toString()
      case 'function':
        throw new Error('json: unsupported type: func(...interface {}) interface {}')
    }
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]'
      return '[' + x.map((e) => nl + enc(e, depth + 1)).join(',') + close + ']'
    }
    const k = kindOf(x)
    let entries: [string, unknown][]
    if (x instanceof Map) entries = [...x.entries()].map(([a, b]) => [String(a), b])
    else entries = Object.entries(x as object)
    // Maps are written with sorted keys; structs in field order.
    if (k === Kind.Map) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    if (entries.length === 0) return '{}'
    return '{' + entries.map(([key, val]) => nl + jsonString(key, escapeHTML) + sep + enc(val, depth + 1)).join(',') + close + '}'
  }
  return enc(v, 0)
}

/** encoding/json Unmarshal into interface{}: numbers are float64. */
export function goParseJson(s: string): unknown {
  const wrap = (x: unknown): unknown => {
    if (typeof x === 'number') return new GoFloat(x)
    if (Array.isArray(x)) return x.map(wrap)
    if (x !== null && typeof x === 'object') {
      const o: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(x)) o[k] = wrap(v)
      return o
    }
    return x
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(s)
  } catch (err) {
    throw new Error(goJsonSyntaxError(s, err as Error))
  }
  return wrap(parsed)
}

function goJsonSyntaxError(s: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message)
  if (m) {
    const pos = Number(m[1])
    const ch = s[pos]
    if (ch !== undefined) return `invalid character '${ch}' looking for beginning of value`
  }
  return 'unexpected end of JSON input'
}

// ---- regexp (RE2): src/lib/re2.ts ----------------------------------------------------------------

/** Regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; `$name` takes the longest run of word characters. */
export function goExpand(template: string, m: RegExpExecArray): string {
  let out = ''
  for (let i = 0; i < template.length; i++) {
    const c = template[i]
    if (c !== '$' || i + 1 >= template.length) {
      out += c
      continue
    }
    const next = template[i + 1]
    if (next === '$') {
      out += '$'
      i++
      continue
    }
    let name: string | undefined
    let end = i
    if (next === '{') {
      const close = template.indexOf('}', i + 2)
      const inner = close < 0 ? '' : template.slice(i + 2, close)
      if (close >= 0 && /^[0-9A-Za-z_]+$/.test(inner)) {
        name = inner
        end = close
      }
    } else {
      const w = /^[0-9A-Za-z_]+/.exec(template.slice(i + 1))
      if (w) {
        name = w[0]
        end = i + w[0].length
      }
    }
    if (name === undefined) {
      out += c // malformed: the $ is kept as is
      continue
    }
    if (/^[0-9]+$/.test(name)) out += m[Number(name)] ?? ''
    else out += m.groups?.[name] ?? ''
    i = end
  }
  return out
}

export function goReplaceAll(pattern: string, repl: string, s: string): string {
  let out = ''
  let last = 0
  for (const m of findAllRe2(compileRe2(pattern, { global: true }), s)) {
    out += s.slice(last, m.index) + goExpand(repl, m)
    last = m.index + m[0].length
  }
  return out + s.slice(last)
}

// ---- strconv ---------------------------------------------------------------------------------------

export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`)
}

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n

/** strconv.ParseInt(s, 10, 64) as a template int (number when safe, else bigint). */
export function parseGoInt(s: string, fn = 'ParseInt'): number | bigint {
  if (!/^[+-]?[0-9]+$/.test(s) && !/^[+-]?[0-9]+(_[0-9]+)*$/.test(s)) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`)
  const v = BigInt(s.replace(/_/g, ''))
  if (v < INT64_MIN || v > INT64_MAX) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: value out of range`)
  return Number.isSafeInteger(Number(v)) ? Number(v) : v
}

export function parseGoUint(s: string): bigint | number {
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`)
  const v = BigInt(s)
  if (v > UINT64_MAX) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`)
  // uint64 stays a bigint above int64 so the engine types it as uint64.
  return v > INT64_MAX ? v : Number.isSafeInteger(Number(v)) ? Number(v) : v
}

export function parseGoFloat(s: string): number {
  const t = s.replace(/_/g, '')
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity
  if (/^nan$/i.test(t)) return NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && !/^[+-]?0[xX][0-9a-fA-F.]+[pP][+-]?\d+$/.test(t)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`)
  }
  const v = Number(t)
  if (!Number.isFinite(v)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`)
  return v
}

// ---- time.Format -----------------------------------------------------------------------------------

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const LAYOUT_TOKENS = [
  'January', 'Monday', 'Jan', 'Mon', 'MST', '2006', '-07:00:00', '-0700', '-07:00', '-07', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07',
  '002', '__2', '_2', '01', '02', '03', '04', '05', '06', '15', 'PM', 'pm', '1', '2', '3', '4', '5',
]

/** Go's time.Format for a UTC time (consul-template formats time.Now().UTC()). */
export function goTimeFormat(d: Date, layout: string): string {
  const p2 = (n: number): string => String(n).padStart(2, '0')
  let out = ''
  let i = 0
  while (i < layout.length) {
    // Fractional seconds: .000 / ,000 (fixed) or .999 (trailing zeros trimmed), after a seconds field.
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i))
    if (frac && /5$/.test(layout.slice(0, i))) {
      const digits = frac[1].length
      const ns = String(d.getUTCMilliseconds()).padStart(3, '0') + '000000'
      let f = ns.slice(0, digits)
      if (frac[1][0] === '9') f = f.replace(/0+$/, '')
      out += f === '' ? '' : layout[i] + f
      i += frac[0].length
      continue
    }
    const tok = LAYOUT_TOKENS.find((t) => layout.startsWith(t, i))
    if (!tok) {
      out += layout[i++]
      continue
    }
    // "Jan" must not match inside "January"-style words that Go also would not treat specially: keep Go's simple prefix rule.
    i += tok.length
    const h = d.getUTCHours()
    switch (tok) {
      case 'January': out += MONTHS[d.getUTCMonth()]; break
      case 'Jan': out += MONTHS[d.getUTCMonth()].slice(0, 3); break
      case 'Monday': out += DAYS[d.getUTCDay()]; break
      case 'Mon': out += DAYS[d.getUTCDay()].slice(0, 3); break
      case 'MST': out += 'UTC'; break
      case '2006': out += String(d.getUTCFullYear()).padStart(4, '0'); break
      case '06': out += p2(d.getUTCFullYear() % 100); break
      case '01': out += p2(d.getUTCMonth() + 1); break
      case '1': out += String(d.getUTCMonth() + 1); break
      case '02': out += p2(d.getUTCDate()); break
      case '2': out += String(d.getUTCDate()); break
      case '_2': out += String(d.getUTCDate()).padStart(2, ' '); break
      case '002':
      case '__2': {
        const start = Date.UTC(d.getUTCFullYear(), 0, 1)
        const yday = Math.floor((d.getTime() - start) / 86_400_000) + 1
        out += tok === '002' ? String(yday).padStart(3, '0') : String(yday).padStart(3, ' ')
        break
      }
      case '15': out += p2(h); break
      case '03': out += p2(h % 12 === 0 ? 12 : h % 12); break
      case '3': out += String(h % 12 === 0 ? 12 : h % 12); break
      case '04': out += p2(d.getUTCMinutes()); break
      case '4': out += String(d.getUTCMinutes()); break
      case '05': out += p2(d.getUTCSeconds()); break
      case '5': out += String(d.getUTCSeconds()); break
      case 'PM': out += h >= 12 ? 'PM' : 'AM'; break
      case 'pm': out += h >= 12 ? 'pm' : 'am'; break
      case '-07:00:00': out += '+00:00:00'; break
      case '-0700': out += '+0000'; break
      case '-07:00': out += '+00:00'; break
      case '-07': out += '+00'; break
      default: out += 'Z' // Z07:00 and friends print Z for UTC
    }
  }
  return out
}

// ---- TOML ------------------------------------------------------------------------------------------

/** A TOML document for a map, as BurntSushi/toml encodes one: scalars and arrays first, then sub-tables. */
export function goToml(v: unknown): string {
  if (kindOf(v) !== Kind.Map && kindOf(v) !== Kind.Struct) throw new Error('toml: top-level values must be Go maps or structs')
  const lines: string[] = []
  const key = (k: string): string => (/^[A-Za-z0-9_-]+$/.test(k) ? k : jsonString(k, false))
  const scalar = (x: unknown): string => {
    if (x instanceof GoFloat) return Number.isInteger(x.value) ? `${x.value}.0` : String(x.value)
    if (x instanceof GoSizedInt) return String(x.value)
    if (typeof x === 'string') return jsonString(x, false)
    if (typeof x === 'number') return Number.isSafeInteger(x) ? String(x) : String(x)
    if (typeof x === 'bigint' || typeof x === 'boolean') return String(x)
    if (Array.isArray(x)) return '[' + x.map(scalar).join(', ') + ']'
    return sprint(x)
  }
  const isTable = (x: unknown): boolean => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof GoFloat) && !(x instanceof GoSizedInt)
  const entriesOf = (x: unknown): [string, unknown][] => {
    const e = x instanceof Map ? [...x.entries()].map(([a, b]) => [String(a), b] as [string, unknown]) : Object.entries(x as object)
    return kindOf(x) === Kind.Map ? e.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : e
  }
  const table = (x: unknown, path: string[], indent: string): void => {
    const entries = entriesOf(x).filter(([, val]) => val !== null && val !== undefined)
    for (const [k, val] of entries) if (!isTable(val)) lines.push(`${indent}${key(k)} = ${scalar(val)}`)
    for (const [k, val] of entries) {
      if (!isTable(val)) continue
      const p = [...path, key(k)]
      if (lines.length) lines.push('')
      lines.push(`${path.length ? indent + '  ' : indent}[${p.join('.')}]`)
      table(val, p, path.length ? indent + '  ' : indent + '  ')
    }
  }
  table(v, [], '')
  return lines.join('\n')
}
