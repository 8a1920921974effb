// Consul's `?filter=` expressions (go-bexpr v0.1.2, as Consul uses it).
//
// Grammar (whitespace is free except where noted):
//   expr     := or
//   or       := and ( WS "or" WS or )?           -- `not` binds tighter than `and`, `and` than `or`
//   and      := not ( WS "and" WS and )?
//   not      := "not" WS not | "(" expr ")" | match
//   match    := Selector ("==" | "!=") Value
//             | Selector WS ("contains" | "not contains" | "matches" | "not matches") WS Value
//             | Selector WS "is" WS ("empty" | "not empty")
//             | Value WS ("in" | "not in") WS Selector
//   Selector := Ident ( "." Ident | "[" String "]" )*       Ident := [a-zA-Z][a-zA-Z0-9_]*
//   Value    := Selector (taken verbatim, dotted: `true`, `passing`, `a.b`)
//             | Number (-?(0|[1-9][0-9]*)(.[0-9]+)?, followed by whitespace, ")" or the end)
//             | "Go string" (escapes \n \t \\ \" \xHH \uHHHH …) | `raw string`
// `contains` is `in` written the other way round. Keywords need whitespace on
// both sides (`a==1 and b==2` works, `(a==1)and(b==2)` does not, as in Consul).
//
// Semantics: selector names are case-sensitive. Values are coerced to the
// field's kind (Go strconv rules: `Port == "0x50"`, `Flag == T`). `in` /
// `contains` is substring on strings, membership on scalar lists, key presence
// on maps. A selector through a list of objects matches if any element does.
// A map key that is absent makes `==`, `in`, `is not empty` false and every
// other operator (including `matches`, a go-bexpr quirk) true.
//
// Operators per field kind (as go-bexpr v0.1.2 derives them from Go types):
//   string: == != in/contains matches (and their negations) -- not `is empty`,
//           write `X == ""`; bool/int/uint/float: == !=; scalar list: in,
//           is empty; list of objects: is empty; map: in (keys), is empty;
//           object: none (select a sub-field). 'any' allows everything.
// `matches` patterns are RE2, run as JS RegExps (see src/lib/re2.ts).
// Beyond go-bexpr: `\"` inside a double-quoted string is accepted (go-bexpr
// ends the string at any `"`, so it could never be written there).
//
// Validation: pass the endpoint's element schema (see FilterFieldSpec) to get
// Consul's 400s for unknown selectors (`Selector "Foo" is not valid`),
// operators a field does not support, and values that do not coerce. Without a
// schema nothing is validated and values are compared by their runtime type.

import { FilterError, type Expr } from './filter/ast.js'
import { evaluateFilter, validateFilter, type FilterSchema } from './filter/eval.js'
import { parseFilter } from './filter/parse.js'

export { FilterError, FILTER_ERROR_PREFIX } from './filter/ast.js'
export type { Expr as FilterExpr, FilterErrorKind, FilterPosition, MatchOp } from './filter/ast.js'
export type { FilterFieldSpec, FilterPrimitive, FilterSchema } from './filter/eval.js'
export { parseFilter } from './filter/parse.js'

export interface FilterOptions {
  /** The fields of one element of the endpoint's result. Omit to skip validation. */
  readonly schema?: FilterSchema
}

export interface CompiledFilter {
  readonly expression: string
  /** Undefined for the empty expression, which matches everything. */
  readonly ast: Expr | undefined
  match(value: unknown): boolean
}

/**
 * Parse and validate an expression. Throws FilterError (message starting
 * "Failed to create boolean expression evaluator: ", status 400). The empty
 * string matches everything, as Consul's nil filter does.
 */
export function compileFilter(expression: string, opts: FilterOptions = {}): CompiledFilter {
  if (expression === '') return { expression, ast: undefined, match: () => true }
  const ast = parseFilter(expression)
  validateFilter(ast, opts.schema)
  const schema = opts.schema
  return { expression, ast, match: (value: unknown) => evaluateFilter(ast, value, schema) }
}

/** Keep the elements that match; no expression (undefined or '') keeps them all. Throws FilterError. */
export function filterList<T>(items: readonly T[], expression?: string, schema?: FilterSchema): T[] {
  if (!expression) return [...items]
  const filter = compileFilter(expression, schema ? { schema } : {})
  return items.filter((item) => filter.match(item))
}

/** Keep the entries whose values match (Consul filters a map by its values). Throws FilterError. */
export function filterMap<T>(record: Readonly<Record<string, T>>, expression?: string, schema?: FilterSchema): Record<string, T> {
  if (!expression) return { ...record }
  const filter = compileFilter(expression, schema ? { schema } : {})
  const out: Record<string, T> = {}
  for (const [key, value] of Object.entries(record)) if (filter.match(value)) out[key] = value
  return out
}

/** True when err is a FilterError (for the HTTP layer: answer 400 with err.message). */
export function isFilterError(err: unknown): err is FilterError {
  return err instanceof FilterError
}
