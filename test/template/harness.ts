/**
 * Loads the conformance cases (test/template/cases/<topic>.json) and their
 * golden results (<topic>.golden.json, produced by Go via gen/main.go), and
 * runs a case through our engine the way gen/main.go runs it through Go.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as losslessParse } from 'lossless-json';
import { ExecError, ParseError, Template, TemplateError, float64, signature, sprint, typed } from '../../src/template/index.js';

export const CASES_DIR = fileURLToPath(new URL('../../../test/template/cases/', import.meta.url));

/** A JSON number kept as its source text until we know how to type it. */
class NumText {
  constructor(readonly text: string) {}
}

export interface Case {
  name: string;
  tmpl: string;
  data?: unknown;
  tplName?: string;
  missingkey?: string;
  delims?: [string, string];
  defs?: Record<string, string>;
  reparse?: string[];
  exec?: string;
  mode?: 'tree';
  floats?: boolean;
  funcs?: boolean;
  fixture?: 'structs';
  minGo?: string;
  expect?: Result;
}

export interface Result {
  out: string;
  err?: string;
  phase?: 'parse' | 'exec' | 'panic';
}

export interface Golden {
  go: string;
  results: Record<string, Result>;
}

export interface Topic {
  topic: string;
  cases: Case[];
  golden: Golden | null;
}

const INT64_MAX = (1n << 63n) - 1n;

/** Types JSON numbers the way gen/main.go does: integral text → int, else float64. */
export function typeNumbers(v: unknown, floats: boolean): unknown {
  if (v instanceof NumText) {
    const s = v.text;
    if (floats || /[.eE]/.test(s)) return float64(Number(s));
    const n = BigInt(s);
    if (n >= -(1n << 63n) && n <= INT64_MAX) return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    if (n >= 0n && n < 1n << 64n) return n;
    return float64(Number(s));
  }
  if (Array.isArray(v)) return v.map((e) => typeNumbers(e, floats));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[k] = typeNumbers(e, floats);
    return out;
  }
  return v;
}

function untypeNumbers(v: unknown): unknown {
  if (v instanceof NumText) return Number(v.text);
  if (Array.isArray(v)) return v.map(untypeNumbers);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[k] = untypeNumbers(e);
    return out;
  }
  return v;
}

/** Parses a case file, keeping data numbers as text until a case types them. */
export function parseCases(text: string): Case[] {
  const raw = losslessParse(text, undefined, (t: string) => new NumText(t)) as unknown[];
  return raw.map((c) => {
    const rec = c as Record<string, unknown>;
    const data = rec.data;
    const plain = untypeNumbers({ ...rec, data: undefined }) as Case;
    plain.data = data;
    return plain;
  });
}

export function loadTopics(dir = CASES_DIR): Topic[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
    .sort();
  return files.map((f) => {
    const topic = f.slice(0, -'.json'.length);
    const cases = parseCases(readFileSync(join(dir, f), 'utf8'));
    let golden: Golden | null = null;
    try {
      golden = JSON.parse(readFileSync(join(dir, topic + '.golden.json'), 'utf8')) as Golden;
    } catch {
      golden = null;
    }
    return { topic, cases, golden };
  });
}

