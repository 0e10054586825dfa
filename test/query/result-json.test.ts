import { describe, expect, it } from 'vitest';
import { formatSampleValue, toLokiData } from '../../query/result-json.js';
import { emptyStats, type QueryStats } from '../../query/result.js';

const stats: QueryStats = { ...emptyStats(), totalLinesProcessed: 10, totalBytesProcessed: 200, totalPostFilterLines: 4, totalEntriesReturned: 2, execTime: 0.5 };
const STATS_JSON =
  '{"summary":{"bytesProcessedPerSecond":400,"linesProcessedPerSecond":20,"totalBytesProcessed":200,"totalLinesProcessed":10,"execTime":0.5,' +
  '"queueTime":0,"subqueries":0,"totalEntriesReturned":2,"splits":0,"shards":0,"totalPostFilterLines":4,"totalStructuredMetadataBytesProcessed":0}}';

describe('toLokiData', () => {
  it('streams: nanosecond timestamps as strings, exact beyond float precision', () => {
    const data = toLokiData({
      type: 'streams',
      streams: [{ labels: { app: 'a', level: 'error' }, entries: [{ ts: 1700000000123456789n, line: 'boom "quoted"' }, { ts: 1700000000000000001n, line: 'é' }] }],
      stats,
    });
    expect(JSON.stringify(data)).toBe(
      '{"resultType":"streams","result":[{"stream":{"app":"a","level":"error"},"values":[["1700000000123456789","boom \\"quoted\\""],["1700000000000000001","é"]]}],"stats":' +
        STATS_JSON +
        '}',
    );
  });

  it('matrix: seconds as numbers with millisecond precision, values as strings', () => {
    const data = toLokiData({
      type: 'matrix',
      series: [{ metric: { app: 'a' }, points: [{ t: 1700000000500, v: 1.5 }, { t: 1700000001000, v: NaN }, { t: 1700000001001, v: Infinity }, { t: 1700000002000, v: -Infinity }] }],
      stats,
    });
    expect(JSON.stringify(data)).toBe(
      '{"resultType":"matrix","result":[{"metric":{"app":"a"},"values":[[1700000000.5,"1.5"],[1700000001,"NaN"],[1700000001.001,"+Inf"],[1700000002,"-Inf"]]}],"stats":' +
        STATS_JSON +
        '}',
    );
  });

  it('vector and scalar', () => {
    expect(JSON.stringify(toLokiData({ type: 'vector', samples: [{ metric: {}, t: 1700000000123, v: 0.1 + 0.2 }, { metric: { a: 'b' }, t: 1700000000123, v: 1e21 }], stats }))).toBe(
      '{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"0.30000000000000004"]},{"metric":{"a":"b"},"value":[1700000000.123,"1000000000000000000000"]}],"stats":' +
        STATS_JSON +
        '}',
    );
    expect(JSON.stringify(toLokiData({ type: 'scalar', t: 1700000000000, v: -2.5, stats }))).toBe('{"resultType":"scalar","result":[1700000000,"-2.5"],"stats":' + STATS_JSON + '}');
  });

  it('per-second rates are 0 when no time was measured', () => {
    const d = toLokiData({ type: 'scalar', t: 0, v: 1, stats: emptyStats() });
    expect(d.stats.summary.bytesProcessedPerSecond).toBe(0);
    expect(d.stats.summary.linesProcessedPerSecond).toBe(0);
  });
});

describe('formatSampleValue (Go FormatFloat(v, \'f\', -1, 64))', () => {
  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1.25, '-1.25'],
    [0.1, '0.1'],
    [1 / 3, '0.3333333333333333'],
    [123456789012345680000, '123456789012345680000'],
    [1e21, '1000000000000000000000'],
    [1.5e300, '15' + '0'.repeat(299)],
    [1e-7, '0.0000001'],
    [1.25e-10, '0.000000000125'],
    [-3.4e-8, '-0.000000034'],
    [5e-324, '0.' + '0'.repeat(323) + '5'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%s → %s', (v, want) => {
    expect(formatSampleValue(v)).toBe(want);
  });
});
