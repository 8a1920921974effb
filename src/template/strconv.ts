/**
 * The parts of Go's strconv the template engine needs: quoting and unquoting
 * with Go's escape rules, integer and float literal parsing with Go's syntax,
 * and float formatting ('e', 'f', 'g', 'x') with Go's rounding and exponent
 * rules (for example `1e+06`, where JavaScript would print `1000000`).
 */

const PRINT_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint / strconv.IsPrint for one code point. */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r >= 0xd800 && r <= 0xdfff) return false;
  return PRINT_RE.test(String.fromCodePoint(r));
}

const HEX = '0123456789abcdef';

function escapeRune(r: number, quoteChar: number, asciiOnly: boolean): string {
  if (r === quoteChar || r === 0x5c) return '\\' + String.fromCharCode(r);
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) return String.fromCharCode(r);
  } else if (isPrint(r)) {
    return String.fromCodePoint(r);
  }
  switch (r) {
    case 0x07: return '\\a';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x0b: return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + HEX[r >> 4] + HEX[r & 15];
  if (r >= 0xd800 && r <= 0xdfff) return '\\ufffd';
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0');
  return '\\U' + r.toString(16).padStart(8, '0');
}

function quoteWith(s: string, quoteChar: number, asciiOnly: boolean): string {
  let out = String.fromCharCode(quoteChar);
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, quoteChar, asciiOnly);
  return out + String.fromCharCode(quoteChar);
}

/** strconv.Quote */
export function quote(s: string): string {
  // Fast path: printable ASCII without quotes or backslashes.
  let simple = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) {
      simple = false;
      break;
    }
  }
  if (simple) return '"' + s + '"';
  return quoteWith(s, 0x22, false);
}

/** strconv.QuoteToASCII */
export function quoteToASCII(s: string): string {
  return quoteWith(s, 0x22, true);
}

/** strconv.QuoteRune */
export function quoteRune(r: number): string {
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) || r < 0) r = 0xfffd;
  return "'" + escapeRune(r, 0x27, false) + "'";
}

/** strconv.QuoteRuneToASCII */
export function quoteRuneToASCII(r: number): string {
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) || r < 0) r = 0xfffd;
  return "'" + escapeRune(r, 0x27, true) + "'";
}

/** strconv.CanBackquote */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r === 0x60 || r === 0xfeff) return false;
    if (r < 0x80) {
      if ((r < 0x20 && r !== 0x09) || r === 0x7f) return false;
    } else if (r >= 0xd800 && r <= 0xdfff) {
      return false;
    }
  }
  return true;
}

export class SyntaxError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * strconv.UnquoteChar: decodes the first character or escape of s.
 * Returns the code point and the remaining tail, or throws SyntaxError.
 */
export function unquoteChar(s: string, quoteChar: number): { value: number; tail: string } {
  const c = s.codePointAt(0);
  if (c === undefined) throw new SyntaxError();
  if (c === quoteChar && (quoteChar === 0x27 || quoteChar === 0x22)) throw new SyntaxError();
  if (c >= 0x80) return { value: c, tail: s.slice(c > 0xffff ? 2 : 1) };
  if (c !== 0x5c) return { value: c, tail: s.slice(1) };
  if (s.length <= 1) throw new SyntaxError();
  const e = s.charCodeAt(1);
  let tail = s.slice(2);
  switch (e) {
    case 0x61: return { value: 7, tail };
    case 0x62: return { value: 8, tail };
    case 0x66: return { value: 12, tail };
    case 0x6e: return { value: 10, tail };
    case 0x72: return { value: 13, tail };
    case 0x74: return { value: 9, tail };
    case 0x76: return { value: 11, tail };
    case 0x78: // x
    case 0x75: // u
    case 0x55: { // U
      const n = e === 0x78 ? 2 : e === 0x75 ? 4 : 8;
      if (tail.length < n) throw new SyntaxError();
      let v = 0;
      for (let j = 0; j < n; j++) {
        const x = unhex(tail.charCodeAt(j));
        if (x < 0) throw new SyntaxError();
        v = v * 16 + x;
      }
      tail = tail.slice(n);
      if (e === 0x78) return { value: v, tail };
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new SyntaxError();
      return { value: v, tail };
    }
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: {
      let v = e - 0x30;
      if (tail.length < 2) throw new SyntaxError();
      for (let j = 0; j < 2; j++) {
        const x = tail.charCodeAt(j) - 0x30;
        if (x < 0 || x > 7) throw new SyntaxError();
        v = (v << 3) | x;
      }
      tail = tail.slice(2);
      if (v > 255) throw new SyntaxError();
      return { value: v, tail };
    }
    case 0x5c:
      return { value: 0x5c, tail };
    case 0x27:
    case 0x22:
      if (e !== quoteChar) throw new SyntaxError();
      return { value: e, tail };
  }
  throw new SyntaxError();
}

