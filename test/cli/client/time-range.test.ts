import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/client/errors.js';
import { nsToSecondsParam, parseDurationFlag, parseTimeFlag, resolveTimeRange } from '../../../src/cli/client/time-range.js';

const NOW = 1_700_000_000_000_000_000n;
const H = 3_600_000_000_000n;

describe('time flags', () => {
  it('reads RFC3339, Unix seconds, nanoseconds, now and relative durations', () => {
    expect(parseTimeFlag('--from', '2023-11-14T22:13:20Z', NOW)).toBe(NOW);
    expect(parseTimeFlag('--from', '2023-11-14T23:13:20+01:00', NOW)).toBe(NOW);
    expect(parseTimeFlag('--from', '1700000000', NOW)).toBe(NOW);
    expect(parseTimeFlag('--from', '1700000000000000000', NOW)).toBe(NOW);
    expect(parseTimeFlag('--from', 'now', NOW)).toBe(NOW);
    expect(parseTimeFlag('--from', '2h', NOW)).toBe(NOW - 2n * H);
    expect(parseTimeFlag('--from', '1h30m', NOW)).toBe(NOW - 3n * H / 2n);
  });

  it('names the flag and the accepted forms when a time is bad', () => {
    expect(() => parseTimeFlag('--from', 'yesterday', NOW)).toThrow(/--from "yesterday" is not a time: use RFC3339/);
    expect(() => parseTimeFlag('--to', '2h5x', NOW)).toThrow(/--to "2h5x" is not a time/);
    try {
      parseTimeFlag('--from', 'bad', NOW);
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(2);
    }
  });

  it('counts --since back from --to, lets --from win, and refuses an empty range', () => {
    expect(resolveTimeRange({ since: '1h' }, NOW)).toEqual({ start: NOW - H, end: NOW });
    expect(resolveTimeRange({ since: '2h', to: '1h' }, NOW)).toEqual({ start: NOW - 3n * H, end: NOW - H });
    expect(resolveTimeRange({ since: '2h', from: '30m' }, NOW)).toEqual({ start: NOW - H / 2n, end: NOW });
    expect(() => resolveTimeRange({ from: '1h', to: '2h' }, NOW)).toThrow(/time range is empty/);
    expect(() => resolveTimeRange({ since: 'forever' }, NOW)).toThrow(/--since "forever" is not a duration/);
    expect(() => resolveTimeRange({ since: '0s' }, NOW)).toThrow(/--since "0s" must be a positive duration/);
  });

  it('writes a step as exact decimal seconds', () => {
    expect(nsToSecondsParam(parseDurationFlag('--step', '30s'))).toBe('30');
    expect(nsToSecondsParam(parseDurationFlag('--step', '1m30s'))).toBe('90');
    expect(nsToSecondsParam(parseDurationFlag('--step', '250ms'))).toBe('0.25');
    expect(nsToSecondsParam(1n)).toBe('0.000000001');
  });
});
