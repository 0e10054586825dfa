import { describe, expect, it } from 'vitest';
import { GoParseError, goParseBytes, goParseDuration, goParseFloat, goQuote, goTimeQuote } from '../../query/go-values.js';

/** The value, or the error text when parsing failed. */
function run<T>(v: T | GoParseError): T | string {
  return v instanceof GoParseError ? v.message : v;
}

describe('strconv.ParseFloat', () => {
  it('reads decimals, exponents, hex floats with a p exponent, Inf and NaN', () => {
    expect(run(goParseFloat('42'))).toBe(42);
    expect(run(goParseFloat('-1.5e3'))).toBe(-1500);
    expect(run(goParseFloat('+.5'))).toBe(0.5);
    expect(run(goParseFloat('5.'))).toBe(5);
    expect(run(goParseFloat('0x1p4'))).toBe(16);
    expect(run(goParseFloat('0x1.8p1'))).toBe(3);
    expect(run(goParseFloat('0x_1_0p0'))).toBe(16);
    // Go 1.13+ takes underscores between digits in decimals too (strconv's own test: 1_23.50_0_0e+1_2).
    expect(run(goParseFloat('1_000'))).toBe(1000);
    expect(run(goParseFloat('1_23.50_0_0e+1_2'))).toBe(1.235e14);
    expect(run(goParseFloat('-Infinity'))).toBe(-Infinity);
    expect(run(goParseFloat('+inf'))).toBe(Infinity);
    expect(run(goParseFloat('NaN'))).toBeNaN();
    // Underflow is not an error in Go: the value rounds to zero.
    expect(run(goParseFloat('1e-400'))).toBe(0);
  });

  it('fails with Go\'s words', () => {
    for (const s of ['abc', '', ' 1', '1 ', '0x10', '0x1A', '1__000', '_1', '1e', '1e+', '.', '--1', '+nan', 'infinit', '0b101', '1.2.3']) {
      expect(run(goParseFloat(s)), s).toBe(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
    }
    expect(run(goParseFloat('1e400'))).toBe('strconv.ParseFloat: parsing "1e400": value out of range');
    expect(run(goParseFloat('-1e400'))).toBe('strconv.ParseFloat: parsing "-1e400": value out of range');
  });

  it('quotes the value as strconv.Quote does', () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('tab\there\n')).toBe('"tab\\there\\n"');
    expect(goQuote('\x01\x7f')).toBe('"\\x01\\x7f"');
    expect(goQuote('héllo µs')).toBe('"héllo µs"');
    expect(goQuote('\u00a0\u200b')).toBe('"\\u00a0\\u200b"');
    expect(run(goParseFloat('1\n'))).toBe('strconv.ParseFloat: parsing "1\\n": invalid syntax');
  });
});

describe('time.ParseDuration', () => {
  const S = 1_000_000_000n;

  it('reads Go durations in nanoseconds', () => {
    expect(run(goParseDuration('1h30m'))).toBe(5400n * S);
    expect(run(goParseDuration('-1.5s'))).toBe(-1_500_000_000n);
    expect(run(goParseDuration('+0'))).toBe(0n);
    expect(run(goParseDuration('0'))).toBe(0n);
    expect(run(goParseDuration('1.s'))).toBe(S);
    expect(run(goParseDuration('.5s'))).toBe(S / 2n);
    expect(run(goParseDuration('3µs'))).toBe(3000n);
    expect(run(goParseDuration('3μs'))).toBe(3000n);
    expect(run(goParseDuration('2us7ns'))).toBe(2007n);
    expect(run(goParseDuration('1.1h'))).toBe(3_960_000_000_000n);
    // A fraction finer than the nanosecond is truncated, not rounded.
    expect(run(goParseDuration('1.0000000009s'))).toBe(S);
    expect(run(goParseDuration('1h0m0.000000001s'))).toBe(3600n * S + 1n);
    expect(run(goParseDuration('9223372036854775807ns'))).toBe(2n ** 63n - 1n);
    expect(run(goParseDuration('-9223372036854775808ns'))).toBe(-(2n ** 63n));
    expect(run(goParseDuration('2562047h'))).toBe(2562047n * 3600n * S);
  });

  it('fails with Go\'s words', () => {
    expect(run(goParseDuration('5x'))).toBe('time: unknown unit "x" in duration "5x"');
    expect(run(goParseDuration('1d'))).toBe('time: unknown unit "d" in duration "1d"');
    expect(run(goParseDuration('1h 30m'))).toBe('time: unknown unit "h " in duration "1h 30m"');
    expect(run(goParseDuration('1h-5m'))).toBe('time: unknown unit "h-" in duration "1h-5m"');
    expect(run(goParseDuration('5'))).toBe('time: missing unit in duration "5"');
    expect(run(goParseDuration('1.5'))).toBe('time: missing unit in duration "1.5"');
    expect(run(goParseDuration('00'))).toBe('time: missing unit in duration "00"');
    expect(run(goParseDuration('1h5'))).toBe('time: missing unit in duration "1h5"');
    for (const s of ['', '-', 'abc', 'soon', 's', '.s', '-.s', ' 5s', '9223372036854775808ns', '2562048h', '99999999999999999999s']) {
      expect(run(goParseDuration(s)), s).toBe(`time: invalid duration ${JSON.stringify(s)}`);
    }
  });

  it('quotes as the time package does: non-ASCII bytes as \\x escapes', () => {
    expect(goTimeQuote('5µx')).toBe('"5\\xc2\\xb5x"');
    expect(run(goParseDuration('5µx'))).toBe('time: unknown unit "\\xc2\\xb5x" in duration "5\\xc2\\xb5x"');
    expect(run(goParseDuration('5"'))).toBe('time: unknown unit "\\"" in duration "5\\""');
  });
});

describe('humanize.ParseBytes', () => {
  it('reads sizes with SI and IEC units, spaces, commas and any case', () => {
    expect(run(goParseBytes('20MB'))).toBe(20_000_000);
    expect(run(goParseBytes('1.5 GiB'))).toBe(1.5 * 2 ** 30);
    expect(run(goParseBytes('1,024'))).toBe(1024);
    expect(run(goParseBytes('42'))).toBe(42);
    expect(run(goParseBytes('10kb'))).toBe(10_000);
    expect(run(goParseBytes('3 ki'))).toBe(3072);
    expect(run(goParseBytes('2e'))).toBe(2e18);
    expect(run(goParseBytes('1.9B'))).toBe(1);
  });

  it('fails with go-humanize\'s words', () => {
    expect(run(goParseBytes('big'))).toBe('strconv.ParseFloat: parsing "": invalid syntax');
    expect(run(goParseBytes('-5MB'))).toBe('strconv.ParseFloat: parsing "": invalid syntax');
    expect(run(goParseBytes(' 5MB'))).toBe('strconv.ParseFloat: parsing "": invalid syntax');
    expect(run(goParseBytes('1.5.3MB'))).toBe('strconv.ParseFloat: parsing "1.5.3": invalid syntax');
    expect(run(goParseBytes('12 Parsecs'))).toBe('unhandled size name: parsecs');
    expect(run(goParseBytes('1e3'))).toBe('unhandled size name: e3');
    expect(run(goParseBytes('20000EB'))).toBe('too large: 20000EB');
  });
});