/** The test functions gen/main.go installs for cases with "funcs": true. */
export const TEST_FUNCS = {
  echo: (...args: unknown[]) => (args.length === 0 ? null : args[0]),
  fail: (...args: unknown[]) => {
    throw new Error(sprint(...args));
  },
  list: (...args: unknown[]) => args,
  dict: (...args: unknown[]) => {
    const m: Record<string, unknown> = {};
    for (let i = 0; i + 1 < args.length; i += 2) m[sprint(args[i])] = args[i + 1];
    return m;
  },
  nilf: () => null,
  panicf: (...args: unknown[]) => {
    throw new Error(sprint(...args));
  },
  joiner:
    (...args: unknown[]) =>
    (...xs: unknown[]) =>
      sprint(...args, ...xs),
  count: (...args: unknown[]) => args.length,
  upper: signature((s: string) => s.toUpperCase(), ['string']),
  inc: signature((i: number) => i + 1, ['int']),
  half: signature((f: number) => f / 2, ['float64'], { result: 'float64' }),
  neg: signature((b: boolean) => !b, ['bool']),
  join2: signature((sep: string, ...xs: string[]) => xs.join(sep), ['string', 'string'], { variadic: true }),
  addf: signature((a: number, b: number) => a + b, ['int', 'float64'], { result: 'float64' }),
  pair: signature((a: unknown, b: unknown) => [a, b], ['any', 'any']),
  typedfn: () => signature((s: string, n: number) => s.repeat(n), ['string', 'int']),
  typedvar: () => signature((sep: string, ...xs: unknown[]) => sprint(sep, xs), ['string', 'any'], { variadic: true }),
  mayfail: signature(
    (s: string) => {
      if (s === 'bad') throw new Error('bad input');
      return s + '!';
    },
    ['string'],
  ),
};

/** The struct fixture, mirroring gen/main.go's Service and Named. */
class Service {
  static goType = '*main.Service';
  constructor(
    public Name: string,
    public Port: number,
    public Tags: string[],
    public Meta: Record<string, string>,
    public Weight: unknown,
    public Healthy: boolean,
    public Next: Service | null,
  ) {}
  Addr(host: string): string {
    return `${host}:${this.Port}`;
  }
  HasTag(t: string): boolean {
    return this.Tags.includes(t);
  }
  Fail(): string {
    throw new Error('service failure');
  }
  Upper(): string {
    return this.Name.toUpperCase();
  }
}

class Named {
  static goType = 'main.Named';
  constructor(public N: string) {}
  String(): string {
    return `Named(${this.N})`;
  }
}

export function structFixture(): unknown {
  const strs = (a: string[]) => typed(a, '[]string', '');
  const meta = (m: Record<string, string>) => typed(m, 'map[string]string', '');
  const web = new Service('web', 80, strs(['a', 'b']), meta({ k: 'v' }), 1.5, true, null);
  const db = new Service('db', 5432, strs([]), meta({}), float64(2), false, web);
  return { svc: web, db, svcs: typed([web, db], '[]*main.Service'), named: new Named('x') };
}

/** Runs a case through our engine, mirroring gen/main.go's run(). */
export function runCase(c: Case): Result {
  const res: Result = { out: '' };
  let phase: 'parse' | 'exec' | 'panic' = 'panic';
  try {
    const t = new Template(c.tplName ?? 'tpl');
    if (c.funcs) t.funcs(TEST_FUNCS);
    if (c.missingkey) t.option('missingkey=' + c.missingkey);
    if (c.delims) t.delims(c.delims[0], c.delims[1]);
    phase = 'parse';
    t.parse(c.tmpl);
    for (const text of c.reparse ?? []) t.parse(text);
    for (const n of Object.keys(c.defs ?? {}).sort()) t.new(n).parse(c.defs![n]);
    if (c.mode === 'tree') {
      res.out = t.tree?.root ? t.tree.root.toString() : '<nil>';
      return res;
    }
    phase = 'exec';
    const data = c.fixture === 'structs' ? structFixture() : typeNumbers(c.data ?? null, c.floats ?? false);
    res.out = c.exec !== undefined ? t.executeTemplate(c.exec, data) : t.execute(data);
  } catch (e) {
    if (e instanceof ExecError) {
      res.out = e.partialOutput;
      res.err = e.message;
      res.phase = 'exec';
    } else if (e instanceof ParseError) {
      res.err = e.message;
      res.phase = 'parse';
    } else if (e instanceof TemplateError) {
      res.err = e.message;
      res.phase = phase === 'exec' ? 'exec' : 'panic';
    } else {
      throw e;
    }
  }
  return res;
}