/** strconv.Unquote for "..." `...` and '...' literals. Throws SyntaxError. */
export function unquote(s: string): string {
  const n = s.length;
  if (n < 2) throw new SyntaxError();
  const q = s.charCodeAt(0);
  if (q !== s.charCodeAt(n - 1)) throw new SyntaxError();
  const body = s.slice(1, n - 1);
  if (q === 0x60) {
    if (body.includes('`')) throw new SyntaxError();
    return body.includes('\r') ? body.replace(/\r/g, '') : body;
  }
  if (q !== 0x22 && q !== 0x27) throw new SyntaxError();
  if (body.includes('\n')) throw new SyntaxError();
  if (!body.includes('\\') && !body.includes(String.fromCharCode(q))) {
    if (q === 0x22) return body;
    if (q === 0x27 && [...body].length === 1) return body;
  }
  let out = '';
  let rest = body;
  while (rest.length > 0) {
    const { value, tail } = unquoteChar(rest, q);
    out += String.fromCodePoint(value);
    rest = tail;
    if (q === 0x27 && rest.length !== 0) throw new SyntaxError();
  }
  if (q === 0x27 && out.length === 0) throw new SyntaxError();
  return out;
}

/** Go's underscoreOK: underscores only between digits or after a base prefix. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0') {
    const c = s[1].toLowerCase();
    if (c === 'b' || c === 'o' || c === 'x') {
      i = 2;
      saw = '0';
      hex = c === 'x';
    }
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** strconv.ParseUint(s, 0, 64); null on any error. */
export function parseUint(s: string): bigint | null {
  if (s.length === 0) return null;
  let base = 10;
  let i = 0;
  if (s[0] === '0') {
    if (s.length >= 3 && /[bBoOxX]/.test(s[1])) {
      const c = s[1].toLowerCase();
      base = c === 'b' ? 2 : c === 'o' ? 8 : 16;
      i = 2;
    } else {
      base = 8;
      i = 1;
    }
  }
  let n = 0n;
  let underscores = false;
  let any = false;
  const b = BigInt(base);
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = unhex(c.charCodeAt(0));
    if (d < 0 || d >= base) return null;
    n = n * b + BigInt(d);
    any = true;
    if (n > UINT64_MAX) return null;
  }
  if (!any && !(base === 8 && s === '0')) {
    if (base !== 8) return null;
  }
  if (underscores && !underscoreOK(s)) return null;
  return n;
}

/** strconv.ParseInt(s, 0, 64); null on any error. */
export function parseInt64(s: string): bigint | null {
  if (s.length === 0) return null;
  let neg = false;
  let body = s;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    body = s.slice(1);
  }
  const u = parseUint(body);
  if (u === null) return null;
  const v = neg ? -u : u;
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return v;
}

/** strconv.ParseFloat(s, 64) for Go number syntax; null on error or range error. */
export function parseFloat64(s: string): number | null {
  const r = parseFloat64Err(s);
  return typeof r === 'number' ? r : null;
}

