import { describe, expect, it } from 'vitest';
import { formatRFC3339Nano, parseBytes, parseDuration, parseTimestamp } from '../../src/model/time.js';

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
});
