// Validation against an endpoint's field description, and evaluation against
// plain JS records, following go-bexpr v0.1.2 (the version Consul uses).

import { FilterError, goQuote, opName, selectorString, type Expr, type MatchExpr, type MatchOp } from './ast.js'
import { coerceBool, coerceFloat, coerceInt, coerceUint, type Coerced } from './coerce.js'
import { compileRe2 } from '../../lib/re2.js'

export type FilterPrimitive = 'string' | 'int' | 'uint' | 'float' | 'bool'

/**
 * The kind of one field, as its Go type would be:
 * - `'string' | 'int' | 'uint' | 'float' | 'bool'`: a scalar (int/uint/float are all JS numbers or bigints)
 * - `'string[]'`: shorthand for `{ list: 'string' }`
 * - `'map[string]string'`: shorthand for `{ map: 'string' }`
 * - `{ list: spec }`: a slice; of scalars: `in`, `not in`, `is empty`; of objects: `is empty`, and its
 *   sub-fields select into every element (a match on any element counts)
 * - `{ map: spec }`: a map with string keys: `is empty`, `in` (key present), and any key selects a value
 *   (`Meta.env`, `Meta["k-1"]`)
 * - `{ fields: schema }`: a nested struct; no operators of its own, only its sub-fields
 * - `'any'`: no validation below this point; evaluated by the runtime type of the value
 */
export type FilterFieldSpec =
  | FilterPrimitive
  | 'string[]'
  | 'map[string]string'
  | 'any'
  | { readonly list: FilterFieldSpec }
  | { readonly map: FilterFieldSpec }
  | { readonly fields: FilterSchema }

/** The selectable fields of an endpoint's element type; names are case-sensitive, as in Consul. */
export interface FilterSchema {
  readonly [field: string]: FilterFieldSpec
}

type Spec =
  | { readonly k: 'prim'; readonly t: FilterPrimitive }
  | { readonly k: 'list'; readonly elem: Spec }
  | { readonly k: 'map'; readonly value: Spec }
  | { readonly k: 'struct'; readonly fields: FilterSchema }
  | { readonly k: 'any' }

const ANY: Spec = { k: 'any' }

