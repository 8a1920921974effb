/**
 * Go's fmt printing (Sprint, Sprintln, Sprintf) over the value model in
 * value.ts: verbs %v %+v %#v %T %t %d %b %o %O %x %X %c %q %U %e %E %f %F %g
 * %G %s, flags `+ - # 0 space`, width and precision (also `*` and `%[n]`), and
 * Go's error forms (`%!d(float64=1.5)`, `%!d(MISSING)`, `%!(EXTRA int=2)`).
 */
import {
  canBackquote,
  formatFloat,
  formatFloatG,
  isPrint,
  quote,
  quoteRune,
  quoteRuneToASCII,
  quoteToASCII,
} from './strconv.js';
import { Complex, GoFloat, GoSizedInt, Kind, findMember, kindOf, sortedEntries, typeName } from './value.js';

const TOO_LARGE = 1e6;

/** Returns the String()/Error() text of a value that has one, else undefined. */
export function stringerText(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (v instanceof Error) return v.message;
  if (Array.isArray(v) || v instanceof GoFloat || v instanceof GoSizedInt || v instanceof Complex || v instanceof Map) return undefined;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return undefined;
  const m = findMember(v, 'Error');
  if (m !== null && m.kind === 'method') return String(m.fn.call(v));
  const s = findMember(v, 'String');
  if (s !== null && s.kind === 'method') return String(s.fn.call(v));
  const t = findMember(v, 'toString');
  if (t !== null && t.kind === 'method') return String(t.fn.call(v));
  return undefined;
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function utf8Bytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

class Printer {
  buf = '';
  // Flags.
  plus = false;
  minus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  widPresent = false;
  prec = 0;
  precPresent = false;
  // State.
  arg: unknown = undefined;
  /** Print a top-level pointer-to-struct as the struct (template output indirects pointers). */
  derefTop = false;
  erroring = false;
  reordered = false;
  goodArgNum = true;

  clearFlags(): void {
    this.plus = this.minus = this.sharp = this.space = this.zero = false;
    this.plusV = this.sharpV = false;
    this.wid = 0;
    this.widPresent = false;
    this.prec = 0;
    this.precPresent = false;
  }

  writePadding(n: number): void {
    if (n <= 0) return;
    this.buf += (this.zero ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  padString(s: string): void {
    this.pad(s);
  }

  truncate(s: string): string {
    if (this.precPresent) {
      let n = this.prec;
      let i = 0;
      for (const ch of s) {
        n--;
        if (n < 0) return s.slice(0, i);
        i += ch.length;
      }
    }
    return s;
  }

  fmtBoolean(v: boolean): void {
    this.padString(v ? 'true' : 'false');
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    let s = 'U+' + (u < 0n ? (u & 0xffffffffffffffffn) : u).toString(16).toUpperCase().padStart(prec, '0');
    if (this.sharp && u >= 0n && u <= 0x10ffffn && isPrint(Number(u))) {
      s += " '" + String.fromCodePoint(Number(u)) + "'";
    }
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  fmtInteger(v: bigint, base: number, isSigned: boolean, verb: string, upper: boolean): void {
    let u = v;
    if (!isSigned && u < 0n) u &= 0xffffffffffffffffn;
    const negative = isSigned && u < 0n;
    if (negative) u = -u;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--;
    }
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
    if (this.sharp) {
      switch (base) {
        case 2:
          digits = '0b' + digits;
          break;
        case 8:
          if (digits[0] !== '0') digits = '0' + digits;
          break;
        case 16:
          digits = (upper ? '0X' : '0x') + digits;
          break;
      }
    }
    if (verb === 'O') digits = '0o' + digits;
    if (negative) digits = '-' + digits;
    else if (this.plus) digits = '+' + digits;
    else if (this.space) digits = ' ' + digits;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(digits);
    this.zero = oldZero;
  }

  fmtC(c: bigint): void {
    let r = 0xfffd;
    if (c >= 0n && c <= 0x10ffffn) {
      r = Number(c);
      if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    }
    this.pad(String.fromCodePoint(r));
  }

  fmtQc(c: bigint): void {
    let r = 0xfffd;
    if (c >= 0n && c <= 0x10ffffn) r = Number(c);
    if (this.plus) {
      this.pad(quoteRuneToASCII(r));
    } else {
      this.pad(quoteRune(r));
    }
  }

  fmtS(s: string): void {
    this.padString(this.truncate(s));
  }

  fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.sharp && canBackquote(s)) {
      this.padString('`' + s + '`');
      return;
    }
    this.padString(this.plus ? quoteToASCII(s) : quote(s));
  }

  fmtSx(s: string, upper: boolean): void {
    const b = utf8Bytes(s);
    const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
    let length = b.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) {
        width += 2;
      }
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = '';
    if (this.sharp) out += upper ? '0X' : '0x';
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += ' ';
        if (this.sharp) out += upper ? '0X' : '0x';
      }
      out += digits[b[i] >> 4] + digits[b[i] & 15];
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  fmtFloatRaw(v: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] === '-' || num[0] === '+') {
      // keep sign
    } else {
      num = '+' + num;
    }
    if (this.space && num[0] === '+' && !this.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = this.zero;
      this.zero = false;
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== 'b') num = sharpFloat(num, verb, prec);
    if (this.plus || num[0] !== '+') {
      if (this.zero && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  badVerb(verb: string, value: unknown): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    const k = kindOf(value);
    if (k !== Kind.Invalid && k !== Kind.Nil) {
      this.buf += typeName(value) + '=';
      this.printArg(value, 'v');
    } else {
      this.buf += '<nil>';
    }
    this.buf += ')';
    this.erroring = false;
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.fmtBoolean(v);
    else this.badVerb(verb, v);
  }

  fmtIntegerVerb(v: bigint, isSigned: boolean, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
        if (this.sharpV && !isSigned) {
          this.sharp = true;
          this.fmtInteger(v, 16, isSigned, verb, false);
          this.sharp = false;
        } else {
          this.fmtInteger(v, 10, isSigned, verb, false);
        }
        return;
      case 'd':
        return this.fmtInteger(v, 10, isSigned, verb, false);
      case 'b':
        return this.fmtInteger(v, 2, isSigned, verb, false);
      case 'o':
      case 'O':
        return this.fmtInteger(v, 8, isSigned, verb, false);
      case 'x':
        return this.fmtInteger(v, 16, isSigned, verb, false);
      case 'X':
        return this.fmtInteger(v, 16, isSigned, verb, true);
      case 'c':
        return this.fmtC(v);
      case 'q':
        return this.fmtQc(v);
      case 'U':
        return this.fmtUnicode(v);
    }
    this.badVerb(verb, orig);
  }

  fmtFloatVerb(v: number, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
        return this.fmtFloatRaw(v, 'g', -1);
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        return this.fmtFloatRaw(v, verb, -1);
      case 'f':
      case 'e':
      case 'E':
      case 'F':
        return this.fmtFloatRaw(v, verb === 'F' ? 'f' : verb, 6);
    }
    this.badVerb(verb, orig);
  }

  fmtComplexVerb(v: Complex, verb: string): void {
    switch (verb) {
      case 'v':
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
      case 'f':
      case 'F':
      case 'e':
      case 'E': {
        const oldPlus = this.plus;
        this.buf += '(';
        this.fmtFloatVerb(v.re, verb, v.re);
        this.plus = true;
        this.fmtFloatVerb(v.im, verb, v.im);
        this.buf += 'i)';
        this.plus = oldPlus;
        return;
      }
    }
    this.badVerb(verb, v);
  }

  fmtStringVerb(v: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.sharpV) this.fmtQ(v);
        else this.fmtS(v);
        return;
      case 's':
        return this.fmtS(v);
      case 'x':
        return this.fmtSx(v, false);
      case 'X':
        return this.fmtSx(v, true);
      case 'q':
        return this.fmtQ(v);
    }
    this.badVerb(verb, v);
  }

  handleMethods(verb: string, v: unknown): boolean {
    if (this.erroring) return false;
    if (this.sharpV) return false;
    if (verb !== 'v' && verb !== 's' && verb !== 'x' && verb !== 'X' && verb !== 'q') return false;
    const s = stringerText(v);
    if (s === undefined) return false;
    this.fmtStringVerb(s, verb);
    return true;
  }

  printArg(arg: unknown, verb: string): void {
    this.arg = arg;
    if (arg === undefined || arg === null) {
      if (verb === 'T' || verb === 'v') this.padString('<nil>');
      else this.badVerb(verb, arg);
      return;
    }
    if (verb === 'T') {
      this.fmtS(typeName(arg));
      return;
    }
    if (verb === 'p') {
      this.badVerb(verb, arg);
      return;
    }
    switch (typeof arg) {
      case 'boolean':
        return this.fmtBool(arg, verb);
      case 'number':
        if (Number.isSafeInteger(arg)) return this.fmtIntegerVerb(BigInt(arg), true, verb, arg);
        return this.fmtFloatVerb(arg, verb, arg);
      case 'bigint':
        return this.fmtIntegerVerb(arg, arg <= 0x7fffffffffffffffn, verb, arg);
      case 'string':
        return this.fmtStringVerb(arg, verb);
    }
    if (arg instanceof GoFloat) return this.fmtFloatVerb(arg.value, verb, arg);
    if (arg instanceof GoSizedInt) return this.fmtIntegerVerb(BigInt(arg.value), !arg.type.startsWith('u'), verb, arg);
    if (arg instanceof Complex) return this.fmtComplexVerb(arg, verb);
    if (!this.handleMethods(verb, arg)) this.printValue(arg, verb, 0);
  }

  printValue(value: unknown, verb: string, depth: number): void {
    if (depth > 0 && value !== undefined && value !== null && this.handleMethods(verb, value)) return;
    this.arg = value;
    const k = kindOf(value);
    switch (k) {
      case Kind.Invalid:
      case Kind.Nil:
        if (depth === 0 && k === Kind.Invalid) {
          this.buf += '<invalid reflect.Value>';
        } else if (this.sharpV) {
          this.buf += 'interface {}(nil)';
        } else {
          this.buf += '<nil>';
        }
        return;
      case Kind.Bool:
      case Kind.Int:
      case Kind.Uint:
      case Kind.Float:
      case Kind.Complex:
      case Kind.String:
        return this.printArg(value, verb);
      case Kind.Map: {
        if (this.sharpV) this.buf += typeName(value) + '{';
        else this.buf += 'map[';
        const entries = sortedEntries(value as object);
        for (let i = 0; i < entries.length; i++) {
          if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
          this.printValue(entries[i][0], verb, depth + 1);
          this.buf += ':';
          this.printValue(entries[i][1], verb, depth + 1);
        }
        this.buf += this.sharpV ? '}' : ']';
        return;
      }
      case Kind.Struct: {
        const tn = typeName(value);
        // A pointer below the top level is printed by Go as an address (we
        // print &{...}); verbs that do not apply to pointers are bad verbs.
        if (depth > 0 && tn.startsWith('*') && !'vpbodxX'.includes(verb)) {
          this.badVerb(verb, value);
          return;
        }
        if (this.sharpV) this.buf += tn;
        else if (tn.startsWith('*') && !(depth === 0 && this.derefTop)) this.buf += '&'; // pointer to struct
        this.buf += '{';
        const obj = value as Record<string, unknown>;
        const keys = Object.keys(obj);
        for (let i = 0; i < keys.length; i++) {
          if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
          if (this.plusV || this.sharpV) this.buf += keys[i] + ':';
          this.printValue(obj[keys[i]], verb, depth + 1);
        }
        this.buf += '}';
        return;
      }
      case Kind.Slice: {
        const arr = value as unknown[];
        if (this.sharpV) {
          this.buf += typeName(value) + '{';
          for (let i = 0; i < arr.length; i++) {
            if (i > 0) this.buf += ', ';
            this.printValue(arr[i], verb, depth + 1);
          }
          this.buf += '}';
          return;
        }
        this.buf += '[';
        for (let i = 0; i < arr.length; i++) {
          if (i > 0) this.buf += ' ';
          this.printValue(arr[i], verb, depth + 1);
        }
        this.buf += ']';
        return;
      }
      case Kind.Func:
        if (verb === 'v' || verb === 'p') {
          this.fmtInteger(0xc000010000n, 16, false, 'v', false);
          return;
        }
        this.badVerb(verb, value);
        return;
    }
  }

  doPrintf(format: string, a: readonly unknown[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    this.reordered = false;
    let i = 0;
    formatLoop: while (i < end) {
      this.goodArgNum = true;
      const lasti = i;
      while (i < end && format.charCodeAt(i) !== 0x25) i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++; // skip %
      this.clearFlags();
      simple: for (; i < end; i++) {
        const c = format[i];
        switch (c) {
          case '#':
            this.sharp = true;
            break;
          case '0':
            this.zero = !this.minus;
            break;
          case '+':
            this.plus = true;
            break;
          case '-':
            this.minus = true;
            this.zero = false;
            break;
          case ' ':
            this.space = true;
            break;
          default:
            if (c >= 'a' && c <= 'z' && argNum < a.length) {
              if (c === 'v') {
                this.sharpV = this.sharp;
                this.sharp = false;
                this.plusV = this.plus;
                this.plus = false;
              }
              this.printArg(a[argNum], c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }
      // Argument index?
      [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
      // Width?
      if (i < end && format[i] === '*') {
        i++;
        [this.wid, this.widPresent, argNum] = intFromArg(a, argNum);
        if (!this.widPresent) this.buf += '%!(BADWIDTH)';
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        [this.wid, this.widPresent, i] = parsenum(format, i, end);
        if (afterIndex && this.widPresent) this.goodArgNum = false;
      }
      // Precision?
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) this.goodArgNum = false;
        [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
        if (i < end && format[i] === '*') {
          i++;
          [this.prec, this.precPresent, argNum] = intFromArg(a, argNum);
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [this.prec, this.precPresent, i] = parsenum(format, i, end);
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const cp = format.codePointAt(i)!;
      const verb = String.fromCodePoint(cp);
      i += verb.length;
      if (verb === '%') {
        this.buf += '%';
      } else if (!this.goodArgNum) {
        this.buf += '%!' + verb + '(BADINDEX)';
      } else if (argNum >= a.length) {
        this.buf += '%!' + verb + '(MISSING)';
      } else {
        if (verb === 'v') {
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        this.printArg(a[argNum], verb);
        argNum++;
      }
    }
    if (!this.reordered && argNum < a.length) {
      this.clearFlags();
      this.buf += '%!(EXTRA ';
      for (let j = argNum; j < a.length; j++) {
        if (j > argNum) this.buf += ', ';
        const arg = a[j];
        if (arg === null || arg === undefined) this.buf += '<nil>';
        else {
          this.buf += typeName(arg) + '=';
          this.printArg(arg, 'v');
        }
      }
      this.buf += ')';
    }
  }

  argNumber(argNum: number, format: string, i: number, numArgs: number): [number, number, boolean] {
    if (format.length <= i || format[i] !== '[') return [argNum, i, false];
    this.reordered = true;
    const [index, wid, ok] = parseArgNumber(format.slice(i));
    if (ok && index >= 0 && index < numArgs) return [index, i + wid, true];
    this.goodArgNum = false;
    return [argNum, i + wid, ok];
  }
}

function sharpFloat(num: string, verb: string, prec: number): string {
  // %#g etc.: force a decimal point; %#g and %#x keep trailing zeros. num[0] is the sign.
  let digits = 0;
  if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') {
    digits = prec;
    if (digits === -1) digits = 6;
  }
  let tail = '';
  let hasDecimalPoint = false;
  let sawNonzeroDigit = false;
  for (let i = 1; i < num.length; i++) {
    const c = num[i];
    if (c === '.') {
      hasDecimalPoint = true;
    } else if (c === 'p' || c === 'P') {
      tail = num.slice(i);
      num = num.slice(0, i);
    } else if ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X') {
      tail = num.slice(i);
      num = num.slice(0, i);
    } else {
      if (c !== '0') sawNonzeroDigit = true;
      if (sawNonzeroDigit) digits--;
    }
  }
  if (!hasDecimalPoint) {
    if (num.length === 2 && num[1] === '0') digits--;
    num += '.';
  }
  while (digits > 0) {
    num += '0';
    digits--;
  }
  return num + tail;
}

function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39; i++) {
    if (num > TOO_LARGE || num < -TOO_LARGE) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 0x30);
    isnum = true;
  }
  return [num, isnum, i];
}

function parseArgNumber(format: string): [number, number, boolean] {
  if (format.length < 3) return [0, 1, false];
  for (let i = 1; i < format.length; i++) {
    if (format[i] === ']') {
      const [width, ok, newi] = parsenum(format, 1, i);
      if (!ok || newi !== i) return [0, i + 1, false];
      return [width - 1, i + 1, true];
    }
  }
  return [0, 1, false];
}

function intFromArg(a: readonly unknown[], argNum: number): [number, boolean, number] {
  let num = 0;
  let isInt = false;
  let newArgNum = argNum;
  if (argNum < a.length) {
    const v = a[argNum];
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      num = v;
      isInt = true;
    } else if (typeof v === 'bigint' && v >= -(1n << 53n) && v <= 1n << 53n) {
      num = Number(v);
      isInt = true;
    }
    newArgNum = argNum + 1;
    if (num > TOO_LARGE || num < -TOO_LARGE) {
      num = 0;
      isInt = false;
    }
  }
  return [num, isInt, newArgNum];
}