/** Like parseFloat64 but says why it failed: 'syntax' or 'range'. */
export function parseFloat64Err(s: string): number | 'syntax' | 'range' {
  let t = s;
  if (t.includes('_')) {
    if (!underscoreOK(t)) return 'syntax';
    t = t.replace(/_/g, '');
  }
  let sign = 1;
  let body = t;
  if (body[0] === '+' || body[0] === '-') {
    if (body[0] === '-') sign = -1;
    body = body.slice(1);
  }
  let v: number;
  if (/^0[xX]/.test(body)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(body);
    if (!m) return 'syntax';
    const ip = m[1];
    const fp = m[2] ?? '';
    if (ip.length + fp.length === 0) return 'syntax';
    const mant = BigInt('0x' + (ip + fp || '0'));
    const exp = Number(m[3]) - 4 * fp.length;
    v = Number(mant) * Math.pow(2, exp);
  } else {
    if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(body)) return 'syntax';
    v = Number(body);
  }
  if (!Number.isFinite(v)) return 'range';
  return sign * v;
}

// ---------------------------------------------------------------------------
// Float formatting.

interface Digits {
  /** Decimal digits, no leading zeros (empty for zero). */
  d: string;
  /** Decimal point position: value = 0.d × 10^dp. */
  dp: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Exact decimal expansion of a finite non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  f64[0] = x;
  const lo = u32[0];
  const hi = u32[1];
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) {
    e = -1074;
  } else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    const k = -e;
    digits = (mant * 5n ** BigInt(k)).toString();
    dp = digits.length - k;
  }
  // Trim leading zeros (none for BigInt strings) and trailing zeros.
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 0x30) end--;
  return { d: digits.slice(0, end), dp };
}

/** Shortest decimal that round-trips (same digits Go's shortest mode gives). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const s = x.toExponential();
  const ePos = s.indexOf('e');
  const mant = s.slice(0, ePos).replace('.', '');
  const exp = Number(s.slice(ePos + 1));
  let end = mant.length;
  while (end > 1 && mant.charCodeAt(end - 1) === 0x30) end--;
  return { d: mant.slice(0, end), dp: exp + 1 };
}

/** Rounds digits to nd digits, half to even on exact ties (Go's decimal.Round). */
function roundDigits(dg: Digits, nd: number): Digits {
  const d = dg.d;
  if (nd < 0) return { d: '', dp: 0 };
  if (nd >= d.length) return dg;
  const c = d.charCodeAt(nd);
  let up: boolean;
  if (c === 0x35 && nd + 1 === d.length) {
    up = nd > 0 && (d.charCodeAt(nd - 1) - 0x30) % 2 === 1;
  } else {
    up = c >= 0x35;
  }
  if (!up) {
    let end = nd;
    while (end > 0 && d.charCodeAt(end - 1) === 0x30) end--;
    return { d: d.slice(0, end), dp: end === 0 ? 0 : dg.dp };
  }
  // Round up.
  let i = nd - 1;
  while (i >= 0 && d.charCodeAt(i) === 0x39) i--;
  if (i < 0) return { d: '1', dp: dg.dp + 1 };
  return { d: d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1), dp: dg.dp };
}

function fmtE(neg: boolean, dg: Digits, prec: number, fmt: string): string {
  let out = neg ? '-' : '';
  out += dg.d.length === 0 ? '0' : dg.d[0];
  if (prec > 0) {
    out += '.';
    let i = 1;
    const m = Math.min(dg.d.length, prec + 1);
    if (i < m) {
      out += dg.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) out += '0';
  }
  out += fmt;
  let exp = dg.dp - 1;
  if (dg.d.length === 0) exp = 0;
  if (exp < 0) {
    out += '-';
    exp = -exp;
  } else {
    out += '+';
  }
  out += exp < 10 ? '0' + exp : String(exp);
  return out;
}

function fmtF(neg: boolean, dg: Digits, prec: number): string {
  let out = neg ? '-' : '';
  if (dg.dp > 0) {
    const m = Math.min(dg.d.length, dg.dp);
    out += dg.d.slice(0, m);
    for (let i = m; i < dg.dp; i++) out += '0';
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = dg.dp + i - 1;
      out += j >= 0 && j < dg.d.length ? dg.d[j] : '0';
    }
  }
  return out;
}