function norm(spec: FilterFieldSpec): Spec {
  if (typeof spec === 'string') {
    switch (spec) {
      case 'string[]': return { k: 'list', elem: { k: 'prim', t: 'string' } }
      case 'map[string]string': return { k: 'map', value: { k: 'prim', t: 'string' } }
      case 'any': return ANY
      default: return { k: 'prim', t: spec }
    }
  }
  if ('list' in spec) return { k: 'list', elem: norm(spec.list) }
  if ('map' in spec) return { k: 'map', value: norm(spec.map) }
  return { k: 'struct', fields: spec.fields }
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

function subfield(spec: Spec, name: string): Spec | undefined {
  switch (spec.k) {
    case 'struct': return hasOwn(spec.fields, name) ? norm(spec.fields[name]!) : undefined
    case 'map': return spec.value
    case 'list': return spec.elem.k === 'prim' ? undefined : subfield(spec.elem, name)
    case 'any': return ANY
    case 'prim': return undefined
  }
}

function supported(spec: Spec): readonly MatchOp[] {
  switch (spec.k) {
    case 'prim':
      return spec.t === 'string' ? ['==', '!=', 'in', 'not in', 'matches', 'not matches'] : ['==', '!=']
    case 'list':
      return spec.elem.k === 'prim' ? ['in', 'not in', 'is empty', 'is not empty'] : ['is empty', 'is not empty']
    case 'map':
      return ['is empty', 'is not empty', 'in', 'not in']
    case 'struct':
      return []
    case 'any':
      return ['==', '!=', 'in', 'not in', 'is empty', 'is not empty', 'matches', 'not matches']
  }
}

function coerce(t: FilterPrimitive, raw: string): Coerced {
  switch (t) {
    case 'string': return { ok: true, value: raw }
    case 'int': return coerceInt(raw)
    case 'uint': return coerceUint(raw)
    case 'float': return coerceFloat(raw)
    case 'bool': return coerceBool(raw)
  }
}

function validateMatch(m: MatchExpr, root: Spec | undefined): void {
  const sel = selectorString(m.selector)
  let last: Spec | undefined
  if (root) {
    let current: Spec = root
    for (let i = 0; i < m.selector.length; i++) {
      const next = subfield(current, m.selector[i]!)
      if (!next) throw new FilterError('selector', `Selector ${goQuote(selectorString(m.selector.slice(0, i + 1)))} is not valid`, { selector: sel })
      current = next
    }
    last = current
    if (!supported(last).includes(m.op)) {
      throw new FilterError('operator', `Invalid match operator ${goQuote(opName(m.op))} for selector ${goQuote(sel)}`, { selector: sel })
    }
    const scalar = last.k === 'prim' ? last.t : last.k === 'list' && last.elem.k === 'prim' ? last.elem.t : undefined
    if (m.value && scalar) {
      const c = coerce(scalar, m.value.raw)
      if (!c.ok) throw new FilterError('value', `Failed to coerce value ${goQuote(m.value.raw)} for selector ${goQuote(sel)}: ${c.error}`, { selector: sel })
      m.value.converted = c.value
    }
  }
  if (m.value && (m.op === 'matches' || m.op === 'not matches')) {
    try {
      m.value.re = compileRe2(m.value.raw)
    } catch (err) {
      throw new FilterError('regexp', `Failed to compile regular expression ${goQuote(m.value.raw)}: ${(err as Error).message}`, { selector: sel })
    }
  }
}

/** Check every selector, operator and value against the schema (if any), coercing values and compiling patterns. */
export function validateFilter(expr: Expr, schema: FilterSchema | undefined): void {
  const root: Spec | undefined = schema ? { k: 'struct', fields: schema } : undefined
  // left to right, without recursion (long and/or chains nest deeply)
  const stack: Expr[] = [expr]
  while (stack.length > 0) {
    const e = stack.pop()!
    if (e.type === 'match') validateMatch(e, root)
    else if (e.type === 'not') stack.push(e.operand)
    else stack.push(e.right, e.left)
  }
}

// --- evaluation ------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** What go-bexpr answers when a map has no such key (including its quirk that `matches` is then true). */
function missing(op: MatchOp): boolean {
  return !(op === '==' || op === 'is not empty' || op === 'in')
}

const NEGATED: Partial<Record<MatchOp, MatchOp>> = { '!=': '==', 'not in': 'in', 'is not empty': 'is empty', 'not matches': 'matches' }

function zero(t: FilterPrimitive): unknown {
  return t === 'string' ? '' : t === 'bool' ? false : 0
}

function equalScalar(t: FilterPrimitive, v: unknown, want: unknown): boolean {
  switch (t) {
    case 'string':
      return (typeof v === 'string' ? v : String(v)) === want
    case 'bool':
      return v === want
    case 'int':
    case 'uint':
      if (typeof v === 'bigint') return v === want
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v) === want
      return typeof v === 'number' && v === Number(want)
    case 'float':
      return typeof v === 'number' ? v === want : typeof v === 'bigint' ? Number(v) === want : false
  }
}

function converted(m: MatchExpr, t: FilterPrimitive): unknown {
  if (m.value?.converted !== undefined) return m.value.converted
  const c = coerce(t, m.value?.raw ?? '')
  return c.ok ? c.value : undefined
}

