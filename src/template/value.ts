/**
 * The value model: how JavaScript values stand for Go values.
 *
 * | JavaScript                                   | Go                         |
 * |----------------------------------------------|----------------------------|
 * | `undefined`                                  | invalid value (no value)   |
 * | `null`                                       | nil interface              |
 * | `boolean`                                    | bool                       |
 * | safe-integer `number`                        | int                        |
 * | any other `number`, or `float64(n)` (GoFloat)| float64                    |
 * | `bigint` in int64 range / above it           | int (64-bit) / uint64      |
 * | `Complex`                                    | complex128                 |
 * | `string`                                     | string                     |
 * | `Array`                                      | []interface {}             |
 * | plain object, `Map`                          | map[string]interface {}    |
 * | class instance                               | struct (fields + methods)  |
 * | `function`                                   | func                       |
 *
 * JSON numbers that are integral become `int`; a JSON decoder that must act
 * like Go's `encoding/json` (consul-template's `parseJSON`) should wrap every
 * number with `float64()`.
 */

/** Symbol key under which `typed()` records a container's Go type. */
export const GO_TYPE: unique symbol = Symbol.for('consulate.template.goType');

interface ContainerType {
  /** Go type name, e.g. `map[string]string` or `[]string`. */
  name: string;
  /** Zero value of the element type (what missingkey=zero and index give). */
  zero: unknown;
  /** Whether elements are interface-typed (`interface {}` element type). */
  iface: boolean;
}

/**
 * Declares the Go type of an array or map value, for what JS cannot carry:
 * `typed(meta, 'map[string]string', '')` makes a missing key under
 * `missingkey=zero` (or `index`) give `""` instead of `<no value>`, and `%T`
 * print `map[string]string`. Without it, arrays are `[]interface {}` and maps
 * `map[string]interface {}`. Returns `v` (marked in place).
 *
 * @example
 * typed(['a', 'b'], '[]string');
 * typed({ zone: 'a' }, 'map[string]string', '');
 */
export function typed<T extends object>(v: T, goType: string, zero: unknown = null): T {
  const info: ContainerType = { name: goType, zero, iface: goType.endsWith('interface {}') };
  Object.defineProperty(v, GO_TYPE, { value: info, enumerable: false, configurable: true });
  return v;
}

/** The declared container type of a value, if `typed()` marked it. */
export function containerType(v: unknown): ContainerType | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  return (v as { [GO_TYPE]?: ContainerType })[GO_TYPE];
}

/** Whether elements of a container value are interface-typed. */
export function elemIsIface(container: unknown): boolean {
  const t = containerType(container);
  return t === undefined ? true : t.iface;
}

/** The zero value of a container's element type (nil for interface{}). */
export function elemZero(container: unknown): unknown {
  const t = containerType(container);
  return t === undefined ? null : t.zero;
}

/** Marks a number as a Go float64 even when its value is integral. */
export class GoFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
}

/**
 * A Go integer of a sized type. Only what the engine itself produces needs one: `index` of a string
 * yields a byte, a uint8, which prints as `%!s(uint8=195)` under a wrong verb, not as an int.
 */
export class GoSizedInt {
  constructor(
    readonly value: number,
    readonly type: 'uint8',
  ) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
}

/** A Go byte (uint8). */
export function byte(n: number): GoSizedInt {
  return new GoSizedInt(n, 'uint8');
}

/** Returns `n` typed as Go float64 (wrapped only when JS would call it an int). */
export function float64(n: number): number | GoFloat {
  return Number.isSafeInteger(n) ? new GoFloat(n) : n;
}

/** A Go complex128 value. */
export class Complex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

export const enum Kind {
  Invalid,
  Nil, // nil interface
  Bool,
  Int,
  Uint,
  Float,
  Complex,
  String,
  Slice,
  Map,
  Struct,
  Func,
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

export function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return Kind.Invalid;
    case 'boolean':
      return Kind.Bool;
    case 'number':
      return Number.isSafeInteger(v) ? Kind.Int : Kind.Float;
    case 'bigint':
      return v > INT64_MAX ? Kind.Uint : Kind.Int;
    case 'string':
      return Kind.String;
    case 'function':
      return Kind.Func;
    case 'object':
      if (v === null) return Kind.Nil;
      if (v instanceof GoFloat) return Kind.Float;
      if (v instanceof GoSizedInt) return v.type.startsWith('u') ? Kind.Uint : Kind.Int;
      if (Array.isArray(v)) return Kind.Slice;
      if (v instanceof Complex) return Kind.Complex;
      if (v instanceof Map || isPlainObject(v)) return Kind.Map;
      return Kind.Struct;
  }
  return Kind.Struct;
}

/** The Go type name of a value, as `%T` prints it. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return '<nil>';
    case Kind.Bool:
      return 'bool';
    case Kind.Int:
    case Kind.Uint:
      if (v instanceof GoSizedInt) return v.type;
      return typeof v === 'bigint' && v > INT64_MAX ? 'uint64' : 'int';
    case Kind.Float:
      return 'float64';
    case Kind.Complex:
      return 'complex128';
    case Kind.String:
      return 'string';
    case Kind.Slice:
      return containerType(v)?.name ?? '[]interface {}';
    case Kind.Map:
      return containerType(v)?.name ?? 'map[string]interface {}';
    case Kind.Func:
      return 'func(...interface {}) interface {}';
    case Kind.Struct:
      return structTypeName(v as object);
  }
  return '<nil>';
}

/**
 * Type name for a class instance: the class's static `goType` if it has one
 * (e.g. `"*dependency.HealthService"`), else the class name.
 */