/** fmt.Sprintf */
export function sprintf(format: string, ...a: unknown[]): string {
  const p = new Printer();
  p.doPrintf(format, a);
  return p.buf;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(...a: unknown[]): string {
  if (a.length === 1) {
    const v = a[0];
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : formatFloatG(v);
  }
  const p = new Printer();
  let prevString = false;
  for (let i = 0; i < a.length; i++) {
    const isString = typeof a[i] === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(a[i], 'v');
    prevString = isString;
  }
  return p.buf;
}

/**
 * How a template action prints a value: fmt.Sprint after indirecting a
 * pointer, so a class instance prints as `{...}` rather than `&{...}`.
 */
export function sprintValue(v: unknown): string {
  const p = new Printer();
  p.derefTop = true;
  p.printArg(v, 'v');
  return p.buf;
}

/**
 * fmt.Sprint over arguments that the template engine has already indirected
 * (Go's evalArgs for html/js/urlquery): pointers to structs print as `{...}`.
 */
export function sprintIndirect(a: readonly unknown[]): string {
  const p = new Printer();
  p.derefTop = true;
  let prevString = false;
  for (let i = 0; i < a.length; i++) {
    const isString = typeof a[i] === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(a[i], 'v');
    prevString = isString;
  }
  return p.buf;
}

/** fmt.Sprintln: always spaces between operands, newline at the end. */
export function sprintln(...a: unknown[]): string {
  const p = new Printer();
  for (let i = 0; i < a.length; i++) {
    if (i > 0) p.buf += ' ';
    p.printArg(a[i], 'v');
  }
  return p.buf + '\n';
}