/** The positive form of an operator on a value of a known kind. */
function applyTyped(m: MatchExpr, op: MatchOp, value: unknown, spec: Spec): boolean {
  switch (spec.k) {
    case 'prim': {
      const v = value ?? zero(spec.t)
      switch (op) {
        case '==': return equalScalar(spec.t, v, converted(m, spec.t))
        case 'in': return String(v).includes(m.value?.raw ?? '')
        case 'matches': return m.value?.re?.test(String(v)) ?? false
        default: return false
      }
    }
    case 'list': {
      const arr = Array.isArray(value) ? value : []
      if (op === 'is empty') return arr.length === 0
      if (op === 'in' && spec.elem.k === 'prim') {
        const t = spec.elem.t
        const want = converted(m, t)
        return arr.some((el) => equalScalar(t, el ?? zero(t), want))
      }
      if (op === 'in' && spec.elem.k === 'any') return arr.some((el) => equalDynamic(el, m.value?.raw ?? ''))
      return false
    }
    case 'map': {
      const obj = isRecord(value) ? value : {}
      if (op === 'is empty') return Object.keys(obj).length === 0
      if (op === 'in') return hasOwn(obj, m.value?.raw ?? '')
      return false
    }
    case 'struct':
      return false
    case 'any':
      return applyDynamic(m, op, value)
  }
}

function equalDynamic(v: unknown, raw: string): boolean {
  let c: Coerced
  switch (typeof v) {
    case 'string': return v === raw
    case 'number': c = coerceFloat(raw); return c.ok && c.value === v
    case 'bigint': c = coerceInt(raw); return c.ok && c.value === v
    case 'boolean': c = coerceBool(raw); return c.ok && c.value === v
    default: return false
  }
}

function applyDynamic(m: MatchExpr, op: MatchOp, value: unknown): boolean {
  const raw = m.value?.raw ?? ''
  switch (op) {
    case '==': return equalDynamic(value, raw)
    case 'in':
      if (typeof value === 'string') return value.includes(raw)
      if (Array.isArray(value)) return value.some((el) => equalDynamic(el, raw))
      if (isRecord(value)) return hasOwn(value, raw)
      return false
    case 'is empty':
      if (typeof value === 'string' || Array.isArray(value)) return value.length === 0
      if (isRecord(value)) return Object.keys(value).length === 0
      return false
    case 'matches':
      return typeof value === 'string' && (m.value?.re?.test(value) ?? false)
    default:
      return false
  }
}

function evalAt(m: MatchExpr, depth: number, value: unknown, spec: Spec): boolean {
  if (depth >= m.selector.length) {
    if (spec.k === 'any' && value == null) return missing(m.op)
    const positive = NEGATED[m.op]
    return positive ? !applyTyped(m, positive, value, spec) : applyTyped(m, m.op, value, spec)
  }
  const name = m.selector[depth]!
  switch (spec.k) {
    case 'struct': {
      const child = isRecord(value) ? value[name] : undefined
      return evalAt(m, depth + 1, child, norm(spec.fields[name]!))
    }
    case 'list': {
      // slices are implicitly "any element": the same selector continues into each
      const arr = Array.isArray(value) ? value : []
      return arr.some((el) => evalAt(m, depth, el, spec.elem))
    }
    case 'map':
    case 'any': {
      if (spec.k === 'any' && Array.isArray(value)) return value.some((el) => evalAt(m, depth, el, spec))
      const obj = isRecord(value) ? value : {}
      const child = hasOwn(obj, name) ? obj[name] : undefined
      if (child == null) return missing(m.op)
      return evalAt(m, depth + 1, child, spec.k === 'map' ? spec.value : ANY)
    }
    case 'prim':
      return missing(m.op)
  }
}

/** Evaluate a validated expression against one element. */
export function evaluateFilter(expr: Expr, datum: unknown, schema: FilterSchema | undefined): boolean {
  const root: Spec = schema ? { k: 'struct', fields: schema } : ANY
  const run = (e: Expr): boolean => {
    switch (e.type) {
      case 'match': return evalAt(e, 0, datum, root)
      case 'not': return !run(e.operand)
      case 'and':
      case 'or': {
        // chains nest to the right; walk them without recursing
        const stop = e.type === 'or'
        let node: Expr = e
        while (node.type === e.type) {
          const bin = node as { left: Expr; right: Expr }
          if (run(bin.left) === stop) return stop
          node = bin.right
        }
        return run(node)
      }
    }
  }
  return run(expr)
}
