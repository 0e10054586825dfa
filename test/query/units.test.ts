import { describe, expect, it } from 'vitest';
import { formatGoFloat, formatJsonNumber, parseGoDuration, parseGoFloat, parseHumanBytes } from '../../query/units.js';

describe('query value units', () => {
  it('parses Go durations exactly, rejecting forms Go rejects', () => {
    expect(parseGoDuration('1h30m')).toBe(5_400_000_000_000n);
    expect(parseGoDuration('250ms')).toBe(250_000_000n);
    expect(parseGoDuration('1.5s')).toBe(1_500_000_000n);
    expect(parseGoDuration('-2us')).toBe(-2000n);
    expect(parseGoDuration('3µs')).toBe(3000n);
    expect(parseGoDuration('0')).toBe(0n);
    for (const bad of ['', '5', '1d', 'ms', '1.5', 'abc']) expect(() => parseGoDuration(bad), bad).toThrow(/invalid duration/);
  });

  it('parses human byte sizes with SI and IEC units', () => {
    expect(parseHumanBytes('20MB')).toBe(20_000_000);
    expect(parseHumanBytes('1KiB')).toBe(1024);
    expect(parseHumanBytes('1.5 GiB')).toBe(1.5 * 2 ** 30);
    expect(parseHumanBytes('42')).toBe(42);
    expect(parseHumanBytes('10kb')).toBe(10_000);
    expect(() => parseHumanBytes('big')).toThrow(/invalid byte size/);
    expect(() => parseHumanBytes('3 parsecs')).toThrow(/unit "parsecs"/);
  });

  it('parses floats as Go does', () => {
    expect(parseGoFloat('1e3')).toBe(1000);
    expect(parseGoFloat('-0.5')).toBe(-0.5);
    expect(parseGoFloat('+Inf')).toBe(Infinity);
    expect(parseGoFloat('0x10')).toBe(16);
    expect(Number.isNaN(parseGoFloat('NaN'))).toBe(true);
    for (const bad of ['', ' 1', '1_000', 'abc', '1.2.3']) expect(() => parseGoFloat(bad), bad).toThrow(/invalid syntax/);
  });

  it('formats floats as Go %v and JSON numbers as written', () => {
    expect(formatGoFloat(3)).toBe('3');
    expect(formatGoFloat(123456)).toBe('123456');
    expect(formatGoFloat(1e6)).toBe('1e+06');
    expect(formatGoFloat(0.0001)).toBe('0.0001');
    expect(formatGoFloat(0.00001)).toBe('1e-05');
    expect(formatGoFloat(1.5e300)).toBe('1.5e+300');
    expect(formatGoFloat(NaN)).toBe('NaN');
    expect(formatJsonNumber(1e6)).toBe('1000000');
    expect(formatJsonNumber(1e21)).toBe('1e+21');
    expect(formatJsonNumber(-2.5)).toBe('-2.5');
  });
});
