/**
 * The builtin functions, as a table plus small functions, with Go's
 * semantics and error texts. Each builtin declares its Go parameter kinds,
 * because argument evaluation and arity errors depend on them:
 * `value` is a reflect.Value parameter (gets the raw value, `undefined` for an
 * invalid one), `any` is interface{} (invalid becomes nil), `string` must be a
 * string. `and`, `or` and `call` are special cases in the executor.
 */
import { sprint, sprintIndirect, sprintf, sprintln } from './fmt.js';
import { isPrint } from './strconv.js';
import {
  Complex,
  GoFloat,
  byte,
  Kind,
  byteLength,
  compareStrings as compareUtf8,
  elemZero,
  isTrue,
  kindOf,
  mapGet,
  mapSize,
  toBigInt,
  toNumber,
  typeName,
} from './value.js';

export type ParamKind = 'value' | 'any' | 'string' | 'int' | 'float64' | 'bool';

/** A Go function signature: parameter kinds, the last one variadic or not. */
export interface Signature {
  readonly params: readonly ParamKind[];
  readonly variadic: boolean;
  /** `float64`: wrap an integral JS number result with float64(). */
  readonly result?: 'float64';
}

/** Symbol key under which `signature()` records a function's Go signature. */
export const GO_SIGNATURE: unique symbol = Symbol.for('consulate.template.signature');

/**
 * Declares the Go signature of a template function, so that calls are
 * checked as Go checks them: arity (`wrong number of args for NAME: want 1
 * got 0`) and argument types (`expected integer; found "x"`, `wrong type for
 * value; expected string; got int`). Parameters: `string`, `int`, `float64`
 * (passed as a plain JS number), `bool`, `any` (interface{}), `value`
 * (reflect.Value: raw, `undefined` when invalid). Without a signature a
 * function is `func(...interface{}) interface{}`. Returns `fn`.
 *
 * @example
 * signature((s: string) => s.toUpperCase(), ['string']);
 * signature((sep: string, ...xs: unknown[]) => xs.join(sep), ['string', 'any'], { variadic: true });
 */
export function signature<F extends (...args: any[]) => unknown>(
  fn: F,
  params: readonly ParamKind[],
  options: { variadic?: boolean; result?: 'float64' } = {},
): F {
  const sig: Signature = { params, variadic: options.variadic ?? false, result: options.result };
  Object.defineProperty(fn, GO_SIGNATURE, { value: sig, enumerable: false, configurable: true });
  return fn;
}

/** The declared signature of a function, if any. */
export function signatureOf(fn: unknown): Signature | undefined {
  return typeof fn === 'function' ? (fn as { [GO_SIGNATURE]?: Signature })[GO_SIGNATURE] : undefined;
}

/** An error a builtin reports (becomes `error calling NAME: MSG`). */
export class FuncError extends Error {}

export interface Builtin extends Signature {
  readonly name: string;
  readonly fn: (...args: unknown[]) => unknown;
}

/** A user function: a plain JS function; it may throw to report an error. */
export type TemplateFunc = (...args: any[]) => unknown;
export type FuncMap = Record<string, TemplateFunc>;

function b(name: string, params: ParamKind[], variadic: boolean, fn: (...args: any[]) => unknown): Builtin {
  return { name, params, variadic, fn };
}

/** Go's indirectInterface: a nil interface becomes an invalid value. */
function indirectInterface(v: unknown): unknown {
  return v === null ? undefined : v;
}

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  let x: bigint;
  if (k === Kind.Int || k === Kind.Uint) {
    x = toBigInt(index);
    if (k === Kind.Uint) x = BigInt.asIntN(64, x);
  } else if (k === Kind.Invalid || k === Kind.Nil) {
    throw new FuncError('cannot index slice/array with nil');
  } else {
    throw new FuncError(`cannot index slice/array with type ${typeName(index)}`);
  }
  if (x < 0n || x > BigInt(cap)) throw new FuncError(`index out of range: ${x}`);
  return Number(x);
}

