import { describe, expect, it } from 'vitest';
import type { Expr, LabelFilterExpr, LogSelectorExpr, SampleExpr } from '../../query/ast.js';
import { decodeGoEscapes, quoteGoString } from '../../query/parse/go-string.js';
import { formatBytesLiteral, formatDurationLiteral, formatNumberLiteral } from '../../query/parse/units.js';
import { parseExpr } from '../../query/parser.js';
import { printExpr, printLabelFilter, printMatchers } from '../../query/printer.js';

const MIN = 60_000_000_000n;
const sel: LogSelectorExpr = { kind: 'log', matchers: [{ name: 'app', op: '=', value: 'api' }], pipeline: [] };
const rate: SampleExpr = { kind: 'range_agg', op: 'rate', selector: sel, range: MIN };
const lit = (value: number): SampleExpr => ({ kind: 'literal', value });
const bin = (op: '+' | '-' | '*' | '/' | '^' | 'and' | 'or', left: SampleExpr, right: SampleExpr): SampleExpr => ({ kind: 'binary', op, bool: false, left, right });
const s = (name: string, value: string): LabelFilterExpr => ({ kind: 'string', matcher: { name, op: '=', value } });

/** The printed text must parse back to the tree it came from. */
function printsBack(e: Expr): string {
  const text = printExpr(e);
  expect(parseExpr(text), text).toEqual(e);
  return text;
}

describe('printExpr: canonical layout', () => {
  it.each([
    ['{app = "api" ,env=~"p.*"}', '{app="api", env=~"p.*"}'],
    ['{app=`a\\b"c`}', '{app="a\\\\b\\"c"}'],
    ['{app="api"}|="x" or "y"!~`\\d`', '{app="api"} |= "x" or "y" !~ "\\\\d"'],
    ['{app="api"} | json a = "b.c" , d', '{app="api"} | json a="b.c", d'],
    ['{app="api"} | json a="a"', '{app="api"} | json a'],
    ['{app="api"} | logfmt --keep-empty --strict', '{app="api"} | logfmt --strict --keep-empty'],
    ['{app="api"} | status>=400', '{app="api"} | status >= 400'],
    ['{app="api"} | status=400', '{app="api"} | status == 400'],
    ['{app="api"} | a="b", c="d" e="f"', '{app="api"} | a="b" and c="d" and e="f"'],
    ['{app="api"} | a="b" and (c="d" or e="f")', '{app="api"} | a="b" and (c="d" or e="f")'],
    ['{app="api"} | (a="b" and c="d") or e="f"', '{app="api"} | a="b" and c="d" or e="f"'],
    ['{app="api"} | d > 90s', '{app="api"} | d > 1m30s'],
    ['{app="api"} | d > 1.5s', '{app="api"} | d > 1s500ms'],
    ['{app="api"} | d > 3600s', '{app="api"} | d > 1h'],
    ['{app="api"} | size > 20000KB', '{app="api"} | size > 20MB'],
    ['{app="api"} | size > 1.5KiB', '{app="api"} | size > 1536B'],
    ['{app="api"} | size > 2048b', '{app="api"} | size > 2KiB'],
    ['{app="api"} | ip = ip("10.0.0.0/8")', '{app="api"} | ip=ip("10.0.0.0/8")'],
    ['{app="api"} | label_format a = b , c = `{{.d}}`', '{app="api"} | label_format a=b, c="{{.d}}"'],
    ['{app="api"} | drop a,b = "c"', '{app="api"} | drop a, b="c"'],
    ['{app="api"} | line_format `{{.a}}\n`', '{app="api"} | line_format "{{.a}}\\n"'],
    ['count_over_time({app="api"}[300s])', 'count_over_time({app="api"}[5m])'],
    ['count_over_time({app="api"}[24h])', 'count_over_time({app="api"}[1d])'],
    ['count_over_time({app="api"}[168h])', 'count_over_time({app="api"}[1w])'],
    ['count_over_time({app="api"}[5m] |= "x")', 'count_over_time({app="api"} |= "x" [5m])'],
    ['count_over_time(({app="api"} |= "x")[5m] offset 60m)', 'count_over_time({app="api"} |= "x" [5m] offset 1h)'],
    ['sum_over_time({app="api"}[1m] | unwrap bytes(x) | __error__="")', 'sum_over_time({app="api"} | unwrap bytes(x) | __error__="" [1m])'],
    ['sum(rate({app="api"}[1m])) by (a,b)', 'sum by (a, b) (rate({app="api"}[1m]))'],
    ['sum without(a)(rate({app="api"}[1m]))', 'sum without (a) (rate({app="api"}[1m]))'],
    ['topk(5,rate({app="api"}[1m]))', 'topk(5, rate({app="api"}[1m]))'],
    ['topk by(a)(5,rate({app="api"}[1m]))', 'topk by (a) (5, rate({app="api"}[1m]))'],
    ['rate({app="api"}[1m])>bool 1', 'rate({app="api"}[1m]) > bool 1'],
    ['rate({app="api"}[1m])/on(a)group_left(b)rate({app="api"}[1m])', 'rate({app="api"}[1m]) / on (a) group_left (b) rate({app="api"}[1m])'],
    ['rate({app="api"}[1m]) / ignoring(a) group_right() rate({app="api"}[1m])', 'rate({app="api"}[1m]) / ignoring (a) group_right rate({app="api"}[1m])'],
    ['(1 + 2) * 3', '(1 + 2) * 3'],
    ['1 + (2 * 3)', '1 + 2 * 3'],
    ['(1 - 2) - 3', '1 - 2 - 3'],
    ['1 - (2 - 3)', '1 - (2 - 3)'],
    ['(2 ^ 3) ^ 2', '(2 ^ 3) ^ 2'],
    ['2 ^ (3 ^ 2)', '2 ^ 3 ^ 2'],
    ['1e3', '1000'],
    ['0x1p4', '16'],
    ['vector( -1 )', 'vector(-1)'],
    ['label_replace(rate({app="api"}[1m]),"d","$1","s","(.*)")', 'label_replace(rate({app="api"}[1m]), "d", "$1", "s", "(.*)")'],
    ['# comment\nsum(\n  rate({app="api"}[1m]) # more\n)', 'sum(rate({app="api"}[1m]))'],
  ])('%s', (input, expected) => {
    const text = printExpr(parseExpr(input));
    expect(text).toBe(expected);
    expect(parseExpr(text)).toEqual(parseExpr(input));
  });
});

