// The syntax tree of a filter expression and the error every stage throws.
// See src/http/filter.ts for the grammar and the semantics.

/** Match operators. `contains` / `not contains` parse to `in` / `not in`, as in go-bexpr. */
export type MatchOp = '==' | '!=' | 'in' | 'not in' | 'is empty' | 'is not empty' | 'matches' | 'not matches'

export interface MatchValue {
  /** The value as written, unquoted (strings) or verbatim (numbers, bare identifiers). */
  readonly raw: string
  /** The value coerced to the selected field's kind, filled in by validation. */
  converted?: string | number | bigint | boolean
  /** The compiled pattern for `matches` / `not matches`. */
  re?: RegExp
}

export interface MatchExpr {
  readonly type: 'match'
  /** Path segments: `Service.Meta["k-1"]` is `['Service', 'Meta', 'k-1']`. */
  readonly selector: readonly string[]
  readonly op: MatchOp
  readonly value?: MatchValue
  /** Offset (in characters) of the expression in the source. */
  readonly pos: number
}

export interface NotExpr {
  readonly type: 'not'
  readonly operand: Expr
}

export interface BinaryExpr {
  readonly type: 'and' | 'or'
  readonly left: Expr
  readonly right: Expr
}

export type Expr = MatchExpr | NotExpr | BinaryExpr

/** Where in the expression a syntax error was found; line and column count from 1, offset (UTF-8 bytes) from 0. */
export interface FilterPosition {
  readonly line: number
  readonly column: number
  readonly offset: number
}

export type FilterErrorKind = 'syntax' | 'selector' | 'operator' | 'value' | 'regexp'

export const FILTER_ERROR_PREFIX = 'Failed to create boolean expression evaluator: '

/**
 * A filter expression that cannot be compiled. The message starts with
 * "Failed to create boolean expression evaluator: " as Consul's does; the HTTP
 * layer answers it with status 400 (`status`).
 */
export class FilterError extends Error {
  readonly status = 400
  readonly kind: FilterErrorKind
  /** For syntax errors: where. */
  readonly position?: FilterPosition
  /** For selector, operator, value and regexp errors: the selector, dotted. */
  readonly selector?: string
  /** The message without the prefix. */
  readonly detail: string

  constructor(kind: FilterErrorKind, detail: string, extra: { position?: FilterPosition; selector?: string } = {}) {
    super(FILTER_ERROR_PREFIX + detail)
    this.name = 'FilterError'
    this.kind = kind
    this.detail = detail
    if (extra.position) this.position = extra.position
    if (extra.selector !== undefined) this.selector = extra.selector
  }
}

/** How go-bexpr prints a selector: its segments joined with dots. */
export function selectorString(selector: readonly string[]): string {
  return selector.join('.')
}

/** Go's %q for plain strings (close enough: JSON escaping). */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

/** go-bexpr's names for the operators, used in validation messages. */
export function opName(op: MatchOp): string {
  switch (op) {
    case '==': return 'Equal'
    case '!=': return 'Not Equal'
    case 'in': return 'In'
    case 'not in': return 'Not In'
    case 'is empty': return 'Is Empty'
    case 'is not empty': return 'Is Not Empty'
    case 'matches': return 'Matches'
    case 'not matches': return 'Not Matches'
  }
}