function stringBytes(s: string): Uint8Array | null {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.from(s, 'utf8');
  return null;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === undefined) throw new FuncError('index of untyped nil');
  for (let idx of indexes) {
    idx = indirectInterface(idx);
    if (item === null) throw new FuncError('index of nil pointer');
    const k = kindOf(item);
    if (k === Kind.Slice) {
      const arr = item as unknown[];
      const x = indexArg(idx, arr.length);
      if (x === arr.length) throw new FuncError('reflect: slice index out of range');
      item = arr[x] === undefined ? null : arr[x];
    } else if (k === Kind.String) {
      const s = item as string;
      const bytes = stringBytes(s);
      const len = bytes ? bytes.length : s.length;
      const x = indexArg(idx, len);
      if (x === len) throw new FuncError('reflect: string index out of range');
      // Go indexes a string's bytes and yields a byte (uint8).
      item = byte(bytes ? bytes[x]! : s.charCodeAt(x));
    } else if (k === Kind.Map) {
      // map[string]interface{}: the key must be a string.
      const ik = kindOf(idx);
      if (ik === Kind.Invalid || ik === Kind.Nil) throw new FuncError('value is nil; should be of type string');
      const zero = elemZero(item);
      if (item instanceof Map) {
        const v = item.has(idx) ? item.get(idx) : zero;
        item = v === undefined ? null : v;
        continue;
      }
      if (ik !== Kind.String) throw new FuncError(`value has type ${typeName(idx)}; should be string`);
      const v = mapGet(item as object, idx as string);
      item = v === undefined ? zero : v;
    } else {
      throw new FuncError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === undefined) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  let cap: number;
  let len: number;
  let bytes: Uint8Array | null = null;
  if (k === Kind.String) {
    if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
    bytes = Buffer.from(item as string, 'utf8');
    cap = len = bytes.length;
  } else if (k === Kind.Slice) {
    cap = len = (item as unknown[]).length;
  } else {
    throw new FuncError(`can't slice item of type ${typeName(item)}`);
  }
  const idx = [0, len, 0];
  for (let i = 0; i < indexes.length; i++) idx[i] = indexArg(indexes[i], cap);
  if (idx[0] > idx[1]) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes !== null) return Buffer.from(bytes.subarray(idx[0], idx[1])).toString('utf8');
  return (item as unknown[]).slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  if (item === null) throw new FuncError('len of nil pointer');
  switch (kindOf(item)) {
    case Kind.String:
      return byteLength(item as string);
    case Kind.Slice:
      return (item as unknown[]).length;
    case Kind.Map:
      return mapSize(item as object);
    case Kind.Invalid:
      throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
  }
  throw new FuncError(`len of type ${typeName(item)}`);
}

function not(arg: unknown): boolean {
  return !isTrue(arg);
}

// Comparison.

const enum BasicKind {
  Invalid,
  Bool,
  Complex,
  Int,
  Float,
  String,
  Uint,
}

function basicKind(v: unknown): BasicKind {
  switch (kindOf(v)) {
    case Kind.Bool:
      return BasicKind.Bool;
    case Kind.Int:
      return BasicKind.Int;
    case Kind.Uint:
      return BasicKind.Uint;
    case Kind.Float:
      return BasicKind.Float;
    case Kind.Complex:
      return BasicKind.Complex;
    case Kind.String:
      return BasicKind.String;
  }
  return BasicKind.Invalid;
}

const errBadComparisonType = 'invalid type for comparison';
const errNoComparison = 'missing argument for comparison';

function incompatible(a: unknown, b: unknown): FuncError {
  return new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
}

function intEq(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return toBigInt(a) === toBigInt(b);
}

function intLt(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  return toBigInt(a) < toBigInt(b);
}

function isNilValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  return false;
}

