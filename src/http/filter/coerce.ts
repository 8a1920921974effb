// Go's strconv rules for turning an expression's raw value into the selected
// field's type, as go-bexpr does (ParseInt/ParseUint with base 0, ParseFloat,
// ParseBool). Errors read like Go's.

export type Coerced = { ok: true; value: string | bigint | number | boolean } | { ok: false; error: string }

const syntax = (fn: string, raw: string): Coerced => ({ ok: false, error: `strconv.${fn}: parsing ${JSON.stringify(raw)}: invalid syntax` })
const range = (fn: string, raw: string): Coerced => ({ ok: false, error: `strconv.${fn}: parsing ${JSON.stringify(raw)}: value out of range` })

/** Digits of an integer with Go's base-0 prefixes (0x, 0o, 0b, leading 0 octal) and `_` separators. */
function parseUnsigned(s: string): bigint | undefined {
  let base = 10
  let digits = s
  let prefixed = false
  if (/^0[xX]/.test(s)) [base, digits, prefixed] = [16, s.slice(2), true]
  else if (/^0[oO]/.test(s)) [base, digits, prefixed] = [8, s.slice(2), true]
  else if (/^0[bB]/.test(s)) [base, digits, prefixed] = [2, s.slice(2), true]
  else if (s.length > 1 && s[0] === '0') [base, digits, prefixed] = [8, s.slice(1), true]
  if (digits.includes('_')) {
    // underscores only with base 0, between digits or after the prefix
    if (!/^_?[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$/.test(digits) || (digits.startsWith('_') && !prefixed)) return undefined
    digits = digits.replace(/_/g, '')
  }
  if (digits === '') return undefined
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/
  if (!valid.test(digits)) return undefined
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : ''
  return BigInt(prefix + digits)
}

export function coerceInt(raw: string): Coerced {
  let s = raw
  let negative = false
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-'
    s = s.slice(1)
  }
  const n = parseUnsigned(s)
  if (n === undefined) return syntax('ParseInt', raw)
  const v = negative ? -n : n
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) return range('ParseInt', raw)
  return { ok: true, value: v }
}

export function coerceUint(raw: string): Coerced {
  const n = parseUnsigned(raw)
  if (n === undefined) return syntax('ParseUint', raw)
  if (n > 2n ** 64n - 1n) return range('ParseUint', raw)
  return { ok: true, value: n }
}

export function coerceFloat(raw: string): Coerced {
  const s = raw.replace(/^[+-]/, '')
  if (/^(inf|infinity)$/i.test(s)) return { ok: true, value: raw.startsWith('-') ? -Infinity : Infinity }
  if (/^nan$/i.test(s)) return { ok: true, value: NaN }
  if (!/^([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)([eE][+-]?[0-9]+)?$/.test(s)) return syntax('ParseFloat', raw)
  const v = Number(raw.replace(/_/g, ''))
  if (!Number.isFinite(v)) return range('ParseFloat', raw)
  return { ok: true, value: v }
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

export function coerceBool(raw: string): Coerced {
  if (TRUE.has(raw)) return { ok: true, value: true }
  if (FALSE.has(raw)) return { ok: true, value: false }
  return syntax('ParseBool', raw)
}
