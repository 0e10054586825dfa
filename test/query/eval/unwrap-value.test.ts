import { describe, expect, it } from 'vitest';
import { convertUnwrapped } from '../../../query/eval/unwrap-value.js';

const ok = (raw: string, conv: Parameters<typeof convertUnwrapped>[1]) => {
  const r = convertUnwrapped(raw, conv);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const bad = (raw: string, conv: Parameters<typeof convertUnwrapped>[1]) => {
  const r = convertUnwrapped(raw, conv);
  return r.ok ? undefined : r.error;
};

describe('unwrapped value conversion', () => {
  it('parses floats as Go does', () => {
    expect(ok('42', 'float')).toBe(42);
    expect(ok('-1.5e3', 'float')).toBe(-1500);
    expect(ok('.5', 'float')).toBe(0.5);
    expect(ok('5.', 'float')).toBe(5);
    expect(ok('+Inf', 'float')).toBe(Infinity);
    expect(ok('-infinity', 'float')).toBe(-Infinity);
    expect(ok('NaN', 'float')).toBeNaN();
    expect(ok('0x1p-2', 'float')).toBe(0.25);
    expect(ok('0x1.8p1', 'float')).toBe(3);
    for (const s of [' 1', '1 ', '0x10', '1__000', '_1', '1_', 'abc', '1e', '--1', '', '+NaN', '0b101']) expect(bad(s, 'float'), s).toMatch(/invalid syntax/);
  });

  it('takes underscores between digits and refuses values beyond float64, as Go does', () => {
    expect(ok('1_000', 'float')).toBe(1000);
    expect(ok('1_000.5e1_0', 'float')).toBe(10005000000000);
    expect(ok('0x_1p3', 'float')).toBe(8);
    expect(bad('1e400', 'float')).toBe('strconv.ParseFloat: parsing "1e400": value out of range');
    expect(bad('-0x1p1024', 'float')).toBe('strconv.ParseFloat: parsing "-0x1p1024": value out of range');
    // Underflow is no error: the value rounds to zero.
    expect(ok('1e-400', 'float')).toBe(0);
  });

  it('parses Go durations to seconds', () => {
    expect(ok('1m30s', 'duration')).toBe(90);
    expect(ok('250ms', 'duration_seconds')).toBe(0.25);
    expect(ok('1.5h', 'duration')).toBe(5400);
    expect(ok('-2s', 'duration')).toBe(-2);
    expect(ok('0', 'duration')).toBe(0);
    expect(ok('3µs', 'duration')).toBe(0.000003);
    expect(ok('1us', 'duration')).toBe(0.000001);
    expect(ok('7ns', 'duration')).toBe(7e-9);
    expect(bad('5', 'duration')).toMatch(/invalid duration|missing unit/);
    expect(bad('1d', 'duration')).toMatch(/unknown unit "d"/);
    expect(bad('', 'duration')).toMatch(/invalid duration/);
  });

  it('parses humanized byte sizes', () => {
    expect(ok('42', 'bytes')).toBe(42);
    expect(ok('1.5KiB', 'bytes')).toBe(1536);
    expect(ok('2 MB', 'bytes')).toBe(2_000_000);
    expect(ok('1,000kb', 'bytes')).toBe(1_000_000);
    expect(ok('3gi', 'bytes')).toBe(3 * 2 ** 30);
    expect(ok('1.5B', 'bytes')).toBe(1);
    expect(bad('12 parsecs', 'bytes')).toMatch(/unhandled size name: parsecs/);
    expect(bad('MB', 'bytes')).toBeDefined();
  });
});