function isComparable(v: unknown): boolean {
  const k = kindOf(v);
  return k !== Kind.Slice && k !== Kind.Map && k !== Kind.Func;
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  arg1 = indirectInterface(arg1);
  if (arg2.length === 0) throw new FuncError(errNoComparison);
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    arg = indirectInterface(arg);
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (k1 === BasicKind.Int && k2 === BasicKind.Uint) {
        truth = toBigInt(arg1) >= 0n && toBigInt(arg1) === toBigInt(arg);
      } else if (k1 === BasicKind.Uint && k2 === BasicKind.Int) {
        truth = toBigInt(arg) >= 0n && toBigInt(arg1) === toBigInt(arg);
      } else if (arg1 !== undefined && arg !== undefined) {
        throw incompatible(arg1, arg);
      }
    } else {
      switch (k1) {
        case BasicKind.Bool:
        case BasicKind.String:
          truth = arg1 === arg;
          break;
        case BasicKind.Complex:
          truth = (arg1 as Complex).re === (arg as Complex).re && (arg1 as Complex).im === (arg as Complex).im;
          break;
        case BasicKind.Float:
          truth = toNumber(arg1) === toNumber(arg);
          break;
        case BasicKind.Int:
        case BasicKind.Uint:
          truth = intEq(arg1, arg);
          break;
        default: {
          const ka = kindOf(arg1);
          const kb = kindOf(arg);
          if (ka !== kb && ka !== Kind.Invalid && kb !== Kind.Invalid) {
            throw new FuncError(
              `non-comparable types ${sprintf('%s', arg1)}: ${typeName(arg1)}, ${typeName(arg)}: ${sprint(arg)}`,
            );
          }
          if (isNilValue(arg1) || isNilValue(arg)) {
            truth = isNilValue(arg) === isNilValue(arg1);
          } else {
            if (!isComparable(arg)) throw new FuncError(`non-comparable type ${sprintf('%s', arg)}: ${typeName(arg)}`);
            truth = arg1 === arg;
          }
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

function ne(arg1: unknown, arg2: unknown): boolean {
  return !eq(arg1, arg2);
}

function lt(arg1: unknown, arg2: unknown): boolean {
  arg1 = indirectInterface(arg1);
  const k1 = basicKind(arg1);
  if (k1 === BasicKind.Invalid) throw new FuncError(errBadComparisonType);
  arg2 = indirectInterface(arg2);
  const k2 = basicKind(arg2);
  if (k2 === BasicKind.Invalid) throw new FuncError(errBadComparisonType);
  if (k1 !== k2) {
    if (k1 === BasicKind.Int && k2 === BasicKind.Uint) return toBigInt(arg1) < 0n || toBigInt(arg1) < toBigInt(arg2);
    if (k1 === BasicKind.Uint && k2 === BasicKind.Int) return toBigInt(arg2) >= 0n && toBigInt(arg1) < toBigInt(arg2);
    throw incompatible(arg1, arg2);
  }
  switch (k1) {
    case BasicKind.Bool:
    case BasicKind.Complex:
      throw new FuncError(errBadComparisonType);
    case BasicKind.Float:
      return toNumber(arg1) < toNumber(arg2);
    case BasicKind.Int:
    case BasicKind.Uint:
      return intLt(arg1, arg2);
    case BasicKind.String:
      return compareUtf8(arg1 as string, arg2 as string) < 0;
  }
  return false;
}


function le(arg1: unknown, arg2: unknown): boolean {
  if (lt(arg1, arg2)) return true;
  return eq(arg1, arg2);
}

function gt(arg1: unknown, arg2: unknown): boolean {
  return !le(arg1, arg2);
}

function ge(arg1: unknown, arg2: unknown): boolean {
  return !lt(arg1, arg2);
}

// Escapers.

/** Formats arguments as Sprint does, after Go's template indirection. */
export function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  // Go's printableValue turns a nil argument into "<no value>".
  return sprintIndirect(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

export function htmlEscapeString(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '\0':
        out += '\uFFFD';
        break;
      case '"':
        out += '&#34;';
        break;
      case "'":
        out += '&#39;';
        break;
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

const HEX_UPPER = '0123456789ABCDEF';

export function jsEscapeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      switch (ch) {
        case '\\':
          out += '\\\\';
          continue;
        case "'":
          out += "\\'";
          continue;
        case '"':
          out += '\\"';
          continue;
        case '<':
          out += '\\u003C';
          continue;
        case '>':
          out += '\\u003E';
          continue;
        case '&':
          out += '\\u0026';
          continue;
        case '=':
          out += '\\u003D';
          continue;
      }
      if (c < 0x20) out += '\\u00' + HEX_UPPER[c >> 4] + HEX_UPPER[c & 15];
      else out += ch;
    } else if (isPrint(c)) {
      out += ch;
    } else {
      out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    }
  }
  return out;
}

/** url.QueryEscape */
export function urlQueryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + HEX_UPPER[byte >> 4] + HEX_UPPER[byte & 15];
  }
  return out;
}

function unreachable(): never {
  throw new Error('unreachable');
}

/** The builtin function table. */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(
  [
    b('and', ['value', 'value'], true, unreachable),
    b('call', ['value', 'value'], true, unreachable),
    b('html', ['any'], true, (...a: unknown[]) => htmlEscapeString(evalArgs(a))),
    b('index', ['value', 'value'], true, index),
    b('slice', ['value', 'value'], true, slice),
    b('js', ['any'], true, (...a: unknown[]) => jsEscapeString(evalArgs(a))),
    b('len', ['value'], false, length),
    b('not', ['value'], false, not),
    b('or', ['value', 'value'], true, unreachable),
    b('print', ['any'], true, sprint),
    b('printf', ['string', 'any'], true, sprintf),
    b('println', ['any'], true, sprintln),
    b('urlquery', ['any'], true, (...a: unknown[]) => urlQueryEscape(evalArgs(a))),
    b('eq', ['value', 'value'], true, eq),
    b('ge', ['value', 'value'], false, ge),
    b('gt', ['value', 'value'], false, gt),
    b('le', ['value', 'value'], false, le),
    b('lt', ['value', 'value'], false, lt),
    b('ne', ['value', 'value'], false, ne),
  ].map((x) => [x.name, x]),
);

export { GoFloat };