describe('printExpr: trees that need parentheses', () => {
  it('keeps a right-nested and/or structure', () => {
    const expr: LabelFilterExpr = { kind: 'and', left: s('a', '1'), right: { kind: 'and', left: s('b', '2'), right: s('c', '3') } };
    expect(printLabelFilter(expr)).toBe('a="1" and (b="2" and c="3")');
    const or: LabelFilterExpr = { kind: 'or', left: s('a', '1'), right: { kind: 'or', left: s('b', '2'), right: s('c', '3') } };
    expect(printLabelFilter(or)).toBe('a="1" or (b="2" or c="3")');
    printsBack({ ...sel, pipeline: [{ kind: 'label_filter', expr }, { kind: 'label_filter', expr: or }] });
  });

  it('parenthesises an or inside an and on either side', () => {
    const expr: LabelFilterExpr = { kind: 'and', left: { kind: 'or', left: s('a', '1'), right: s('b', '2') }, right: { kind: 'or', left: s('c', '3'), right: s('d', '4') } };
    expect(printLabelFilter(expr)).toBe('(a="1" or b="2") and (c="3" or d="4")');
    printsBack({ ...sel, pipeline: [{ kind: 'label_filter', expr }] });
  });

  it('parenthesises binary operands by precedence and associativity', () => {
    expect(printsBack(bin('*', bin('+', rate, lit(1)), bin('-', rate, lit(2))))).toBe('(rate({app="api"}[1m]) + 1) * (rate({app="api"}[1m]) - 2)');
    expect(printsBack(bin('-', rate, bin('-', rate, rate)))).toBe('rate({app="api"}[1m]) - (rate({app="api"}[1m]) - rate({app="api"}[1m]))');
    expect(printsBack(bin('^', bin('^', lit(2), lit(3)), lit(4)))).toBe('(2 ^ 3) ^ 4');
    expect(printsBack(bin('and', bin('or', rate, rate), rate))).toBe('(rate({app="api"}[1m]) or rate({app="api"}[1m])) and rate({app="api"}[1m])');
    expect(printsBack(bin('or', rate, bin('and', rate, rate)))).toBe('rate({app="api"}[1m]) or rate({app="api"}[1m]) and rate({app="api"}[1m])');
  });

  it('writes group_left () when the right operand starts with a parenthesis', () => {
    const e: Expr = {
      kind: 'binary', op: '*', bool: false, matching: { on: true, labels: ['a'], group: { side: 'left', include: [] } },
      left: rate, right: bin('+', rate, lit(1)),
    };
    expect(printsBack(e)).toBe('rate({app="api"}[1m]) * on (a) group_left () (rate({app="api"}[1m]) + 1)');
  });

  it('prints negative, infinite and NaN literals so they parse back', () => {
    expect(printsBack(bin('-', lit(1), lit(-1)))).toBe('1 - -1');
    expect(printsBack(bin('^', lit(-2), lit(2)))).toBe('-2 ^ 2');
    expect(printsBack(lit(-Infinity))).toBe('-Inf');
    expect(printsBack(lit(Infinity))).toBe('Inf');
    expect(printsBack(lit(NaN))).toBe('NaN');
    expect(printsBack(lit(1e21))).toBe('1e+21');
    expect(printsBack(lit(1.5e-7))).toBe('1.5e-7');
    expect(printExpr(lit(-0))).toBe('-0');
    expect(Object.is((parseExpr('-0') as { value: number }).value, -0)).toBe(true);
  });

  it('prints an empty grouping, distinct from none', () => {
    const e: Expr = { kind: 'vector_agg', op: 'sum', grouping: { without: false, labels: [] }, expr: rate };
    expect(printsBack(e)).toBe('sum by () (rate({app="api"}[1m]))');
  });

  it('prints negative durations and sizes in label filters so they parse back', () => {
    const e: LogSelectorExpr = {
      ...sel,
      pipeline: [
        { kind: 'label_filter', expr: { kind: 'duration', name: 'd', op: '>', value: -90_000_000_000n } },
        { kind: 'label_filter', expr: { kind: 'bytes', name: 'b', op: '<', value: -1000 } },
      ],
    };
    expect(printsBack(e)).toBe('{app="api"} | d > -1m30s | b < -1000B');
  });

  it('prints a range aggregation with every part', () => {
    const e: Expr = {
      kind: 'range_agg', op: 'quantile_over_time', param: 0.95,
      selector: { ...sel, pipeline: [{ kind: 'json', params: [] }] },
      unwrap: { label: 'latency', conversion: 'duration', postFilters: [s('__error__', '')] },
      range: 5n * MIN, offset: 90n * MIN, grouping: { without: true, labels: ['pod'] },
    };
    expect(printsBack(e)).toBe('quantile_over_time(0.95, {app="api"} | json | unwrap duration(latency) | __error__="" [5m] offset 1h30m) without (pod)');
  });
});

