/**
 * Parse-tree nodes, mirroring Go's text/template/parse node types. Every node
 * has `toString()` that prints it back as template source, the way Go's
 * `Node.String()` does (so `tree.root.toString()` round-trips a template).
 */

import { quote } from '../strconv.js';

export const enum NodeType {
  Text,
  Action,
  Bool,
  Chain,
  Command,
  Dot,
  Else,
  End,
  Field,
  Identifier,
  If,
  List,
  Nil,
  Number,
  Pipe,
  Range,
  String,
  Template,
  Variable,
  With,
  Comment,
  Break,
  Continue,
}

/** The tree a node belongs to: what error messages need from it. */
export interface TreeRef {
  name: string;
  parseName: string;
  text: string;
}

abstract class BaseNode {
  abstract readonly type: NodeType;
  constructor(
    readonly tree: TreeRef,
    readonly pos: number,
  ) {}
  abstract toString(): string;
}

export type Node =
  | ListNode
  | TextNode
  | CommentNode
  | ActionNode
  | PipeNode
  | CommandNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | EndNode
  | ElseNode
  | IfNode
  | RangeNode
  | WithNode
  | TemplateNode
  | BreakNode
  | ContinueNode;

export class ListNode extends BaseNode {
  readonly type = NodeType.List;
  readonly nodes: Node[] = [];
  toString(): string {
    let s = '';
    for (const n of this.nodes) s += n.toString();
    return s;
  }
}

export class TextNode extends BaseNode {
  readonly type = NodeType.Text;
  constructor(tree: TreeRef, pos: number, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.text;
  }
}

export class CommentNode extends BaseNode {
  readonly type = NodeType.Comment;
  constructor(tree: TreeRef, pos: number, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return '{{' + this.text + '}}';
  }
}

export class PipeNode extends BaseNode {
  readonly type = NodeType.Pipe;
  isAssign = false;
  readonly decl: VariableNode[] = [];
  readonly cmds: CommandNode[] = [];
  constructor(tree: TreeRef, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    let s = '';
    if (this.decl.length > 0) {
      s = this.decl.map((v) => v.toString()).join(', ');
      s += this.isAssign ? ' = ' : ' := ';
    }
    s += this.cmds.map((c) => c.toString()).join(' | ');
    return s;
  }
}

export class ActionNode extends BaseNode {
  readonly type = NodeType.Action;
  constructor(tree: TreeRef, pos: number, readonly line: number, readonly pipe: PipeNode) {
    super(tree, pos);
  }
  toString(): string {
    return '{{' + this.pipe.toString() + '}}';
  }
}

export class CommandNode extends BaseNode {
  readonly type = NodeType.Command;
  readonly args: Node[] = [];
  toString(): string {
    let s = '';
    for (let i = 0; i < this.args.length; i++) {
      if (i > 0) s += ' ';
      const a = this.args[i];
      s += a.type === NodeType.Pipe ? '(' + a.toString() + ')' : a.toString();
    }
    return s;
  }
}

export class IdentifierNode extends BaseNode {
  readonly type = NodeType.Identifier;
  constructor(tree: TreeRef, pos: number, readonly ident: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.ident;
  }
}

export class VariableNode extends BaseNode {
  readonly type = NodeType.Variable;
  readonly ident: string[];
  constructor(tree: TreeRef, pos: number, ident: string) {
    super(tree, pos);
    this.ident = ident.split('.');
  }
  toString(): string {
    return this.ident.join('.');
  }
}

export class DotNode extends BaseNode {
  readonly type = NodeType.Dot;
  toString(): string {
    return '.';
  }
}

export class NilNode extends BaseNode {
  readonly type = NodeType.Nil;
  toString(): string {
    return 'nil';
  }
}

export class FieldNode extends BaseNode {
  readonly type = NodeType.Field;
  readonly ident: string[];
  constructor(tree: TreeRef, pos: number, ident: string) {
    super(tree, pos);
    this.ident = ident.slice(1).split('.'); // drop leading period
  }
  toString(): string {
    let s = '';
    for (const id of this.ident) s += '.' + id;
    return s;
  }
}

