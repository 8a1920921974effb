/**
 * The executor. Its state (output, variables, current node, depth) lives in
 * a `State` apart from the parsed template, so one parsed template can be
 * executed many times. Errors are thrown as ExecError by `errorf` with Go's
 * `template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG` form.
 */
import { ExecError } from './errors.js';
import { sprint, sprintValue } from './fmt.js';
import { BUILTINS, type ParamKind, type Signature, type TemplateFunc, signatureOf } from './funcs.js';
import {
  type ActionNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  NodeType,
  type NumberNode,
  type PipeNode,
  type RangeNode,
  type TemplateNode,
  type VariableNode,
} from './parse/node.js';
import type { Tree } from './parse/parse.js';
import { formatFloatG, quote } from './strconv.js';
import {
  Complex,
  GoFloat,
  GoSizedInt,
  Kind,
  float64,
  elemIsIface,
  elemZero,
  findMember,
  isTrue,
  kindOf,
  mapGet,
  normInt,
  sortedEntries,
  typeName,
} from './value.js';

/** Maximum nesting of {{template}} calls (Go: 100000; 1000 on wasm, which JS stacks resemble). */
export const MAX_EXEC_DEPTH = 1000;

export const enum MissingKey {
  Invalid, // default: missing key is an invalid value, prints <no value>
  Zero, // zero value of the map's element type
  Error, // stop with an error
}

/** What the executor needs from a template. */
export interface ExecTemplate {
  readonly name: string;
  readonly tree: Tree | null;
  lookup(name: string): ExecTemplate | undefined;
  findFunction(name: string): TemplateFunc | undefined;
  readonly missingKey: MissingKey;
}

const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

const BREAK = { signal: 'break' };
const CONTINUE = { signal: 'continue' };

interface Variable {
  name: string;
  value: unknown;
  /** True when the value came out of an interface-typed container element. */
  iface: boolean;
}

/** Byte column of a JS string index within its line, plus the line number. */
export function errorContext(node: Node): string {
  const tree = node.tree;
  const text = tree.text.slice(0, node.pos);
  const nl = text.lastIndexOf('\n');
  const lineText = nl === -1 ? text : text.slice(nl + 1);
  const byteNum = Buffer.byteLength(lineText, 'utf8');
  let lineNum = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x0a) lineNum++;
  return `${tree.parseName}:${lineNum}:${byteNum}`;
}

