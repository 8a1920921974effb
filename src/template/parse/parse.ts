/**
 * The parser: turns lexer items into a tree of nodes. Like Go's parse
 * package, it knows nothing of evaluation; it only checks that functions and
 * variables named in the template are defined.
 */
import { ParseError } from '../errors.js';
import {
  SyntaxError as StrconvSyntaxError,
  quote as goQuote,
  parseFloat64,
  parseFloat64Err,
  parseInt64,
  parseUint,
  unquote,
  unquoteChar,
} from '../strconv.js';
import { type Item, ItemType, Lexer, itemString } from './lex.js';
import {
  ActionNode,
  BoolNode,
  BreakNode,
  ChainNode,
  CommandNode,
  CommentNode,
  ContinueNode,
  DotNode,
  ElseNode,
  EndNode,
  FieldNode,
  IdentifierNode,
  IfNode,
  ListNode,
  type Node,
  NodeType,
  NilNode,
  NumberNode,
  PipeNode,
  RangeNode,
  StringNode,
  TemplateNode,
  TextNode,
  type TreeRef,
  VariableNode,
  WithNode,
} from './node.js';

/** Maximum nesting of parenthesized expressions (Go: maxStackDepth, 10000; 1000 on wasm, which JS stacks resemble). */
export const MAX_PAREN_DEPTH = 1000;
/** Maximum commands in one pipeline (Go: maxPipelineCmds). */
export const MAX_PIPELINE_CMDS = 100000;

export const enum Mode {
  ParseComments = 1,
  SkipFuncCheck = 2,
}

/** Reports whether a function name is defined (builtins or user funcs). */
export type HasFunction = (name: string) => boolean;

/** Thrown internally to unwind the parser; converted once in `parse()`. */
class ParseAbort {
  constructor(readonly error: ParseError) {}
}

