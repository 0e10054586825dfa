import { describe, expect, it } from 'vitest';
import { compileTemplate, type TemplateInput } from '../../../query/template/template.js';

const TS = 1_704_164_645_123_456_789n; // 2024-01-02T03:04:05.123456789Z

function input(labels: Record<string, string>, line = 'the line'): TemplateInput {
  return { line, ts: TS, label: (n) => (Object.prototype.hasOwnProperty.call(labels, n) ? labels[n] : undefined), labels: () => Object.entries(labels) };
}
const exec = (src: string, labels: Record<string, string> = {}, line?: string) => compileTemplate(src).execute(input(labels, line));

describe('template basics', () => {
  it('prints text, fields, __line__ and __timestamp__', () => {
    expect(exec('a={{.a}} b={{ .b }}', { a: '1', b: 'two' })).toBe('a=1 b=two');
    expect(exec('{{ __line__ }}!')).toBe('the line!');
    expect(exec('{{ __timestamp__ }}')).toBe('2024-01-02 03:04:05.123456789 +0000 UTC');
    expect(exec('{{ . }}', { b: '2', a: '1' })).toBe('map[a:1 b:2]');
  });

  it('prints <no value> for missing fields', () => {
    expect(exec('[{{.missing}}]')).toBe('[<no value>]');
    // Functions taking any value see a missing field as nil.
    expect(exec('[{{ .missing | printf "%s" }}]')).toBe('[%!s(<nil>)]');
    expect(exec('[{{ printf "%d" "x" }}]')).toBe('[%!d(string=x)]');
  });

  it('trims whitespace with {{- and -}} and skips comments', () => {
    expect(exec('a  \n {{- .x -}} \n  b', { x: 'X' })).toBe('aXb');
    expect(exec('a {{/* note */}}b')).toBe('a b');
    expect(exec('a {{- /* note */ -}} b')).toBe('ab');
    expect(exec('{{-3}}')).toBe('-3'); // `{{-3` is a number, not a trim marker
  });

  it('passes a pipeline value as the last argument', () => {
    expect(exec('{{ .p | trimPrefix "/api" | ToUpper }}', { p: '/api/users' })).toBe('/USERS');
    expect(exec('{{ .m | replace "o" "0" }}', { m: 'foo boo' })).toBe('f00 b00');
  });

  it('supports string and number literals with Go escapes and raw strings', () => {
    expect(exec('{{ "a\\tb\\u00e9" }}')).toBe('a\tbé');
    expect(exec('{{ `raw\\n` }}')).toBe('raw\\n');
    expect(exec("{{ 42 }} {{ 1.5 }} {{ 0x10 }} {{ 'a' }}")).toBe('42 1.5 16 97');
  });
});

describe('control flow', () => {
  it('if / else if / else / end', () => {
    const t = '{{ if eq .level "error" }}E{{ else if eq .level "warn" }}W{{ else }}-{{ end }}';
    expect(exec(t, { level: 'error' })).toBe('E');
    expect(exec(t, { level: 'warn' })).toBe('W');
    expect(exec(t, { level: 'info' })).toBe('-');
  });

  it('uses Go truth: empty strings and missing values are false', () => {
    expect(exec('{{ if .a }}yes{{ else }}no{{ end }}', { a: '' })).toBe('no');
    expect(exec('{{ if .missing }}yes{{ else }}no{{ end }}')).toBe('no');
    expect(exec('{{ if .a }}yes{{ end }}', { a: 'x' })).toBe('yes');
  });

  it('and / or return the deciding operand and short-circuit', () => {
    expect(exec('{{ or .a .b "d" }}', { a: '', b: 'B' })).toBe('B');
    expect(exec('{{ and .a .b }}', { a: 'A', b: 'B' })).toBe('B');
    expect(exec('{{ and .a .b }}', { a: '', b: 'B' })).toBe('');
    // The failing call on the right is never made.
    expect(exec('{{ or "x" (div 1 0) }}')).toBe('x');
    expect(exec('{{ not .a }}', { a: '' })).toBe('true');
  });
});

