import { describe, expect, it } from 'vitest';
import { alignToStep, evaluate, QueryEvalError, QueryParamError, SeriesLimitError } from '../../query/engine.js';
import { toLokiData } from '../../query/result-json.js';
import { MemorySource, sec } from './eval/memory-source.js';
import { rangeAgg, selector } from './eval/helpers.js';

const src = () =>
  new MemorySource([
    { labels: { app: 'a', pod: '1' }, entries: [{ ts: sec(1), line: 'x' }, { ts: sec(11), line: 'yy' }] },
    { labels: { app: 'a', pod: '2' }, entries: [{ ts: sec(2), line: 'z' }] },
  ]);
const counts = rangeAgg('count_over_time', selector({ app: 'a' }), 10);

describe('evaluate', () => {
  it('answers a metric range query end to end in Loki JSON', async () => {
    const r = await evaluate(counts, { start: sec(10), end: sec(20), step: 10_000_000_000n, direction: 'backward', limit: 100, instant: false }, src());
    const data = toLokiData(r);
    expect(data.resultType).toBe('matrix');
    expect(JSON.stringify(data.result)).toBe(
      '[{"metric":{"app":"a","pod":"1"},"values":[[1700000010,"1"],[1700000020,"1"]]},{"metric":{"app":"a","pod":"2"},"values":[[1700000010,"1"]]}]',
    );
    expect(r.stats.execTime).toBeGreaterThan(0);
  });

  it('answers an instant query with a vector at the query time', async () => {
    // Window (2s, 12s]: pod 1's entry at 11s; pod 2's at 2s is just outside.
    const r = await evaluate(counts, { start: sec(12), end: sec(12), step: 0n, direction: 'backward', limit: 100, instant: true }, src());
    expect(JSON.stringify(toLokiData(r).result)).toBe('[{"metric":{"app":"a","pod":"1"},"value":[1700000012,"1"]}]');
  });

  it('reports step instants truncated to milliseconds', async () => {
    const r = await evaluate(counts, { start: sec(12) + 1_999_999n, end: sec(12) + 1_999_999n, step: 0n, direction: 'backward', limit: 100, instant: true }, src());
    expect(r.type === 'vector' && r.samples[0]!.t).toBe(1700000012001);
  });

  it('validates the step and the number of points', async () => {
    const p = { start: sec(0), end: sec(10), direction: 'backward' as const, limit: 100, instant: false };
    await expect(evaluate(counts, { ...p, step: 0n }, src())).rejects.toThrow(QueryParamError);
    await expect(evaluate(counts, { ...p, step: 0n }, src())).rejects.toThrow('zero or negative query resolution step widths are not accepted. Try a positive integer');
    await expect(evaluate(counts, { ...p, end: sec(20_000), step: 1_000_000_000n }, src())).rejects.toThrow('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    await expect(evaluate(counts, { ...p, start: sec(10), end: sec(0), step: 1_000_000_000n }, src())).rejects.toThrow(/^end timestamp must not be before start time: end must not be before start$/);
  });

  it('applies maxSeries to the final result, not to what aggregation removes', async () => {
    const p = { start: sec(10), end: sec(10), step: 0n, direction: 'backward' as const, limit: 100, instant: true };
    await expect(evaluate(counts, p, src(), { maxSeries: 1 })).rejects.toThrow(SeriesLimitError);
    await expect(evaluate(counts, p, src(), { maxSeries: 1 })).rejects.toThrow(QueryEvalError);
    const summed = await evaluate({ kind: 'vector_agg', op: 'sum', expr: counts }, p, src(), { maxSeries: 1 });
    expect(summed.type === 'vector' && summed.samples).toEqual([{ metric: {}, t: 1700000010000, v: 2 }]);
  });

  it('an instant query of a number is a scalar', async () => {
    const r = await evaluate({ kind: 'literal', value: 4 }, { start: sec(5), end: sec(5), step: 0n, direction: 'backward', limit: 100, instant: true }, src());
    expect(toLokiData(r)).toMatchObject({ resultType: 'scalar', result: [1700000005, '4'] });
  });
});

describe('alignToStep', () => {
  it('rounds start and end down to a multiple of the step, at millisecond precision', () => {
    const s = 1_000_000_000n;
    expect(alignToStep(sec(7) + 123n, sec(65), 15n * s)).toEqual({ start: sec(0) - (1_700_000_000n % 15n) * s, end: sec(60) - (1_700_000_000n % 15n) * s });
    expect(alignToStep(1_234_567_890n, 9_999_999_999n, 1_000_000_000n)).toEqual({ start: 1_000_000_000n, end: 9_000_000_000n });
    // Sub-millisecond steps leave the range alone.
    expect(alignToStep(5n, 7n, 10n)).toEqual({ start: 5n, end: 7n });
  });
});