describe('printMatchers', () => {
  it('prints a selector with quoted values', () => {
    expect(printMatchers([{ name: 'a', op: '=~', value: 'x"y' }, { name: 'b', op: '!=', value: '' }])).toBe('{a=~"x\\"y", b!=""}');
  });
});

describe('Go string quoting', () => {
  const tricky = [
    '',
    'plain',
    'quote " backslash \\ both \\"',
    'newline\n tab\t cr\r bell\x07 backspace\b ff\f vt\v',
    '\x00\x01\x1f\x7f',
    'é ☃ 😀 中文',
    '\u0085 \u2028 \u2029',
    '{{ .a | printf "%s" }}',
    '`backticks`',
    '$1 ${a}',
  ];

  it.each(tricky)('%j round-trips through quote and decode', (v) => {
    const q = quoteGoString(v);
    expect(q.startsWith('"') && q.endsWith('"')).toBe(true);
    expect(decodeGoEscapes(q.slice(1, -1))).toBe(v);
    expect(parseExpr(`{x="y", a=${q}}`)).toEqual({ kind: 'log', matchers: [{ name: 'x', op: '=', value: 'y' }, { name: 'a', op: '=', value: v }], pipeline: [] });
  });

  it('round-trips every character below 256', () => {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    expect(decodeGoEscapes(quoteGoString(all).slice(1, -1))).toBe(all);
  });

  it('escapes control characters readably', () => {
    expect(quoteGoString('a\nb\x00"')).toBe('"a\\nb\\x00\\""');
  });

  it('replaces a lone surrogate, which has no UTF-8 form', () => {
    expect(quoteGoString('a\ud800b')).toBe('"a\\ufffdb"');
  });
});

describe('literal formatting', () => {
  it.each([
    [0n, '0s'],
    [1n, '1ns'],
    [1500n, '1us500ns'],
    [250_000_000n, '250ms'],
    [90_000_000_000n, '1m30s'],
    [5_400_000_000_000n, '1h30m'],
    [86_400_000_000_000n, '1d'],
    [7n * 86_400_000_000_000n, '1w'],
    [365n * 86_400_000_000_000n, '1y'],
    [366n * 86_400_000_000_000n, '1y1d'],
    [-60_000_000_000n, '-1m'],
  ])('duration %s ns is %s', (ns, text) => {
    expect(formatDurationLiteral(ns)).toBe(text);
  });

  it.each([
    [0, '0B'],
    [1, '1B'],
    [1000, '1KB'],
    [1024, '1KiB'],
    [1536, '1536B'],
    [20e6, '20MB'],
    [3 * 2 ** 30, '3GiB'],
    [1e12, '1TB'],
    [2 ** 60, '1EiB'],
  ])('size %d is %s', (n, text) => {
    expect(formatBytesLiteral(n)).toBe(text);
  });

  it('formats numbers the lexer can read back', () => {
    expect(formatNumberLiteral(0.1)).toBe('0.1');
    expect(formatNumberLiteral(NaN)).toBe('NaN');
    expect(formatNumberLiteral(-Infinity)).toBe('-Inf');
  });
});
