/**
 * A random-template grammar for fuzzing (fuzz.test.ts) and for differential
 * fuzzing against Go (difffuzz.ts). Seeded and deterministic.
 */

import { mulberry32 } from '../../src/lib/prng.js';

/** A tiny seeded PRNG. */
export const rng = mulberry32;

const ATOMS = [
  '.', '.a', '.b.c', '.l', '.m.x', '$', '$x', '$.a', 'nil', 'true', 'false', '1', '-2', '3.5', '1e3', '0x1F', "'c'", '1i',
  '"s"', '`r`', '"%d"', '"%v %s"', 'len .l', 'index .l 0', 'index .m "x"', 'slice .l 1', 'print', 'printf "%d"', 'println 1',
  'eq 1 1', 'ne .a 2', 'lt 1 2', 'ge "a" "b"', 'and .a .b', 'or .z 1', 'not .a', 'html "<"', 'js "\'"', 'urlquery "a b"',
  'call .f', 'echo 1', 'list 1 2', 'dict "k" 1', 'fail "x"', 'count', '(1)', '(print 1 2)', '(.m).x', '.a 1',
  '.svc.Name', '.svc.Addr "h"', '.svc.HasTag "a"', '.svcs', '.named', '.svc.Meta.k', '.svc.Tags', '.db.Next.Port', '.svc.Fail',
  'upper "x"', 'inc 1', 'half .a', 'join2 "," "a"', 'mayfail "bad"', 'upper .b', 'inc .a',
];
const CONTROL_OPEN = ['if', 'with', 'range', 'range $i, $e :=', 'with $x :=', 'if $y :='];
const JUNK = ['{{', '}}', '{{-', '-}}', '(', ')', '|', ':=', '=', ',', '"', '`', "'", '/*', '*/', '$', '.', '#', '\n', ' ', 'é', '\u0000'];

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

const VERBS = 'vdsqxXobeEfFgGtcUTp%!z'.split('');
const FLAGS = ['', '', '', '-', '+', '#', ' ', '0', '-0', '+#', '# '];
const PRINTF_ARGS = [
  '1', '-7', '0', '255', '3.5', '-0.0', '1e6', '1e-7', '2.0', '"s"', '"héllo"', '""', 'true', 'nil', "'x'", '1i',
  '.a', '.b', '.l', '.m', '.missing', '0x7fffffffffffffff', '.m.x', '(list 1 "a")', '(dict "k" 2)', '$',
];

/** A random printf call: flags, width, precision, `*`, `%[n]`, verbs and arguments. */
export function printfAtom(r: () => number): string {
  let f = '';
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    f += pick(r, ['', 'x', '|', ' ']) + '%' + pick(r, FLAGS);
    if (r() < 0.1) f += `[${1 + Math.floor(r() * 3)}]`;
    if (r() < 0.3) f += r() < 0.2 ? '*' : String(Math.floor(r() * 12));
    if (r() < 0.3) f += '.' + (r() < 0.2 ? '*' : String(Math.floor(r() * 8)));
    f += pick(r, VERBS);
  }
  let call = `printf "${f}"`;
  const nargs = Math.floor(r() * 4);
  for (let i = 0; i < nargs; i++) call += ' ' + pick(r, PRINTF_ARGS);
  return call;
}

function pipeline(r: () => number, depth: number): string {
  if (r() < 0.15) return printfAtom(r);
  let p = pick(r, ATOMS);
  if (depth < 3 && r() < 0.3) p = `${pick(r, ['print', 'len', 'not', 'printf "%v"'])} (${pipeline(r, depth + 1)})`;
  if (r() < 0.2) p += ' | ' + pick(r, ['print', 'len', 'printf "%v"', 'html', 'urlquery']);
  if (r() < 0.1) p = '$x := ' + p;
  if (r() < 0.05) p = '$x = ' + p;
  return p;
}

export function body(r: () => number, depth: number): string {
  let s = '';
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.3) s += pick(r, ['text ', '\n', ' ', 'x']);
    else if (k < 0.6) s += `{{${r() < 0.1 ? '- ' : ''}${pipeline(r, 0)}${r() < 0.1 ? ' -' : ''}}}`;
    else if (k < 0.8 && depth < 4) {
      const kw = pick(r, CONTROL_OPEN);
      s += `{{${kw} ${pipeline(r, 0)}}}${body(r, depth + 1)}`;
      if (r() < 0.3) s += `{{else}}${body(r, depth + 1)}`;
      if (kw.startsWith('range') && r() < 0.3) s += pick(r, ['{{break}}', '{{continue}}']);
      s += '{{end}}';
    } else if (k < 0.85) s += `{{template "t" ${pick(r, ATOMS)}}}`;
    else if (k < 0.9) s += '{{/* c */}}';
    else if (k < 0.93) s += `{{block "b" .}}${body(r, depth + 1)}{{end}}`;
    else s += pick(r, JUNK);
  }
  return s;
}

export function mutate(r: () => number, s: string): string {
  const chars = [...s];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    if (op < 0.4 && chars.length > 0) chars.splice(at, 1);
    else if (op < 0.8) chars.splice(at, 0, pick(r, JUNK));
    else chars.splice(at, 0, ...chars.slice(0, Math.floor(r() * chars.length)));
  }
  return chars.join('');
}

