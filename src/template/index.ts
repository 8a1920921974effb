/**
 * A port of Go's text/template: `new Template(name).parse(text).execute(data)`
 * renders byte for byte what Go renders. See value.ts for how JS values map to
 * Go types (use `float64(n)` for an integral float64).
 */
export { Template } from './template.js';
export { TemplateError, ParseError, ExecError } from './errors.js';
export {
  GoFloat,
  GoSizedInt,
  float64,
  Complex,
  isTrue,
  typeName,
  typed,
  GO_TYPE,
  Kind,
  kindOf,
  toNumber,
  toBigInt,
  sortedEntries,
  compareStrings,
} from './value.js';
export type { FuncMap, TemplateFunc, ParamKind, Signature } from './funcs.js';
export { signature, GO_SIGNATURE } from './funcs.js';
export { sprint, sprintf, sprintln } from './fmt.js';
export { htmlEscapeString, jsEscapeString, urlQueryEscape } from './funcs.js';
export { Tree, parse, isEmptyTree, Mode } from './parse/parse.js';
export { Lexer, lexAll, ItemType, type Item } from './parse/lex.js';
export * as nodes from './parse/node.js';