function message(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

class State {
  tmpl: ExecTemplate;
  out = '';
  node: Node | null = null;
  vars: Variable[];
  depth = 0;
  dotIface = false;
  lastIface = false;

  constructor(tmpl: ExecTemplate, data: unknown) {
    this.tmpl = tmpl;
    this.vars = [{ name: '$', value: data, iface: false }];
  }

  /** Stops execution with Go's message; `cause` is a function's own error (Go's %w). */
  errorf(msg: string, cause?: unknown): never {
    const name = this.tmpl.name;
    const options = cause === undefined ? undefined : { cause };
    if (this.node === null) throw new ExecError(`template: ${name}: ${msg}`, name, options);
    const location = errorContext(this.node);
    const context = this.node.toString();
    throw new ExecError(`template: ${location}: executing ${quote(name)} at <${context}>: ${msg}`, name, options);
  }

  push(name: string, value: unknown): void {
    this.vars.push({ name, value, iface: false });
  }

  setVar(name: string, value: unknown, iface = false): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        this.vars[i].iface = iface;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  setTopVar(n: number, value: unknown, iface: boolean): void {
    const v = this.vars[this.vars.length - n];
    v.value = value;
    v.iface = iface;
  }

  varValue(name: string): Variable {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) return this.vars[i];
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: unknown, node: Node): void {
    this.node = node;
    switch (node.type) {
      case NodeType.Action: {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case NodeType.Break:
        throw BREAK;
      case NodeType.Comment:
        return;
      case NodeType.Continue:
        throw CONTINUE;
      case NodeType.If:
      case NodeType.With: {
        const mark = this.vars.length;
        const val = this.evalPipeline(dot, node.pipe);
        if (isTrue(val)) {
          if (node.type === NodeType.With) {
            const saved = this.dotIface;
            this.dotIface = false;
            this.walk(val, node.list);
            this.dotIface = saved;
          } else {
            this.walk(dot, node.list);
          }
        } else if (node.elseList !== null) {
          this.walk(dot, node.elseList);
        }
        this.vars.length = mark;
        return;
      }
      case NodeType.List: {
        const nodes = node.nodes;
        for (let i = 0; i < nodes.length; i++) this.walk(dot, nodes[i]);
        return;
      }
      case NodeType.Range:
        this.walkRange(dot, node);
        return;
      case NodeType.Template:
        this.walkTemplate(dot, node);
        return;
      case NodeType.Text:
        this.out += node.text;
        return;
    }
    this.errorf(`unknown node: ${node.toString()}`);
  }

  walkRange(dot: unknown, r: RangeNode): void {
    this.node = r;
    const mark0 = this.vars.length;
    const val = this.evalPipeline(dot, r.pipe);
    const mark = this.vars.length;
    const decl = r.pipe.decl;
    const isAssign = r.pipe.isAssign;
    const savedIface = this.dotIface;
    const oneIteration = (index: unknown, elem: unknown, elemIface: boolean): void => {
      if (decl.length > 0) {
        if (isAssign) {
          if (decl.length > 1) this.setVar(decl[0].ident[0], index);
          else this.setVar(decl[0].ident[0], elem, elemIface);
        } else {
          this.setTopVar(1, elem, elemIface);
        }
      }
      if (decl.length > 1) {
        if (isAssign) this.setVar(decl[1].ident[0], elem, elemIface);
        else this.setTopVar(2, index, false);
      }
      this.dotIface = elemIface;
      try {
        this.walk(elem, r.list);
      } catch (e) {
        if (e !== CONTINUE) throw e;
      }
      this.vars.length = mark;
    };
    let ran = false;
    try {
      switch (kindOf(val)) {
        case Kind.Slice: {
          const arr = val as unknown[];
          for (let i = 0; i < arr.length; i++) {
            ran = true;
            const e = arr[i];
            // An array of class instances stands for a typed slice ([]*T);
            // any other array is []interface{}.
            oneIteration(i, e === undefined ? null : e, kindOf(e) !== Kind.Struct && elemIsIface(arr));
          }
          break;
        }
        case Kind.Map: {
          const entries = sortedEntries(val as object);
          const iface = elemIsIface(val);
          for (let i = 0; i < entries.length; i++) {
            ran = true;
            oneIteration(entries[i][0], entries[i][1], iface);
          }
          break;
        }
        case Kind.Int:
        case Kind.Uint: {
          if (decl.length > 1) this.errorf(`can't use ${sprint(val)} to iterate over more than one variable`);
          if (typeof val === 'bigint') {
            for (let i = 0n; i < val; i++) {
              ran = true;
              oneIteration(undefined, normInt(i), false);
            }
          } else {
            const n = Number(val);
            for (let i = 0; i < n; i++) {
              ran = true;
              oneIteration(undefined, i, false);
            }
          }
          break;
        }
        case Kind.Invalid:
        case Kind.Nil:
          break;
        default:
          this.errorf(`range can't iterate over ${sprint(val)}`);
      }
    } catch (e) {
      if (e !== BREAK) throw e;
      this.dotIface = savedIface;
      this.vars.length = mark0;
      return;
    }
    this.dotIface = savedIface;
    if (!ran && r.elseList !== null) this.walk(dot, r.elseList);
    this.vars.length = mark0;
  }

  walkTemplate(dot: unknown, t: TemplateNode): void {
    this.node = t;
    const tmpl = this.tmpl.lookup(t.name);
    if (tmpl === undefined || tmpl.tree === null || tmpl.tree.root === null) {
      this.errorf(`template ${quote(t.name)} not defined`);
    }
    if (this.depth === MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    dot = this.evalPipeline(dot, t.pipe);
    const saved = { tmpl: this.tmpl, vars: this.vars, depth: this.depth, dotIface: this.dotIface, node: this.node };
    this.tmpl = tmpl;
    this.vars = [{ name: '$', value: dot, iface: false }];
    this.depth++;
    this.dotIface = false;
    this.walk(dot, tmpl.tree.root as ListNode);
    this.tmpl = saved.tmpl;
    this.vars = saved.vars;
    this.depth = saved.depth;
    this.dotIface = saved.dotIface;
    this.node = saved.node;
  }

  evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (pipe === null) return undefined;
    this.node = pipe;
    let value: unknown = MISSING;
    const cmds = pipe.cmds;
    for (let i = 0; i < cmds.length; i++) {
      value = this.evalCommand(dot, cmds[i], value);
      if (value === null) value = undefined; // dig into interface{}: nil is no value
    }
    const decl = pipe.decl;
    for (let i = 0; i < decl.length; i++) {
      if (pipe.isAssign) this.setVar(decl[i].ident[0], value);
      else this.push(decl[i].ident[0], value);
    }
    return value;
  }

  notAFunction(args: readonly Node[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${args[0].toString()}`);
  }

  evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case NodeType.Field:
        return this.evalFieldNode(dot, first, cmd.args, final);
      case NodeType.Chain:
        return this.evalChainNode(dot, first, cmd.args, final);
      case NodeType.Identifier:
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case NodeType.Pipe:
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case NodeType.Variable:
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.node = first;
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case NodeType.Bool:
        return first.value;
      case NodeType.Dot:
        return dot;
      case NodeType.Nil:
        this.errorf('nil is not a command');
      case NodeType.Number:
        return this.idealConstant(first);
      case NodeType.String:
        return first.text;
    }
    this.errorf(`can't evaluate command ${quote(first.toString())}`);
  }

  idealConstant(c: NumberNode): unknown {
    this.node = c;
    if (c.hasCached) return c.cached;
    let v: unknown;
    const text = c.text;
    if (c.isComplex) {
      v = new Complex(c.complexRe, c.complexIm);
    } else if (c.isFloat && !isHexInt(text) && text[0] !== "'" && /[.eEpP]/.test(text)) {
      v = Number.isSafeInteger(c.float64) ? new GoFloat(c.float64) : c.float64;
    } else if (c.isInt) {
      v = normInt(c.int64);
    } else if (c.isUint) {
      this.errorf(`${text} overflows int`);
    }
    c.cached = v;
    c.hasCached = true;
    return v;
  }

  evalFieldNode(dot: unknown, field: FieldNode, args: readonly Node[] | null, final: Final): unknown {
    this.node = field;
    return this.evalFieldChain(dot, dot, this.dotIface, field, field.ident, args, final);
  }

  evalChainNode(dot: unknown, chain: ChainNode, args: readonly Node[] | null, final: Final): unknown {
    this.node = chain;
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === NodeType.Nil) this.errorf(`indirection through explicit nil in ${chain.toString()}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, false, chain, chain.field, args, final);
  }

  evalVariableNode(dot: unknown, v: VariableNode, args: readonly Node[] | null, final: Final): unknown {
    this.node = v;
    const variable = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return variable.value;
    }
    return this.evalFieldChain(dot, variable.value, variable.iface, v, v.ident.slice(1), args, final);
  }

  evalFieldChain(
    dot: unknown,
    receiver: unknown,
    iface: boolean,
    node: Node,
    ident: readonly string[],
    args: readonly Node[] | null,
    final: Final,
  ): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) {
      receiver = this.evalField(dot, ident[i], node, null, MISSING, receiver, iface);
      iface = this.lastIface;
    }
    return this.evalField(dot, ident[n - 1], node, args, final, receiver, iface);
  }

  evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: readonly Node[] | null, final: Final): unknown {
    this.node = node;
    const name = node.ident;
    const user = this.tmpl.findFunction(name);
    if (user !== undefined) {
      return this.evalCall(dot, user, signatureOf(user) ?? null, false, undefined, cmd, name, args, final);
    }
    const builtin = BUILTINS.get(name);
    if (builtin !== undefined) return this.evalCall(dot, builtin.fn, builtin, true, undefined, cmd, name, args, final);
    this.errorf(`${quote(name)} is not a defined function`);
  }

  evalField(
    dot: unknown,
    fieldName: string,
    node: Node,
    args: readonly Node[] | null,
    final: Final,
    receiver: unknown,
    iface: boolean,
  ): unknown {
    this.lastIface = false;
    if (receiver === undefined) {
      if (this.tmpl.missingKey === MissingKey.Error) this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    const k = kindOf(receiver);
    if (k === Kind.Map) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      let result = mapGet(receiver as object, fieldName);
      if (result === undefined) {
        switch (this.tmpl.missingKey) {
          case MissingKey.Zero:
            result = elemZero(receiver);
            break;
          case MissingKey.Error:
            this.errorf(`map has no entry for key ${quote(fieldName)}`);
        }
      }
      this.lastIface = elemIsIface(receiver);
      return result;
    }
    if (k === Kind.Struct) {
      const m = findMember(receiver as object, fieldName);
      if (m !== null) {
        if (m.kind === 'method') {
          return this.evalCall(dot, m.fn, signatureOf(m.fn) ?? null, false, receiver, node, fieldName, args, final);
        }
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        const v = (receiver as Record<string, unknown>)[fieldName];
        return v === undefined ? null : v;
      }
    }
    const typ = iface ? 'interface {}' : typeName(receiver);
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  evalCall(
    dot: unknown,
    fn: (...a: any[]) => unknown,
    builtin: Signature | null,
    isBuiltin: boolean,
    thisArg: unknown,
    node: Node,
    name: string,
    args: readonly Node[] | null,
    final: Final,
  ): unknown {
    const argNodes = args !== null ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const argv: unknown[] = [];
    if (builtin !== null) {
      const params = builtin.params;
      let numFixed = argNodes.length;
      if (builtin.variadic) {
        numFixed = params.length - 1;
        if (numIn < numFixed) {
          this.errorf(`wrong number of args for ${name}: want at least ${params.length - 1} got ${argNodes.length}`);
        }
      } else if (numIn !== params.length) {
        this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
      }
      if (isBuiltin && (name === 'and' || name === 'or')) {
        let v: unknown = undefined;
        for (const arg of argNodes) {
          v = this.evalArg(dot, 'value', arg);
          if (isTrue(v) === (name === 'or')) return v;
        }
        if (final !== MISSING) v = final;
        return v;
      }
      let i = 0;
      for (; i < numFixed && i < argNodes.length; i++) argv.push(this.evalArg(dot, params[i], argNodes[i]));
      if (builtin.variadic) {
        const t = params[params.length - 1];
        for (; i < argNodes.length; i++) argv.push(this.evalArg(dot, t, argNodes[i]));
      }
      if (final !== MISSING) {
        let t = params[params.length - 1];
        if (builtin.variadic && numIn - 1 < numFixed) t = params[numIn - 1];
        argv.push(this.validateType(final, t));
      }
      if (isBuiltin && name === 'call') {
        const callee = argNodes.length > 0 ? argNodes[0].toString() : sprint(final);
        try {
          return callFunc(callee, argv[0], argv.slice(1));
        } catch (e) {
          this.node = node;
          this.errorf(`error calling call: ${message(e)}`, e);
        }
      }
    } else {
      for (const arg of argNodes) argv.push(this.evalArg(dot, 'any', arg));
      if (final !== MISSING) argv.push(this.validateType(final, 'any'));
    }
    let result: unknown;
    try {
      result = fn.apply(thisArg, argv);
    } catch (e) {
      this.node = node;
      this.errorf(`error calling ${name}: ${message(e)}`, e);
    }
    if (builtin?.result === 'float64' && typeof result === 'number') return float64(result);
    return result === undefined ? null : result;
  }

  validateType(value: unknown, typ: ParamKind | null): unknown {
    switch (typ) {
      case null:
      case 'value':
        return value;
      case 'any':
        return value === undefined ? null : value;
      case 'string':
        if (typeof value === 'string') return value;
        break;
      case 'bool':
        if (typeof value === 'boolean') return value;
        break;
      case 'int':
        if (kindOf(value) === Kind.Int) return value;
        break;
      case 'float64':
        if (kindOf(value) === Kind.Float) return value instanceof GoFloat ? value.value : value;
        break;
    }
    if (value === undefined) this.errorf(`invalid value; expected ${typ}`);
    this.errorf(`wrong type for value; expected ${typ}; got ${value === null ? 'interface {}' : typeName(value)}`);
  }

  evalArg(dot: unknown, typ: ParamKind | null, n: Node): unknown {
    this.node = n;
    switch (n.type) {
      case NodeType.Dot:
        return this.validateType(dot, typ);
      case NodeType.Nil:
        if (typ !== null && typ !== 'any' && typ !== 'value') this.errorf(`cannot assign nil to ${typ}`);
        return typ === 'any' ? null : undefined;
      case NodeType.Field:
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case NodeType.Variable:
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case NodeType.Pipe:
        return this.validateType(this.evalPipeline(dot, n), typ);
      case NodeType.Identifier:
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case NodeType.Chain:
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'string':
        if (n.type === NodeType.String) return n.text;
        this.errorf(`expected string; found ${n.toString()}`);
      case 'bool':
        if (n.type === NodeType.Bool) return n.value;
        this.errorf(`expected bool; found ${n.toString()}`);
      case 'int':
        if (n.type === NodeType.Number && n.isInt) return normInt(n.int64);
        this.errorf(`expected integer; found ${n.toString()}`);
      case 'float64':
        if (n.type === NodeType.Number && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${n.toString()}`);
    }
    switch (n.type) {
      case NodeType.Bool:
        return n.value;
      case NodeType.Number:
        return this.idealConstant(n);
      case NodeType.String:
        return n.text;
    }
    this.errorf(`can't handle assignment of ${n.toString()} to empty interface argument`);
  }

  printValue(node: ActionNode, v: unknown): void {
    this.node = node;
    switch (typeof v) {
      case 'string':
        this.out += v;
        return;
      case 'number':
        this.out += Number.isSafeInteger(v) ? String(v) : formatFloatG(v);
        return;
      case 'undefined':
        this.out += '<no value>';
        return;
      case 'function':
        this.errorf(`can't print ${node.toString()} of type ${typeName(v)}`);
    }
    this.out += sprintValue(v);
  }
}