export function structTypeName(v: object): string {
  const ctor = (v as { constructor?: { goType?: unknown; name?: string } }).constructor;
  if (ctor && typeof ctor.goType === 'string') return ctor.goType;
  return ctor?.name || 'struct {}';
}

/** Go's truth: false, 0, nil, empty string/slice/map, invalid are false. */
export function isTrue(v: unknown): boolean {
  switch (typeof v) {
    case 'undefined':
      return false;
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'string':
      return v.length > 0;
    case 'function':
      return true;
    case 'object':
      if (v === null) return false;
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof GoFloat) return v.value !== 0;
      if (v instanceof GoSizedInt) return v.value !== 0;
      if (v instanceof Map) return v.size > 0;
      if (v instanceof Complex) return v.re !== 0 || v.im !== 0;
      if (isPlainObject(v)) {
        for (const _ in v) return true;
        return false;
      }
      return true;
  }
  return true;
}

/** Numeric value of an int/uint/float value as a JS number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoFloat) return v.value;
  if (v instanceof GoSizedInt) return v.value;
  return NaN;
}

/** Int value as bigint (for int and uint kinds). */
export function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (v instanceof GoSizedInt) return BigInt(v.value);
  throw new TypeError('not an integer');
}

/** Normalises a bigint to a number when it is a safe integer. */
export function normInt(v: bigint): number | bigint {
  if (v >= -9007199254740991n && v <= 9007199254740991n) return Number(v);
  if (v < INT64_MIN) return v;
  return v;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Map lookup with Go semantics; returns undefined when the key is absent. */
export function mapGet(m: object, key: string): unknown {
  if (m instanceof Map) return m.has(key) ? normalizeNil(m.get(key)) : undefined;
  const v = (m as Record<string, unknown>)[key];
  if (v === undefined) return hasOwn.call(m, key) ? null : undefined;
  if ((typeof v === 'function' || key === '__proto__') && !hasOwn.call(m, key)) return undefined;
  return v;
}

function normalizeNil(v: unknown): unknown {
  return v === undefined ? null : v;
}

export function mapSize(m: object): number {
  if (m instanceof Map) return m.size;
  return Object.keys(m).length;
}

/** Go's fmtsort order for map keys. */
export function compareKeys(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return ka - kb;
  switch (ka) {
    case Kind.String:
      return compareStrings(a as string, b as string);
    case Kind.Int:
    case Kind.Uint:
    case Kind.Float: {
      const x = toNumber(a);
      const y = toNumber(b);
      if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case Kind.Bool:
      return a === b ? 0 : a ? 1 : -1;
  }
  return 0;
}

/** Byte-wise (UTF-8) string comparison, as Go compares strings. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (astral code points) sort after all other BMP code points in UTF-8.
      if (x >= 0xd800 && x <= 0xdfff && (y < 0xd800 || y >= 0xe000)) return 1;
      if (y >= 0xd800 && y <= 0xdfff && (x < 0xd800 || x >= 0xe000)) return -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length;
}

/** Sorted [key, value] entries of a map value. */
export function sortedEntries(m: object): [unknown, unknown][] {
  if (m instanceof Map) {
    const entries = [...m.entries()].map(([k, v]): [unknown, unknown] => [k, normalizeNil(v)]);
    entries.sort((x, y) => compareKeys(x[0], y[0]));
    return entries;
  }
  const keys = Object.keys(m);
  keys.sort(compareStrings);
  const rec = m as Record<string, unknown>;
  return keys.map((k) => [k, normalizeNil(rec[k])]);
}

/** Byte length of a string in UTF-8 (Go's len). */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return Buffer.byteLength(s, 'utf8');
  }
  return n;
}

/** Struct field/method resolution on class instances. */
export type Member = { kind: 'field' } | { kind: 'method'; fn: (...args: unknown[]) => unknown } | null;

const memberCache = new WeakMap<object, Map<string, Member>>();

/**
 * Finds `name` on a class instance: an own property or a getter is a field,
 * a function on the prototype chain (below Object.prototype) is a method.
 */
export function findMember(obj: object, name: string): Member {
  if (hasOwn.call(obj, name)) return { kind: 'field' };
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === null) return null;
  let cache = memberCache.get(proto);
  if (cache === undefined) {
    cache = new Map();
    memberCache.set(proto, cache);
  }
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let found: Member = null;
  for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d === undefined) continue;
    if (name === 'constructor') break;
    if (d.get !== undefined) found = { kind: 'field' };
    else if (typeof d.value === 'function') found = { kind: 'method', fn: d.value as (...a: unknown[]) => unknown };
    else found = { kind: 'field' };
    break;
  }
  cache.set(name, found);
  return found;
}
