/**
 * The public API: a `Template` holds a named parsed tree plus the set of
 * associated templates (`{{define}}`d or added with `new`), their functions,
 * delimiters and options, as Go's text/template.Template does.
 *
 * @example
 * ```ts
 * const t = new Template('hello').parse('Hello, {{.name}}!');
 * t.execute({ name: 'world' }); // "Hello, world!"
 * ```
 */
import { TemplateError } from './errors.js';
import { execute, type ExecTemplate, MissingKey } from './exec.js';
import { BUILTINS, type FuncMap, type TemplateFunc } from './funcs.js';
import { isEmptyTree, Tree } from './parse/parse.js';
import { quote } from './strconv.js';

/** State shared by a template and its associates (Go's `common`). */
interface Common {
  tmpl: Map<string, Template>;
  funcs: Map<string, TemplateFunc>;
  missingKey: MissingKey;
}

const NAME_RE = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;

export class Template implements ExecTemplate {
  readonly #name: string;
  #tree: Tree | null = null;
  #common: Common;
  #leftDelim = '';
  #rightDelim = '';

  /** Allocates a new, undefined template with the given name. */
  constructor(name: string, common?: Common) {
    this.#name = name;
    this.#common = common ?? { tmpl: new Map(), funcs: new Map(), missingKey: MissingKey.Invalid };
  }

  get name(): string {
    return this.#name;
  }

  /** The parse tree, or null before a successful parse. */
  get tree(): Tree | null {
    return this.#tree;
  }

  get missingKey(): MissingKey {
    return this.#common.missingKey;
  }

  /**
   * Returns a new template associated with this one (same funcs, options and
   * template set), with the same delimiters.
   */
  new(name: string): Template {
    const nt = new Template(name, this.#common);
    nt.#leftDelim = this.#leftDelim;
    nt.#rightDelim = this.#rightDelim;
    return nt;
  }

  /**
   * Adds functions to the template's function map. A function is a plain JS
   * function; it receives Go-model values and may throw to report an error.
   * Must be called before parse(). Throws if a name is not an identifier.
   */
  funcs(map: FuncMap): this {
    for (const [name, fn] of Object.entries(map)) {
      if (!NAME_RE.test(name)) throw new TemplateError(`function name ${quote(name)} is not a valid identifier`);
      if (typeof fn !== 'function') throw new TemplateError(`value for ${name} not a function`);
      this.#common.funcs.set(name, fn);
    }
    return this;
  }

  /**
   * Sets options: `missingkey=default` (or `invalid`), `missingkey=zero`,
   * `missingkey=error`. Throws on an unknown option, as Go panics.
   */
  option(...opts: string[]): this {
    for (const opt of opts) {
      if (opt === '') throw new TemplateError('empty option string');
      const eq = opt.indexOf('=');
      if (eq >= 0 && opt.slice(0, eq) === 'missingkey') {
        switch (opt.slice(eq + 1)) {
          case 'invalid':
          case 'default':
            this.#common.missingKey = MissingKey.Invalid;
            continue;
          case 'zero':
            this.#common.missingKey = MissingKey.Zero;
            continue;
          case 'error':
            this.#common.missingKey = MissingKey.Error;
            continue;
        }
      }
      throw new TemplateError(`unrecognized option: ${opt}`);
    }
    return this;
  }

  /** Sets the action delimiters; an empty string means the default `{{` / `}}`. */
  delims(left: string, right: string): this {
    this.#leftDelim = left;
    this.#rightDelim = right;
    return this;
  }

  /**
   * Parses text as the body of this template; `{{define}}`d templates are
   * added to the set. May be called more than once (later definitions
   * replace earlier ones). Throws ParseError with Go's message.
   */
  parse(text: string): this {
    const funcs = this.#common.funcs;
    const hasFn = (name: string): boolean => funcs.has(name) || BUILTINS.has(name);
    const treeSet = new Map<string, Tree>();
    const t = new Tree(this.#name);
    t.text = text;
    try {
      t.parse(text, this.#leftDelim, this.#rightDelim, treeSet, hasFn);
    } catch (e) {
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        throw new TemplateError(`template: ${this.#name}: nesting too deep`, { cause: e });
      }
      throw e;
    }
    for (const [name, tree] of treeSet) this.addParseTree(name, tree);
    return this;
  }

  /** Associates a parse tree with this template set under `name`. */
  addParseTree(name: string, tree: Tree): Template {
    const existing = this.#common.tmpl.get(name);
    if (existing !== undefined && isEmptyTree(tree.root) && existing.#tree !== null) {
      return existing; // never replace a template with an empty one
    }
    const nt = name === this.#name ? this : (existing ?? this.new(name));
    nt.#tree = tree;
    this.#common.tmpl.set(name, nt);
    return nt;
  }

  /** Returns the associated template with the given name, if any. */
  lookup(name: string): Template | undefined {
    return this.#common.tmpl.get(name);
  }

  /** All templates associated with this one (including itself, once parsed). */
  templates(): Template[] {
    return [...this.#common.tmpl.values()];
  }

  /** Go's DefinedTemplates: `; defined templates are: "a", "b"` or ''. */
  definedTemplates(): string {
    const names = [...this.#common.tmpl.values()].filter((t) => t.#tree?.root).map((t) => quote(t.#name));
    return names.length === 0 ? '' : '; defined templates are: ' + names.join(', ');
  }

  findFunction(name: string): TemplateFunc | undefined {
    return this.#common.funcs.get(name);
  }

  /**
   * Executes the template with `data` as dot and returns the output.
   * Throws ExecError (with `partialOutput`) on failure.
   */
  execute(data?: unknown): string {
    return execute(this, data);
  }

  /** Executes the associated template `name`. */
  executeTemplate(name: string, data?: unknown): string {
    const t = this.lookup(name);
    if (t === undefined) {
      throw new TemplateError(`template: no template ${quote(name)} associated with template ${quote(this.#name)}`);
    }
    return t.execute(data);
  }
}