/** %x / %X hex float formatting (strconv 'x'): -0x1.8p+01 style. */
function fmtX(neg: boolean, x: number, prec: number, upper: boolean): string {
  let mant = 0n; // 53 significant bits, top bit at bit 52 (for x != 0)
  let exp = 0; // x = mant / 2^52 × 2^exp
  if (x !== 0) {
    f64[0] = x;
    const lo = u32[0];
    const hi = u32[1];
    const bexp = (hi >>> 20) & 0x7ff;
    mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    if (bexp === 0) {
      exp = -1022;
      while (mant < 1n << 52n) {
        mant <<= 1n;
        exp--;
      }
    } else {
      mant |= 1n << 52n;
      exp = bexp - 1023;
    }
  }
  let fracBits = 52;
  if (prec >= 0 && prec < 13) {
    const shift = BigInt(52 - 4 * prec);
    const extra = mant & ((1n << shift) - 1n);
    mant >>= shift;
    const half = 1n << (shift - 1n);
    if (extra > half || (extra === half && (mant & 1n) === 1n)) mant += 1n;
    fracBits = 4 * prec;
    if (mant >> BigInt(fracBits + 1) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hexDigits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = neg ? '-' : '';
  out += upper ? '0X' : '0x';
  out += x === 0 ? '0' : '1';
  let frac = '';
  const fracMask = (1n << BigInt(fracBits)) - 1n;
  let f = mant & fracMask;
  let nd = Math.ceil(fracBits / 4);
  if (fracBits % 4 !== 0) f <<= BigInt(4 - (fracBits % 4));
  for (let i = nd - 1; i >= 0; i--) frac += hexDigits[Number((f >> BigInt(4 * i)) & 15n)];
  if (prec < 0) frac = frac.replace(/0+$/, '');
  else if (prec > frac.length) frac = frac.padEnd(prec, '0');
  if (frac.length > 0) out += '.' + frac;
  out += upper ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  const ae = Math.abs(exp);
  out += ae < 10 ? '0' + ae : String(ae);
  return out;
}

/** %b: decimal mantissa and binary exponent, e.g. 4503599627370496p-52. */
function fmtB(neg: boolean, x: number): string {
  f64[0] = x;
  const lo = u32[0];
  const hi = u32[1];
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (bexp === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = bexp - 1075;
  }
  return (neg ? '-' : '') + mant.toString() + 'p' + (exp >= 0 ? '+' : '-') + Math.abs(exp);
}

/**
 * strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f F g G x X.
 * prec < 0 means the shortest representation that round-trips.
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  if (fmt === 'x' || fmt === 'X') return fmtX(neg, ax, prec, fmt === 'X');
  if (fmt === 'b') return fmtB(neg, ax);
  if (fmt === 'F') fmt = 'f';
  const shortest = prec < 0;
  let dg: Digits;
  if (shortest) {
    dg = shortestDigits(ax);
    switch (fmt) {
      case 'e':
      case 'E':
        prec = Math.max(dg.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(dg.d.length - dg.dp, 0);
        break;
      case 'g':
      case 'G':
        prec = dg.d.length;
        break;
    }
  } else {
    const exact = exactDigits(ax);
    switch (fmt) {
      case 'e':
      case 'E':
        dg = roundDigits(exact, prec + 1);
        break;
      case 'f':
        dg = roundDigits(exact, exact.dp + prec);
        break;
      default:
        if (prec === 0) prec = 1;
        dg = roundDigits(exact, prec);
        break;
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, dg, prec, fmt);
    case 'f':
      return fmtF(neg, dg, prec);
    case 'g':
    case 'G': {
      let eprec = prec;
      if (eprec > dg.d.length && dg.d.length >= dg.dp) eprec = dg.d.length;
      if (shortest) eprec = 6;
      const exp = dg.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > dg.d.length) prec = dg.d.length;
        return fmtE(neg, dg, prec - 1, fmt === 'g' ? 'e' : 'E');
      }
      if (prec > dg.dp) prec = dg.d.length;
      return fmtF(neg, dg, Math.max(prec - dg.dp, 0));
    }
  }
  return '%' + fmt;
}

/** strconv.FormatFloat(x, 'g', -1, 64): how Go prints a float64 by default. */
export function formatFloatG(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e6 && !Object.is(x, -0)) return String(x);
  return formatFloat(x, 'g', -1);
}