describe('functions', () => {
  it('string functions', () => {
    const l = { s: '  Hello World  ', p: 'prefix-body-suffix' };
    expect(exec('{{ .s | ToLower }}|{{ .s | ToUpper }}|{{ .s | trim }}', l)).toBe('  hello world  |  HELLO WORLD  |Hello World');
    expect(exec('{{ .p | trimPrefix "prefix-" | trimSuffix "-suffix" }}', l)).toBe('body');
    expect(exec('{{ TrimPrefix .p "prefix-" }}', l)).toBe('body-suffix');
    expect(exec('{{ contains "body" .p }} {{ hasPrefix "pre" .p }} {{ hasSuffix "y" .p }}', l)).toBe('true true false');
    expect(exec('{{ len .p }} {{ len "é" }}', l)).toBe('18 2');
    expect(exec('{{ .a | default "none" }} {{ .missing | default "none" }}', { a: '' })).toBe('none none');
    expect(exec('{{ .a | default "none" }}', { a: 'set' })).toBe('set');
    expect(exec('{{ printf "%s=%d %.2f %5s|%-4s| %q %v %x" "k" 42 3.14159 "r" "l" "q" true 255 }}')).toBe('k=42 3.14     r|l   | "q" true ff');
  });

  it('regexReplaceAll expands groups; the Literal variant does not', () => {
    expect(exec('{{ regexReplaceAll "(\\\\w+)@(\\\\w+)" .m "${2}:$1" }}', { m: 'bob@host and al@box' })).toBe('host:bob and box:al');
    expect(exec('{{ regexReplaceAll "(?P<user>\\\\w+)@" .m "<$user>" }}', { m: 'bob@host' })).toBe('<bob>host');
    expect(exec('{{ regexReplaceAllLiteral "o+" .m "$1" }}', { m: 'foo boo' })).toBe('f$1 b$1');
  });

  it('arithmetic: integer functions truncate, f variants are floats', () => {
    expect(exec('{{ add 1 2 .n }} {{ sub .n 10 }} {{ mul 3 4 }} {{ div 7 2 }} {{ mod 7 3 }}', { n: '5' })).toBe('8 -5 12 3 1');
    expect(exec('{{ addf 1.5 .n }} {{ subf 1 0.25 }} {{ mulf 2 1.5 }} {{ divf 7 2 }}', { n: '2' })).toBe('3.5 0.75 3 3.5');
    expect(exec('{{ mulf 1000 1000 }}')).toBe('1e+06'); // Go's %v float formatting
    expect(exec('{{ add .junk 1 }}', { junk: 'abc' })).toBe('1'); // sprig treats non-numbers as 0
  });

  it('comparisons', () => {
    expect(exec('{{ eq .a "x" }} {{ ne .a "x" }} {{ eq .a "y" "x" }}', { a: 'x' })).toBe('true false true');
    expect(exec('{{ lt 1 2 }} {{ ge 2 2 }} {{ gt "b" "a" }} {{ le 3 2 }}')).toBe('true true true false');
    expect(exec('{{ if gt (int .status) 399 }}bad{{ end }}', { status: '404' })).toBe('bad');
  });

  it('time functions', () => {
    expect(exec('{{ __timestamp__ | date "2006-01-02T15:04:05.000Z07:00" }}')).toBe('2024-01-02T03:04:05.123Z');
    expect(exec('{{ date "Jan _2 3:04PM" __timestamp__ }}')).toBe('Jan  2 3:04AM');
    expect(exec('{{ __timestamp__ | unixEpochMillis }} {{ __timestamp__ | unixEpochNanos }}')).toBe('1704164645123 1704164645123456789');
    expect(exec('{{ unixToTime "1704164645" | date "2006-01-02 15:04:05" }}')).toBe('2024-01-02 03:04:05');
  });

  it('unicode survives', () => {
    expect(exec('{{ .m | ToUpper }}', { m: 'héllo ✓ 😀' })).toBe('HÉLLO ✓ 😀');
  });
});

describe('errors', () => {
  it('reports syntax errors at build time with their position', () => {
    expect(() => compileTemplate('ok {{ .a | Nope }}')).toThrow('template: 1:12: function "Nope" not defined');
    expect(() => compileTemplate('{{ .a ')).toThrow(/1:1: unclosed action/);
    expect(() => compileTemplate('x\n{{ end }}')).toThrow(/2:1: unexpected \{\{end\}\}/);
    expect(() => compileTemplate('{{ if .a }}')).toThrow(/without \{\{end\}\}/);
    expect(() => compileTemplate('{{ "abc }}')).toThrow(/unterminated quoted string/);
    expect(() => compileTemplate('{{ ToUpper "a" "b" }}')).toThrow(/wrong number of args for ToUpper: want 1 got 2/);
    expect(() => compileTemplate('{{ .a .b }}')).toThrow(/can't give argument to non-function .a/);
    expect(() => compileTemplate('{{ range .a }}{{ end }}')).toThrow(/range.*not supported/);
    expect(() => compileTemplate('{{ $x := 1 }}')).toThrow(/variables/);
  });

  it('reports runtime errors by throwing, with Go-like messages', () => {
    expect(() => exec('{{ .missing | ToUpper }}')).toThrow('error calling ToUpper: invalid value; expected string');
    expect(() => exec('{{ div 1 0 }}')).toThrow(/integer divide by zero/);
    expect(() => exec('{{ eq .a 1 }}', { a: 'x' })).toThrow(/incompatible types for comparison/);
    expect(() => exec('{{ eq .missing "x" }}')).toThrow(/invalid type for comparison/);
    expect(() => exec('{{ .a.b }}', { a: 'x' })).toThrow(/can't evaluate field b in type string/);
    expect(() => exec('{{ regexReplaceAll "(a" .m "" }}', { m: 'x' })).toThrow(/missing \)/);
  });
});