/** One parsed template. */
export class Tree implements TreeRef {
  name: string;
  parseName = '';
  root: ListNode | null = null;
  mode = 0;
  text = '';
  // Parsing only; cleared after parse.
  private hasFn: HasFunction = () => false;
  private lex: Lexer | null = null;
  private token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = [];
  private treeSet: Map<string, Tree> = new Map();
  private actionLine = 0;
  private rangeDepth = 0;
  private parenDepth = 0;

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Parses `text`, adding this tree and every `{{define}}`d template to
   * `treeSet`. Throws ParseError with Go's message on failure.
   */
  parse(text: string, leftDelim: string, rightDelim: string, treeSet: Map<string, Tree>, hasFn: HasFunction): Tree {
    this.parseName = this.name;
    const lexer = new Lexer(this.name, text, leftDelim, rightDelim);
    try {
      this.startParse(hasFn, lexer, treeSet);
      this.text = text;
      this.parseTop();
      this.add();
      this.stopParse();
    } catch (e) {
      this.stopParse();
      if (e instanceof ParseAbort) throw e.error;
      throw e;
    }
    return this;
  }

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lex!.nextItem();
    return this.token[this.peekCount];
  }

  private backup(): void {
    this.peekCount++;
  }

  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1];
    this.peekCount = 1;
    this.token[0] = this.lex!.nextItem();
    return this.token[0];
  }

  private nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.type === ItemType.Space);
    return token;
  }

  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  errorf(msg: string): never {
    this.root = null;
    const line = this.token[0]?.line ?? 1;
    throw new ParseAbort(new ParseError(`template: ${this.parseName}:${line}: ${msg}`));
  }

  private expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.type !== expected) this.unexpected(token, context);
    return token;
  }

  private expectOneOf(e1: ItemType, e2: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.type !== e1 && token.type !== e2) this.unexpected(token, context);
    return token;
  }

  private unexpected(token: Item, context: string): never {
    if (token.type === ItemType.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  private startParse(hasFn: HasFunction, lex: Lexer, treeSet: Map<string, Tree>): void {
    this.root = null;
    this.lex = lex;
    this.vars = ['$'];
    this.hasFn = hasFn;
    this.treeSet = treeSet;
    this.parenDepth = 0;
    lex.options = {
      emitComment: (this.mode & Mode.ParseComments) !== 0,
      breakOK: !hasFn('break'),
      continueOK: !hasFn('continue'),
    };
  }

  private stopParse(): void {
    this.lex = null;
    this.vars = [];
    this.hasFn = () => false;
  }

  private add(): void {
    const tree = this.treeSet.get(this.name);
    if (tree === undefined || isEmptyTree(tree.root)) {
      this.treeSet.set(this.name, this);
      return;
    }
    if (!isEmptyTree(this.root)) {
      this.errorf(`template: multiple definition of template ${goQuote(this.name)}`);
    }
  }

  private parseTop(): void {
    this.root = new ListNode(this, this.peek().pos);
    while (this.peek().type !== ItemType.EOF) {
      if (this.peek().type === ItemType.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().type === ItemType.Define) {
          const newT = new Tree('definition');
          newT.text = this.text;
          newT.mode = this.mode;
          newT.parseName = this.parseName;
          newT.startParse(this.hasFn, this.lex!, this.treeSet);
          newT.parseDefinition(this);
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === NodeType.End || n.type === NodeType.Else) this.errorf(`unexpected ${n.toString()}`);
      this.root.nodes.push(n);
    }
  }

  /** Parses `{{define "name"}} ... {{end}}`; shares the parent's token state. */
  private parseDefinition(parent: Tree): void {
    // Share lookahead state with the parent parser.
    this.token = parent.token;
    this.peekCount = parent.peekCount;
    try {
      const context = 'define clause';
      const name = this.expectOneOf(ItemType.String, ItemType.RawString, context);
      this.name = this.unquoteOrError(name.val);
      this.expect(ItemType.RightDelim, context);
      const [list, end] = this.itemList();
      this.root = list;
      if (end.type !== NodeType.End) this.errorf(`unexpected ${end.toString()} in ${context}`);
      this.add();
    } finally {
      parent.token = this.token;
      parent.peekCount = this.peekCount;
    }
    this.stopParse();
  }

  private itemList(): [ListNode, Node] {
    const list = new ListNode(this, this.peekNonSpace().pos);
    while (this.peekNonSpace().type !== ItemType.EOF) {
      const n = this.textOrAction();
      if (n.type === NodeType.End || n.type === NodeType.Else) return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.type) {
      case ItemType.Text:
        return new TextNode(this, token.pos, token.val);
      case ItemType.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case ItemType.Comment:
        return new CommentNode(this, token.pos, token.val);
    }
    this.unexpected(token, 'input');
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.type) {
      case ItemType.Block:
        return this.blockControl();
      case ItemType.Break:
        return this.breakControl(token.pos, token.line);
      case ItemType.Continue:
        return this.continueControl(token.pos, token.line);
      case ItemType.Else:
        return this.elseControl();
      case ItemType.End:
        return this.endControl();
      case ItemType.If:
        return this.ifControl();
      case ItemType.Range:
        return this.rangeControl();
      case ItemType.Template:
        return this.templateControl();
      case ItemType.With:
        return this.withControl();
    }
    this.backup();
    const t = this.peek();
    // Do not pop variables; they persist until "end".
    return new ActionNode(this, t.pos, t.line, this.pipeline('command', ItemType.RightDelim));
  }

  private breakControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.type !== ItemType.RightDelim) this.unexpected(token, '{{break}}');
    if (this.rangeDepth === 0) this.errorf('{{break}} outside {{range}}');
    return new BreakNode(this, pos, line);
  }

  private continueControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.type !== ItemType.RightDelim) this.unexpected(token, '{{continue}}');
    if (this.rangeDepth === 0) this.errorf('{{continue}} outside {{range}}');
    return new ContinueNode(this, pos, line);
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace();
    const pipe = new PipeNode(this, token.pos, token.line);
    // Are there declarations or assignments?
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== ItemType.Variable) break;
      this.next();
      // Space is a token, so "$x foo" needs 3-token lookahead.
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.type === ItemType.Assign || next.type === ItemType.Declare) {
        pipe.isAssign = next.type === ItemType.Assign;
        this.nextNonSpace();
        pipe.decl.push(new VariableNode(this, v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.type === ItemType.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(new VariableNode(this, v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().type;
          if (p === ItemType.Variable || p === ItemType.RightDelim || p === ItemType.RightParen) {
            continue decls; // second initialized variable in a range pipeline
          }
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.type === ItemType.Space) {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      switch (token.type) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case ItemType.Bool:
        case ItemType.CharConstant:
        case ItemType.Complex:
        case ItemType.Dot:
        case ItemType.Field:
        case ItemType.Identifier:
        case ItemType.Number:
        case ItemType.Nil:
        case ItemType.RawString:
        case ItemType.String:
        case ItemType.Variable:
        case ItemType.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          if (pipe.cmds.length > MAX_PIPELINE_CMDS) this.errorf('pipeline too long');
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      switch (pipe.cmds[i].args[0].type) {
        case NodeType.Bool:
        case NodeType.Dot:
        case NodeType.Nil:
        case NodeType.Number:
        case NodeType.String:
          this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private parseControl(context: string): {
    pos: number;
    line: number;
    pipe: PipeNode;
    list: ListNode;
    elseList: ListNode | null;
  } {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, ItemType.RightDelim);
      if (context === 'range') this.rangeDepth++;
      let list: ListNode;
      let next: Node;
      try {
        [list, next] = this.itemList();
      } finally {
        if (context === 'range') this.rangeDepth--;
      }
      let elseList: ListNode | null = null;
      if (next.type === NodeType.Else) {
        // "else if" and "else with" are treated as else{{if ...}}...{{end}}{{end}}.
        if (context === 'if' && this.peek().type === ItemType.If) {
          this.next();
          elseList = new ListNode(this, next.pos);
          elseList.nodes.push(this.ifControl());
        } else if (context === 'with' && this.peek().type === ItemType.With) {
          this.next();
          elseList = new ListNode(this, next.pos);
          elseList.nodes.push(this.withControl());
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== NodeType.End) this.errorf(`expected end; found ${next.toString()}`);
        }
      }
      return { pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private ifControl(): Node {
    const c = this.parseControl('if');
    return new IfNode(this, c.pos, c.line, c.pipe, c.list, c.elseList);
  }

  private rangeControl(): Node {
    const c = this.parseControl('range');
    return new RangeNode(this, c.pos, c.line, c.pipe, c.list, c.elseList);
  }

  private withControl(): Node {
    const c = this.parseControl('with');
    return new WithNode(this, c.pos, c.line, c.pipe, c.list, c.elseList);
  }

  private endControl(): Node {
    return new EndNode(this, this.expect(ItemType.RightDelim, 'end').pos);
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    // "{{else if" and "{{else with" leave the keyword pending.
    if (peek.type === ItemType.If || peek.type === ItemType.With) return new ElseNode(this, peek.pos, peek.line);
    const token = this.expect(ItemType.RightDelim, 'else');
    return new ElseNode(this, token.pos, token.line);
  }

  private blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, ItemType.RightDelim);
    const block = new Tree(name);
    block.text = this.text;
    block.mode = this.mode;
    block.parseName = this.parseName;
    block.startParse(this.hasFn, this.lex!, this.treeSet);
    block.token = this.token;
    block.peekCount = this.peekCount;
    try {
      const [list, end] = block.itemList();
      block.root = list;
      if (end.type !== NodeType.End) this.errorf(`unexpected ${end.toString()} in ${context}`);
      block.add();
    } finally {
      this.token = block.token;
      this.peekCount = block.peekCount;
    }
    block.stopParse();
    return new TemplateNode(this, token.pos, token.line, name, pipe);
  }

  private templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== ItemType.RightDelim) {
      this.backup();
      // Do not pop variables; they persist until "end".
      pipe = this.pipeline(context, ItemType.RightDelim);
    }
    return new TemplateNode(this, token.pos, token.line, name, pipe);
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.type === ItemType.String || token.type === ItemType.RawString) return this.unquoteOrError(token.val);
    this.unexpected(token, context);
  }

  private unquoteOrError(s: string): string {
    try {
      return unquote(s);
    } catch (e) {
      if (e instanceof StrconvSyntaxError) this.errorf(e.message);
      throw e;
    }
  }

  private command(): CommandNode {
    const cmd = new CommandNode(this, this.peekNonSpace().pos);
    for (;;) {
      this.peekNonSpace(); // skip leading spaces.
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.type === ItemType.Space) continue;
      if (token.type === ItemType.RightDelim || token.type === ItemType.RightParen) {
        this.backup();
      } else if (token.type !== ItemType.Pipe) {
        this.unexpected(token, 'operand');
      }
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Node | null {
    let node = this.term();
    if (node === null) return null;
    if (this.peek().type === ItemType.Field) {
      const chain = new ChainNode(this, this.peek().pos, node);
      while (this.peek().type === ItemType.Field) chain.add(this.next().val);
      // Compatibility with Go's API: fields and variables absorb the chain.
      switch (node.type) {
        case NodeType.Field:
          node = new FieldNode(this, chain.pos, chain.toString());
          break;
        case NodeType.Variable:
          node = new VariableNode(this, chain.pos, chain.toString());
          break;
        case NodeType.Bool:
        case NodeType.String:
        case NodeType.Number:
        case NodeType.Nil:
        case NodeType.Dot:
          this.errorf(`unexpected . after term ${goQuote(node.toString())}`);
        default:
          node = chain;
      }
    }
    return node;
  }

  private term(): Node | null {
    const token = this.nextNonSpace();
    switch (token.type) {
      case ItemType.Identifier: {
        const checkFunc = (this.mode & Mode.SkipFuncCheck) === 0;
        if (checkFunc && !this.hasFn(token.val)) this.errorf(`function ${goQuote(token.val)} not defined`);
        return new IdentifierNode(this, token.pos, token.val);
      }
      case ItemType.Dot:
        return new DotNode(this, token.pos);
      case ItemType.Nil:
        return new NilNode(this, token.pos);
      case ItemType.Variable:
        return this.useVar(token.pos, token.val);
      case ItemType.Field:
        return new FieldNode(this, token.pos, token.val);
      case ItemType.Bool:
        return new BoolNode(this, token.pos, token.val === 'true');
      case ItemType.CharConstant:
      case ItemType.Complex:
      case ItemType.Number:
        return this.newNumber(token.pos, token.val, token.type);
      case ItemType.LeftParen: {
        if (this.parenDepth >= MAX_PAREN_DEPTH) this.errorf('max expression depth exceeded');
        this.parenDepth++;
        try {
          return this.pipeline('parenthesized pipeline', ItemType.RightParen);
        } finally {
          this.parenDepth--;
        }
      }
      case ItemType.String:
      case ItemType.RawString:
        return new StringNode(this, token.pos, token.val, this.unquoteOrError(token.val));
    }
    this.backup();
    return null;
  }

  private useVar(pos: number, name: string): Node {
    const v = new VariableNode(this, pos, name);
    if (this.vars.includes(v.ident[0])) return v;
    this.errorf(`undefined variable ${goQuote(v.ident[0])}`);
  }

  /** Go's newNumber: computes every interpretation of a numeric literal. */
  private newNumber(pos: number, text: string, typ: ItemType): NumberNode {
    const n = new NumberNode(this, pos, text);
    if (typ === ItemType.CharConstant) {
      let r: { value: number; tail: string };
      try {
        r = unquoteChar(text.slice(1), text.charCodeAt(0));
      } catch (e) {
        if (e instanceof StrconvSyntaxError) this.errorf(e.message);
        throw e;
      }
      if (r.tail !== "'") this.errorf(`malformed character constant: ${text}`);
      n.int64 = BigInt(r.value);
      n.isInt = true;
      n.uint64 = BigInt(r.value);
      n.isUint = true;
      n.float64 = r.value;
      n.isFloat = true;
      return n;
    }
    if (typ === ItemType.Complex) {
      const c = scanComplex(text);
      if (typeof c === 'string') this.errorf(c);
      n.isComplex = true;
      n.complexRe = c.re;
      n.complexIm = c.im;
      simplifyComplex(n);
      return n;
    }
    if (text.length > 0 && text[text.length - 1] === 'i') {
      const f = parseFloat64(text.slice(0, -1));
      if (f !== null) {
        n.isComplex = true;
        n.complexRe = 0;
        n.complexIm = f;
        simplifyComplex(n);
        return n;
      }
    }
    const u = parseUint(text);
    if (u !== null) {
      n.isUint = true;
      n.uint64 = u;
    }
    const i = parseInt64(text);
    if (i !== null) {
      n.isInt = true;
      n.int64 = i;
      if (i === 0n) {
        n.isUint = true; // in case of -0.
        n.uint64 = u ?? 0n;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float64 = Number(n.int64);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float64 = Number(n.uint64);
    } else {
      const f = parseFloat64(text);
      if (f !== null) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${goQuote(text)}`);
        n.isFloat = true;
        n.float64 = f;
        if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
          n.isInt = true;
          n.int64 = BigInt(f);
        }
        if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
          n.isUint = true;
          n.uint64 = BigInt(f);
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${goQuote(text)}`);
    return n;
  }
}

const ERR_COMPLEX = 'syntax error scanning complex number';

/**
 * fmt.Sscan of a complex128 ("1+2i" or "(1+2i)"), as Go's parser uses for
 * complex constants; returns the parts or Go's error text.
 */
function scanComplex(text: string): { re: number; im: number } | string {
  let i = 0;
  let buf = '';
  const accept = (set: string): boolean => {
    if (i < text.length && set.includes(text[i])) {
      buf += text[i++];
      return true;
    }
    return false;
  };
  const floatToken = (): string => {
    buf = '';
    if (accept('nN') && accept('aA') && accept('nN')) return buf;
    accept('+-');
    if (accept('iI') && accept('nN') && accept('fF')) return buf;
    let digits = '0123456789_';
    let exp = 'eEpP';
    if (accept('0') && accept('xX')) {
      digits = '0123456789aAbBcCdDeEfF_';
      exp = 'pP';
    }
    while (accept(digits));
    if (accept('.')) while (accept(digits));
    if (accept(exp)) {
      accept('+-');
      while (accept('0123456789_'));
    }
    return buf;
  };
  const convert = (str: string): number | string => {
    const bad = (num: string, why: 'syntax' | 'range') =>
      `strconv.ParseFloat: parsing ${goQuote(num)}: ${why === 'syntax' ? 'invalid syntax' : 'value out of range'}`;
    const p = str.indexOf('p');
    if (p >= 0 && !/[xX]/.test(str)) {
      const f = parseFloat64Err(str.slice(0, p));
      if (typeof f === 'string') return bad(str, f);
      const m = /^[+-]?[0-9]+$/.test(str.slice(p + 1)) ? Number(str.slice(p + 1)) : NaN;
      if (Number.isNaN(m)) return `strconv.Atoi: parsing ${goQuote(str)}: invalid syntax`;
      return f * Math.pow(2, m);
    }
    const f = parseFloat64Err(str);
    return typeof f === 'string' ? bad(str, f) : f;
  };
  const parens = accept('(');
  const real = floatToken();
  buf = '';
  if (!accept('+-')) return ERR_COMPLEX;
  const imagSign = buf;
  const imag = floatToken();
  if (!accept('i')) return ERR_COMPLEX;
  if (parens && !accept(')')) return ERR_COMPLEX;
  const re = convert(real);
  if (typeof re === 'string') return re;
  const im = convert(imagSign + imag);
  if (typeof im === 'string') return im;
  return { re, im };
}

function simplifyComplex(n: NumberNode): void {
  n.isFloat = n.complexIm === 0;
  if (n.isFloat) {
    n.float64 = n.complexRe;
    n.isInt = Number.isInteger(n.float64) && Math.abs(n.float64) < 2 ** 63;
    if (n.isInt) n.int64 = BigInt(n.float64);
    n.isUint = Number.isInteger(n.float64) && n.float64 >= 0 && n.float64 < 2 ** 64;
    if (n.isUint) n.uint64 = BigInt(n.float64);
  }
}


/** Reports whether a tree holds nothing but space and comments. */
export function isEmptyTree(n: Node | null): boolean {
  if (n === null) return true;
  switch (n.type) {
    case NodeType.Comment:
      return true;
    case NodeType.List:
      return n.nodes.every(isEmptyTree);
    case NodeType.Text:
      return n.text.trim().length === 0;
    default:
      return false;
  }
}

/**
 * Parses a template text into a set of trees keyed by name; the top-level
 * template is `name`. Throws ParseError.
 */
export function parse(
  name: string,
  text: string,
  leftDelim: string,
  rightDelim: string,
  hasFn: HasFunction,
  mode = 0,
): Map<string, Tree> {
  const treeSet = new Map<string, Tree>();
  const t = new Tree(name);
  t.mode = mode;
  t.text = text;
  t.parse(text, leftDelim, rightDelim, treeSet, hasFn);
  return treeSet;
}
