/**
 * Lexer item sequences, in the style of Go's lex_test.go tables (our own
 * cases). Each row: input, then the items as "type:value" strings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemType, lexAll } from '../../src/template/index.js';

const NAMES: Record<number, string> = {
  [ItemType.Error]: 'error',
  [ItemType.Bool]: 'bool',
  [ItemType.Char]: 'char',
  [ItemType.CharConstant]: 'charconst',
  [ItemType.Comment]: 'comment',
  [ItemType.Complex]: 'complex',
  [ItemType.Assign]: 'assign',
  [ItemType.Declare]: 'declare',
  [ItemType.EOF]: 'EOF',
  [ItemType.Field]: 'field',
  [ItemType.Identifier]: 'ident',
  [ItemType.LeftDelim]: 'ldelim',
  [ItemType.LeftParen]: '(',
  [ItemType.Number]: 'number',
  [ItemType.Pipe]: 'pipe',
  [ItemType.RawString]: 'raw',
  [ItemType.RightDelim]: 'rdelim',
  [ItemType.RightParen]: ')',
  [ItemType.Space]: 'space',
  [ItemType.String]: 'string',
  [ItemType.Text]: 'text',
  [ItemType.Variable]: 'var',
  [ItemType.Block]: 'block',
  [ItemType.Break]: 'break',
  [ItemType.Continue]: 'continue',
  [ItemType.Dot]: 'dot',
  [ItemType.Define]: 'define',
  [ItemType.Else]: 'else',
  [ItemType.End]: 'end',
  [ItemType.If]: 'if',
  [ItemType.Nil]: 'nil',
  [ItemType.Range]: 'range',
  [ItemType.Template]: 'template',
  [ItemType.With]: 'with',
};

function items(input: string, left = '', right = '', comments = false): string[] {
  return lexAll('t', input, left, right, { emitComment: comments }).map((i) => `${NAMES[i.type]}:${i.val}`);
}

const TABLE: [string, string, string[]][] = [
  ['empty', '', ['EOF:']],
  ['text', 'hello', ['text:hello', 'EOF:']],
  ['field chain', '{{.a.b}}', ['ldelim:{{', 'field:.a', 'field:.b', 'rdelim:}}', 'EOF:']],
  ['dot', '{{.}}', ['ldelim:{{', 'dot:.', 'rdelim:}}', 'EOF:']],
  ['variables', '{{$x := $}}', ['ldelim:{{', 'var:$x', 'space: ', 'declare::=', 'space: ', 'var:$', 'rdelim:}}', 'EOF:']],
  ['assign', '{{$x = 1}}', ['ldelim:{{', 'var:$x', 'space: ', 'assign:=', 'space: ', 'number:1', 'rdelim:}}', 'EOF:']],
  ['keywords', '{{if}}{{else}}{{end}}', ['ldelim:{{', 'if:if', 'rdelim:}}', 'ldelim:{{', 'else:else', 'rdelim:}}', 'ldelim:{{', 'end:end', 'rdelim:}}', 'EOF:']],
  ['numbers', '{{1 -2 0x1F 1e3 1+2i}}', ['ldelim:{{', 'number:1', 'space: ', 'number:-2', 'space: ', 'number:0x1F', 'space: ', 'number:1e3', 'space: ', 'complex:1+2i', 'rdelim:}}', 'EOF:']],
  ['strings', '{{"a\\"b" `r` \'c\'}}', ['ldelim:{{', 'string:"a\\"b"', 'space: ', 'raw:`r`', 'space: ', "charconst:'c'", 'rdelim:}}', 'EOF:']],
  ['pipe and parens', '{{(f .x) | g}}', ['ldelim:{{', '(:(', 'ident:f', 'space: ', 'field:.x', '):)', 'space: ', 'pipe:|', 'space: ', 'ident:g', 'rdelim:}}', 'EOF:']],
  ['trim markers', 'a {{- 1 -}} b', ['text:a', 'ldelim:{{', 'number:1', 'rdelim:}}', 'text:b', 'EOF:']],
  ['minus number is not trim', '{{-1}}', ['ldelim:{{', 'number:-1', 'rdelim:}}', 'EOF:']],
  ['comment dropped', 'a{{/* c */}}b', ['text:a', 'text:b', 'EOF:']],
  ['comment emitted', 'a{{/* c */}}b', ['text:a', 'comment:/* c */', 'text:b', 'EOF:']],
  ['custom delims', '<<.a>>{{.b}}', ['ldelim:<<', 'field:.a', 'rdelim:>>', 'text:{{.b}}', 'EOF:']],
  ['unclosed action', '{{.a', ['ldelim:{{', 'field:.a', 'error:unclosed action']],
  ['bad char', '{{#}}', ['ldelim:{{', 'char:#', 'rdelim:}}', 'EOF:']],
  ['bad field char', '{{.a#}}', ['ldelim:{{', "error:bad character U+0023 '#'"]],
  ['unterminated string', '{{"abc}}', ['ldelim:{{', 'error:unterminated quoted string']],
  ['unclosed paren', '{{(1}}', ['ldelim:{{', '(:(', 'number:1', 'error:unclosed left paren']],
  ['extra right paren', '{{1)}}', ['ldelim:{{', 'number:1', 'error:unexpected right paren']],
  ['unicode identifiers', '{{$é .ü}}', ['ldelim:{{', 'var:$é', 'space: ', 'field:.ü', 'rdelim:}}', 'EOF:']],
  ['astral text', '😀{{1}}😀', ['text:😀', 'ldelim:{{', 'number:1', 'rdelim:}}', 'text:😀', 'EOF:']],
];

for (const [name, input, want] of TABLE) {
  test(`lex: ${name}`, () => {
    assert.deepEqual(items(input, name === 'custom delims' ? '<<' : '', name === 'custom delims' ? '>>' : '', name === 'comment emitted'), want);
  });
}

test('lex: line numbers', () => {
  const its = lexAll('t', 'a\nb{{1\n}}\nc{{2}}');
  assert.deepEqual(
    its.map((i) => [i.val, i.line]),
    [
      ['a\nb', 1],
      ['{{', 2],
      ['1', 2],
      ['\n', 2],
      ['}}', 3],
      ['\nc', 3],
      ['{{', 4],
      ['2', 4],
      ['}}', 4],
      ['', 4],
    ],
  );
});

test('lex: break/continue are identifiers when such functions exist', () => {
  const its = lexAll('t', '{{break}}', '', '', { breakOK: false });
  assert.equal(its[1].type, ItemType.Identifier);
});
