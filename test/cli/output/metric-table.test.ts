import { describe, expect, it } from 'vitest';
import { metricTable } from '../../../src/cli/output/metric-table.js';
import { humanBytes } from '../../../src/cli/output/table.js';
import { resolveTimeZone } from '../../../src/cli/output/time-format.js';

const UTC = resolveTimeZone('UTC');

describe('metric table', () => {
  it('shows a column per label that differs and announces the shared ones', () => {
    const t = metricTable(
      {
        resultType: 'matrix',
        result: [
          { metric: { app: 'api', level: 'info' }, values: [[1700000000, '1'], [1700000060, '2.5']] },
          { metric: { app: 'api', level: 'error' }, values: [[1700000000, '10']] },
        ],
      },
      UTC,
    );
    expect(t.common).toEqual({ app: 'api' });
    expect(t.table).toBe(
      [
        'TIME                      level  VALUE',
        '2023-11-14T22:13:20.000Z  error     10',
        '2023-11-14T22:13:20.000Z  info       1',
        '2023-11-14T22:14:20.000Z  info     2.5',
        '',
      ].join('\n'),
    );
  });

  it('keeps the labels of a single series and prints scalars', () => {
    const v = metricTable({ resultType: 'vector', result: [{ metric: { app: 'api' }, value: [1700000000.5, '3'] }] }, UTC);
    expect(v.table).toBe('TIME                      app  VALUE\n2023-11-14T22:13:20.500Z  api      3\n');
    expect(metricTable({ resultType: 'scalar', result: [1700000000, '42'] }, UTC).table).toContain('42');
    expect(metricTable({ resultType: 'vector', result: [] }, UTC)).toEqual({ table: '', common: {}, series: 0 });
  });

  it('formats byte counts for people', () => {
    expect(humanBytes(999)).toBe('999 B');
    expect(humanBytes(1500)).toBe('1.50 kB');
    expect(humanBytes(12_345_678)).toBe('12.3 MB');
  });
});
