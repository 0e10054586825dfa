import { describe, expect, it } from 'vitest';
import { announcedLabels, commonLabels, visibleLabels, type LabelFilter } from '../../../src/cli/output/common-labels.js';
import { colorEnabled, colorFor } from '../../../src/cli/output/colors.js';
import { formatTime, resolveTimeZone } from '../../../src/cli/output/time-format.js';

const show: LabelFilter = { show: true, include: new Set(), exclude: new Set() };

describe('common labels', () => {
  it('are the labels with one value in every stream', () => {
    expect(commonLabels([{ app: 'api', env: 'prod', level: 'info' }, { app: 'api', env: 'prod', level: 'error' }])).toEqual({ app: 'api', env: 'prod' });
    expect(commonLabels([{ app: 'api' }])).toEqual({ app: 'api' });
    expect(commonLabels([])).toEqual({});
  });

  it('hide a label only where the stream has the announced value', () => {
    const common = { app: 'api', env: 'prod' };
    expect(visibleLabels({ app: 'api', env: 'prod', level: 'info' }, common, show)).toEqual({ level: 'info' });
    expect(visibleLabels({ app: 'api', env: 'dev', level: 'info' }, common, show)).toEqual({ env: 'dev', level: 'info' });
  });

  it('follow --include-label, --exclude-label and --no-labels', () => {
    const l = { app: 'api', env: 'prod', level: 'info' };
    const common = { app: 'api', env: 'prod' };
    expect(visibleLabels(l, common, { ...show, include: new Set(['app']) })).toEqual({ app: 'api' });
    expect(visibleLabels(l, common, { ...show, exclude: new Set(['level']) })).toEqual({});
    expect(visibleLabels(l, common, { ...show, show: false })).toEqual({});
    expect(announcedLabels(common, { ...show, exclude: new Set(['env']) })).toEqual({ app: 'api' });
    expect(announcedLabels(common, { ...show, include: new Set(['app']) })).toEqual({});
  });
});

describe('timestamps', () => {
  const ns = 1_700_000_000_123_456_789n; // 2023-11-14T22:13:20.123456789Z

  it('print in UTC, a fixed-offset zone and a DST zone', () => {
    expect(formatTime(ns, resolveTimeZone('UTC'))).toBe('2023-11-14T22:13:20.123Z');
    expect(formatTime(ns, resolveTimeZone('UTC'), 'ns')).toBe('2023-11-14T22:13:20.123456789Z');
    expect(formatTime(1_700_000_000_000_000_000n, resolveTimeZone('UTC'), 'ns')).toBe('2023-11-14T22:13:20Z');
    expect(formatTime(ns, resolveTimeZone('Asia/Kolkata'))).toBe('2023-11-15T03:43:20.123+05:30');
    expect(formatTime(ns, resolveTimeZone('America/New_York'))).toBe('2023-11-14T17:13:20.123-05:00');
    expect(formatTime(1_690_000_000_000_000_000n, resolveTimeZone('America/New_York'))).toBe('2023-07-22T00:26:40.000-04:00');
  });

  it('refuses an unknown zone by name', () => {
    expect(() => resolveTimeZone('Mars/Olympus')).toThrow('--timezone "Mars/Olympus" is not a known time zone: use Local, UTC or an IANA name like Europe/Paris');
  });
});

describe('colours', () => {
  it('are used on a terminal only, and never with NO_COLOR or TERM=dumb', () => {
    expect(colorEnabled({ isTTY: true } as NodeJS.WriteStream, {})).toBe(true);
    expect(colorEnabled({ isTTY: false } as NodeJS.WriteStream, {})).toBe(false);
    expect(colorEnabled({} as NodeJS.WriteStream, {})).toBe(false);
    expect(colorEnabled({ isTTY: true } as NodeJS.WriteStream, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true } as NodeJS.WriteStream, { TERM: 'dumb' })).toBe(false);
  });

  it('are stable per stream', () => {
    expect(colorFor('{app="a"}')).toBe(colorFor('{app="a"}'));
    const colours = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((x) => colorFor(`{app="${x}"}`)));
    expect(colours.size).toBeGreaterThan(1);
  });
});