function isHexInt(s: string): boolean {
  return s.length > 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X') && !/[pP]/.test(s);
}

/** The `call` builtin: calls a function value with the given arguments. */
function callFunc(name: string, fn: unknown, args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function ${name} of type ${typeName(fn)}`);
  const sig = signatureOf(fn);
  let argv: unknown[] = args.map((a) => (a === null ? undefined : a)); // indirectInterface
  if (sig !== undefined) {
    const numIn = sig.params.length;
    if (sig.variadic) {
      if (argv.length < numIn - 1) {
        throw new Error(`wrong number of args for ${name}: got ${argv.length} want at least ${numIn - 1}`);
      }
    } else if (argv.length !== numIn) {
      throw new Error(`wrong number of args for ${name}: got ${argv.length} want ${numIn}`);
    }
    argv = argv.map((a, i) => {
      const t = sig.params[Math.min(i, numIn - 1)];
      try {
        return prepareArg(a, t);
      } catch (e) {
        throw new Error(`arg ${i}: ${message(e)}`);
      }
    });
  } else {
    argv = argv.map((a) => (a === undefined ? null : a));
  }
  let r = (fn as (...a: unknown[]) => unknown)(...argv);
  if (sig?.result === 'float64' && typeof r === 'number') r = float64(r);
  return r === undefined ? null : r;
}

/** Go's prepareArg for `call`: checks an argument against a parameter kind. */
function prepareArg(value: unknown, typ: ParamKind): unknown {
  if (value === undefined) {
    if (typ === 'any') return null;
    if (typ === 'value') return undefined;
    throw new Error(`value is nil; should be of type ${typ}`);
  }
  const k = kindOf(value);
  switch (typ) {
    case 'any':
    case 'value':
      return value;
    case 'string':
      if (k === Kind.String) return value;
      break;
    case 'bool':
      if (k === Kind.Bool) return value;
      break;
    case 'int':
      if (k === Kind.Int || k === Kind.Uint) return value instanceof GoSizedInt ? value.value : value; // intLike values convert
      break;
    case 'float64':
      if (k === Kind.Float) return value instanceof GoFloat ? value.value : value;
      break;
  }
  throw new Error(`value has type ${typeName(value)}; should be ${typ}`);
}

/**
 * Executes `tmpl` with `data` as dot and returns the output. Throws ExecError
 * (with `partialOutput` set to what was written before the error).
 */
export function execute(tmpl: ExecTemplate, data: unknown): string {
  const s = new State(tmpl, data === null ? undefined : data);
  try {
    const root = tmpl.tree?.root ?? null;
    if (root === null) s.errorf(`${quote(tmpl.name)} is an incomplete or empty template`);
    s.walk(data === null ? undefined : data, root as ListNode);
  } catch (e) {
    if (e instanceof ExecError) {
      e.partialOutput = s.out;
      throw e;
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      const err = new ExecError(`template: ${tmpl.name}: exceeded maximum template depth`, tmpl.name, { cause: e });
      err.partialOutput = s.out;
      throw err;
    }
    throw e;
  }
  return s.out;
}