export class ChainNode extends BaseNode {
  readonly type = NodeType.Chain;
  readonly field: string[] = [];
  constructor(tree: TreeRef, pos: number, readonly node: Node) {
    super(tree, pos);
  }
  add(field: string): void {
    if (field.length === 0 || field[0] !== '.') throw new Error('no dot in field');
    field = field.slice(1);
    if (field === '') throw new Error('empty field');
    this.field.push(field);
  }
  toString(): string {
    let s = this.node.type === NodeType.Pipe ? '(' + this.node.toString() + ')' : this.node.toString();
    for (const f of this.field) s += '.' + f;
    return s;
  }
}

export class BoolNode extends BaseNode {
  readonly type = NodeType.Bool;
  constructor(tree: TreeRef, pos: number, readonly value: boolean) {
    super(tree, pos);
  }
  toString(): string {
    return this.value ? 'true' : 'false';
  }
}

/** A numeric constant, with every interpretation Go's parser computes. */
export class NumberNode extends BaseNode {
  readonly type = NodeType.Number;
  isInt = false;
  isUint = false;
  isFloat = false;
  isComplex = false;
  int64 = 0n;
  uint64 = 0n;
  float64 = 0;
  complexRe = 0;
  complexIm = 0;
  /** The executor's cached ideal-constant value. */
  cached: unknown = undefined;
  hasCached = false;
  constructor(tree: TreeRef, pos: number, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.text;
  }
}

export class StringNode extends BaseNode {
  readonly type = NodeType.String;
  constructor(tree: TreeRef, pos: number, readonly quoted: string, readonly text: string) {
    super(tree, pos);
  }
  toString(): string {
    return this.quoted;
  }
}

export class EndNode extends BaseNode {
  readonly type = NodeType.End;
  toString(): string {
    return '{{end}}';
  }
}

export class ElseNode extends BaseNode {
  readonly type = NodeType.Else;
  constructor(tree: TreeRef, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    return '{{else}}';
  }
}

abstract class BranchNode extends BaseNode {
  constructor(
    tree: TreeRef,
    pos: number,
    readonly line: number,
    readonly pipe: PipeNode,
    readonly list: ListNode,
    readonly elseList: ListNode | null,
  ) {
    super(tree, pos);
  }
  protected abstract keyword(): string;
  toString(): string {
    let s = '{{' + this.keyword() + ' ' + this.pipe.toString() + '}}' + this.list.toString();
    if (this.elseList !== null) s += '{{else}}' + this.elseList.toString();
    return s + '{{end}}';
  }
}

export class IfNode extends BranchNode {
  readonly type = NodeType.If;
  protected keyword(): string {
    return 'if';
  }
}

export class RangeNode extends BranchNode {
  readonly type = NodeType.Range;
  protected keyword(): string {
    return 'range';
  }
}

export class WithNode extends BranchNode {
  readonly type = NodeType.With;
  protected keyword(): string {
    return 'with';
  }
}

export class BreakNode extends BaseNode {
  readonly type = NodeType.Break;
  constructor(tree: TreeRef, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    return '{{break}}';
  }
}

export class ContinueNode extends BaseNode {
  readonly type = NodeType.Continue;
  constructor(tree: TreeRef, pos: number, readonly line: number) {
    super(tree, pos);
  }
  toString(): string {
    return '{{continue}}';
  }
}

export class TemplateNode extends BaseNode {
  readonly type = NodeType.Template;
  constructor(
    tree: TreeRef,
    pos: number,
    readonly line: number,
    readonly name: string,
    readonly pipe: PipeNode | null,
  ) {
    super(tree, pos);
  }
  toString(): string {
    // Go prints the name with %q.
    const name = quote(this.name);
    if (this.pipe === null) return `{{template ${name}}}`;
    return `{{template ${name} ${this.pipe.toString()}}}`;
  }
}
