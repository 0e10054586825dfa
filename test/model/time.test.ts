import { describe, expect, it } from 'vitest';
import { clampNs, formatRFC3339Nano, MAX_NS, MIN_NS, parseBytes, parseDuration, parseTimestamp, TimeOutOfRangeError } from '../../src/model/time.js';

describe('time vocabulary', () => {
  it('parses timestamps as Loki does', () => {
    expect(parseTimestamp('1700000000')).toBe(1_700_000_000_000_000_000n);
    expect(parseTimestamp('1700000000.5')).toBe(1_700_000_000_500_000_000n);
    expect(parseTimestamp('1700000000123456789')).toBe(1_700_000_000_123_456_789n);
    expect(parseTimestamp('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000_000_000n);
    expect(parseTimestamp('2023-11-14T23:13:20.000000001+01:00')).toBe(1_700_000_000_000_000_001n);
    expect(() => parseTimestamp('yesterday')).toThrow(/use RFC3339/);
  });

  it('parses durations and sizes', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000_000_000n);
    expect(parseDuration('250ms')).toBe(250_000_000n);
    expect(parseDuration('7d')).toBe(604_800_000_000_000n);
    expect(parseDuration('30')).toBe(30_000_000_000n);
    expect(() => parseDuration('5 minutes')).toThrow(/invalid duration/);
    expect(parseBytes('1.5MB')).toBe(1_500_000);
    expect(parseBytes('256KB')).toBe(256_000);
    expect(parseBytes('1MiB')).toBe(1_048_576);
    expect(() => parseBytes('lots')).toThrow(/invalid size/);
  });

  it('formats RFC3339 with nanoseconds, trimmed', () => {
    expect(formatRFC3339Nano(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z');
    expect(formatRFC3339Nano(1_700_000_000_120_000_000n)).toBe('2023-11-14T22:13:20.12Z');
    expect(formatRFC3339Nano(1n)).toBe('1970-01-01T00:00:00.000000001Z');
  });

  it('refuses instants and durations that do not fit int64 nanoseconds, naming the range', () => {
    expect(parseTimestamp('9223372036854775807')).toBe(MAX_NS);
    expect(parseTimestamp('-9223372036854775808')).toBe(MIN_NS);
    expect(parseTimestamp('2262-04-11T23:47:16Z')).toBe(9_223_372_036_000_000_000n);
    for (const t of ['9223372036854775808', '-9223372036854775809', '99999999999999999999', '2262-04-12T00:00:00Z', '9999-12-31T23:59:59Z', '1677-09-21T00:12:43Z', '-9300000000.5']) {
      expect(() => parseTimestamp(t), t).toThrow(TimeOutOfRangeError);
      expect(() => parseTimestamp(t), t).toThrow('must lie between 1677-09-21T00:12:43Z and 2262-04-11T23:47:16Z');
    }
    expect(parseDuration('2562047h')).toBe(2_562_047n * 3_600_000_000_000n);
    // Hundreds of digits overflow a float to Infinity on the way: still out of range, not a crash.
    for (const d of ['2562048h', '100000000h', '-100000000h', '300y', '99999999999', '9'.repeat(400), '1'.repeat(400) + '.5s']) {
      expect(() => parseDuration(d), d).toThrow(TimeOutOfRangeError);
      expect(() => parseDuration(d), d).toThrow('out of range, durations are limited to ±2562047h');
    }
    // Malformed stays a plain parse error, not "out of range".
    expect(() => parseDuration('1e-9')).toThrow(/invalid duration/);
    expect(() => parseDuration('1e-9')).not.toThrow(TimeOutOfRangeError);
  });

  it('clamps computed bounds into int64', () => {
    expect(clampNs(MAX_NS + 5n)).toBe(MAX_NS);
    expect(clampNs(MIN_NS - 3_600_000_000_000n)).toBe(MIN_NS);
    expect(clampNs(42n)).toBe(42n);
  });
});
