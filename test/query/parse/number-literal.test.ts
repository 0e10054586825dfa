import { describe, expect, it } from 'vitest';
import type { LiteralExpr } from '../../../query/ast.js';
import { tokenize } from '../../../query/lexer.js';
import { goParseFloat } from '../../../query/parse/go-float.js';
import { readNumberLiteral, scanGoNumber } from '../../../query/parse/number-literal.js';
import { parseExpr } from '../../../query/parser.js';
import { parseFails } from '../parse-error-of.js';

/** Number literals follow Go: text/scanner ends the literal, strconv.ParseFloat gives its value. */

const value = (text: string) => (parseExpr(text) as LiteralExpr).value;


describe('number literals in queries', () => {
  it.each([
    ['0x1p3', 8],
    ['0x1.8p3', 12],
    ['0x1p-2', 0.25],
    ['0X1P+2', 4],
    ['0x.8p1', 1],
    ['0x_1p3', 8],
    ['1_000', 1000],
    ['1_000.5', 1000.5],
    ['1e1_0', 1e10],
    ['017', 17],
    ['09.5', 9.5],
    ['1e-400', 0],
    ['-0x1p3', -8],
  ])('%s is %d', (text, v) => {
    expect(value(text)).toBe(v);
  });

  it('reads hexadecimal floats wherever a number goes', () => {
    expect(parseExpr('vector(0x1p3)')).toEqual({ kind: 'vector', value: 8 });
    expect(parseExpr('{a="b"} | size > 0x1.8p3')).toMatchObject({ pipeline: [{ kind: 'label_filter', expr: { kind: 'number', name: 'size', op: '>', value: 12 } }] });
    expect(parseExpr('rate({a="b"}[1m]) * 0x1p-1')).toMatchObject({ kind: 'binary', right: { kind: 'literal', value: 0.5 } });
  });

  it.each([
    ['0x1A', 1],
    ['0b1010', 1],
    ['0o17', 1],
    ['0xff', 1],
  ])('%s is refused as Loki refuses it', (text, col) => {
    const e = parseFails(text);
    expect(e.message).toContain(`unable to parse literal as a float: strconv.ParseFloat: parsing "${text}": invalid syntax`);
    expect(e.col).toBe(col);
  });

  it('refuses integer literals with a base prefix in every position, at the literal', () => {
    expect(parseFails('rate({a="b"}[1m]) > 0x1A').col).toBe(21);
    expect(parseFails('{a="b"} | status >= 0b1010').message).toContain('unable to parse literal as a float');
    expect(parseFails('vector(0o17)').col).toBe(8);
  });

  it('refuses a literal beyond float64 with Go\'s range error', () => {
    expect(parseFails('1e400').message).toContain('unable to parse literal as a float: strconv.ParseFloat: parsing "1e400": value out of range');
    expect(parseFails('0x1p1024').message).toContain('value out of range');
  });

  it.each([
    ['0x1.8', "hexadecimal mantissa requires a 'p' exponent"],
    ['019', "invalid digit '9' in octal literal"],
    ['0b102', "invalid digit '2' in binary literal"],
    ['1__0', "'_' must separate successive digits"],
    ['1_', "'_' must separate successive digits"],
    ['0x', 'hexadecimal literal has no digits'],
    ['0o1.5', 'invalid radix point in octal literal'],
    ['0b1e3', "'e' exponent requires decimal mantissa"],
    ['1p3', "'p' exponent requires hexadecimal mantissa"],
  ])('%s fails with Go\'s scanner message', (text, msg) => {
    const e = parseFails(text);
    expect(e.message).toContain(msg);
    expect(e.message).toContain('numbers look like 42, 0.5, 1e3');
  });

  it('leaves durations and sizes alone', () => {
    expect(tokenize('5m 1h30m 0B 20MB 1.5KiB 10s').slice(0, -1).map((t) => t.type)).toEqual(['duration', 'duration', 'bytes', 'bytes', 'bytes', 'duration']);
    expect(tokenize('0B')[0]!.num).toBe(0);
  });

  it('keeps Inf and NaN as numbers, a narvi extension Loki\'s grammar lacks', () => {
    expect(value('Inf')).toBe(Infinity);
    expect(value('NaN')).toBeNaN();
  });
});

describe('scanGoNumber', () => {
  it('stops where Go\'s scanner stops', () => {
    expect(scanGoNumber('5m')).toEqual({ end: 1 });
    expect(scanGoNumber('1.5KiB')).toEqual({ end: 3 });
    expect(scanGoNumber('0x1Ag')).toEqual({ end: 4 });
    expect(scanGoNumber('1e3s')).toEqual({ end: 3 });
    expect(scanGoNumber('0x1p3')).toEqual({ end: 5 });
    expect(scanGoNumber('1.5.3')).toEqual({ end: 3 });
  });

  it('reads a run as a number only when the scanner takes all of it', () => {
    expect(readNumberLiteral('5m')).toBeUndefined();
    expect(readNumberLiteral('42')).toEqual({ ok: true, value: 42 });
    expect(readNumberLiteral('0x1A')).toEqual({ ok: false, error: 'unable to parse literal as a float: strconv.ParseFloat: parsing "0x1A": invalid syntax' });
  });
});

describe('goParseFloat', () => {
  it.each([
    ['1', 1],
    ['-1.5e3', -1500],
    ['+.5', 0.5],
    ['1.', 1],
    ['inf', Infinity],
    ['-Infinity', -Infinity],
    ['+INF', Infinity],
    ['0x1fp-4', 31 / 16],
    ['1_23.50_0_0e+1_2', 1.235e14],
    ['0x1.fffffffffffffp1023', Number.MAX_VALUE],
    ['4.9e-324', 5e-324],
  ])('%s → %d', (s, v) => {
    expect(goParseFloat(s)).toEqual({ ok: true, value: v });
  });

  it('reads NaN only without a sign', () => {
    const r = goParseFloat('nan');
    expect(r.ok && Number.isNaN(r.value)).toBe(true);
    expect(goParseFloat('-NaN')).toEqual({ ok: false, reason: 'invalid syntax' });
  });

  it.each(['', '.', 'e3', '1e', '1e+', '0x10', '0x1.8', '0b1', '0o7', '_1', '1_', '1__0', '-_1', '1_.5', '1._5', '0x1p', 'infinit', '1 ', ' 1', '1,5'])(
    '%j is invalid syntax',
    (s) => {
      expect(goParseFloat(s)).toEqual({ ok: false, reason: 'invalid syntax' });
    },
  );

  it('reports overflow as out of range, underflow as zero', () => {
    expect(goParseFloat('1e309')).toEqual({ ok: false, reason: 'value out of range' });
    expect(goParseFloat('-1.8e308')).toEqual({ ok: false, reason: 'value out of range' });
    expect(goParseFloat('0x1p1024')).toEqual({ ok: false, reason: 'value out of range' });
    expect(goParseFloat('1e-400')).toEqual({ ok: true, value: 0 });
    expect(goParseFloat('0x1p-1100')).toEqual({ ok: true, value: 0 });
    expect(goParseFloat('0x0p99999')).toEqual({ ok: true, value: 0 });
  });
});
