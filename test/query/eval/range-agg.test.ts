import { describe, expect, it } from 'vitest';
import { PipelineError, SeriesLimitError } from '../../../query/engine.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';
import { by, instantQuery, matrixOf, rangeAgg, rangeQuery, selector, unwrap, vectorOf, without } from './helpers.js';

const at = (s: number, line = `line at ${s}`) => ({ ts: sec(s), line });

describe('count_over_time and friends', () => {
  // Entries at 0, 5, 10, 10, 25, 30, 40 seconds.
  const streams: MemStream[] = [{ labels: { app: 'a' }, entries: [at(0), at(5), at(10), at(10, 'again'), at(25), at(30), at(40)] }];

  it('counts over windows open on the left and closed on the right', async () => {
    const src = new MemorySource(streams);
    const r = await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 10), src, 10, 50, 10);
    // t=10: (0,10] → 5,10,10; t=20: nothing; t=30: (20,30] → 25,30; t=40: 40; t=50: nothing.
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[10, 3], [30, 2], [40, 1]] });
    // The source is asked for exactly the span the windows cover: [first window start + 1ns, last window end + 1ns).
    expect(src.selects[0]!.start).toBe(sec(0) + 1n);
    expect(src.selects[0]!.end).toBe(sec(50) + 1n);
    expect(src.selects[0]!.direction).toBe('forward');
  });

  it('places entries one nanosecond either side of a boundary exactly', async () => {
    const src = new MemorySource([
      { labels: { app: 'a' }, entries: [{ ts: sec(20), line: 'a' }, { ts: sec(20) + 1n, line: 'b' }, { ts: sec(30), line: 'c' }, { ts: sec(30) + 1n, line: 'd' }] },
    ]);
    const r = await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 10), src, 20, 40, 10);
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[20, 1], [30, 2], [40, 1]] });
  });

  it('rate divides the count by the range in seconds', async () => {
    const r = await rangeQuery(rangeAgg('rate', selector({ app: 'a' }), 10), new MemorySource(streams), 10, 50, 10);
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[10, 0.3], [30, 0.2], [40, 0.1]] });
  });

  it('slides windows longer than the step', async () => {
    const r = await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 30), new MemorySource(streams), 0, 80, 10);
    // t=0: [0]; t=10: (−20,10] 0,5,10,10; t=20: same; t=30: (0,30] 5,10,10,25,30; t=40: (10,40] 25,30,40;
    // t=50: (20,50] 25,30,40; t=60: (30,60] 40; t=70: (40,70] none.
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[0, 1], [10, 4], [20, 4], [30, 5], [40, 3], [50, 3], [60, 1]] });
  });

  it('skips the gaps when the step is longer than the range', async () => {
    const r = await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 3), new MemorySource(streams), 5, 45, 20);
    // t=5: (2,5] → 5; t=25: (22,25] → 25; t=45: (42,45] → nothing. 10, 30, 40 fall in no window.
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[5, 1], [25, 1]] });
  });

  it('bytes_over_time and bytes_rate count UTF-8 bytes', async () => {
    const src = new MemorySource([{ labels: { app: 'a' }, entries: [at(1, 'é'), at(2, 'ab'), at(3, 'abc'), at(12, '€')] }]);
    const bytes = await rangeQuery(rangeAgg('bytes_over_time', selector({ app: 'a' }), 10), src, 10, 20, 10);
    expect(matrixOf(bytes)).toEqual({ '{app="a"}': [[10, 7], [20, 3]] });
    const rate = await rangeQuery(rangeAgg('bytes_rate', selector({ app: 'a' }), 10), src, 10, 20, 10);
    expect(matrixOf(rate)).toEqual({ '{app="a"}': [[10, 0.7], [20, 0.3]] });
    // Through the pipeline (a line filter) the bytes are those of the surviving lines.
    const filtered = await rangeQuery(rangeAgg('bytes_over_time', selector({ app: 'a' }, [{ kind: 'line_filter', op: '!=', values: ['ab'] }]), 10), src, 10, 20, 10);
    expect(matrixOf(filtered)).toEqual({ '{app="a"}': [[10, 2], [20, 3]] });
  });

  it('offset shifts every window back', async () => {
    const r = await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 10, { offsetSeconds: 10 }), new MemorySource(streams), 20, 60, 10);
    // Output at t reads window (t−20, t−10]: t=20 → (0,10] = 3; t=40 → (20,30] = 2; t=50 → (30,40] = 1.
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[20, 3], [40, 2], [50, 1]] });
  });

  it('absent_over_time is 1 where no stream has a sample, labelled by the equality matchers', async () => {
    const sel = selector([
      { name: 'app', op: '=', value: 'a' },
      { name: 'env', op: '=~', value: '.*' },
    ]);
    const r = await rangeQuery(rangeAgg('absent_over_time', sel, 10), new MemorySource(streams), 10, 60, 10);
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[20, 1], [50, 1], [60, 1]] });
    // A name matched twice is ambiguous and left out.
    const none = selector([
      { name: 'app', op: '=', value: 'zzz' },
      { name: 'team', op: '=', value: 'x' },
      { name: 'team', op: '!=', value: 'y' },
    ]);
    const r2 = await rangeQuery(rangeAgg('absent_over_time', none, 10), new MemorySource(streams), 10, 20, 10);
    expect(matrixOf(r2)).toEqual({ '{app="zzz"}': [[10, 1], [20, 1]] });
  });

  it('keeps one series per label set and orders the matrix by labels', async () => {
    const src = new MemorySource([
      { labels: { app: 'b' }, entries: [at(1)] },
      { labels: { app: 'a', pod: '2' }, entries: [at(2)] },
      { labels: { app: 'a' }, entries: [at(3), at(4)] },
      { labels: { app: 'a', pod: '1' }, entries: [at(5)] },
    ]);
    const r = await rangeQuery(rangeAgg('count_over_time', selector([{ name: 'app', op: '=~', value: '.+' }]), 10), src, 10, 10, 10);
    expect(Object.entries(matrixOf(r))).toEqual([
      ['{app="a"}', [[10, 2]]],
      ['{app="a", pod="1"}', [[10, 1]]],
      ['{app="a", pod="2"}', [[10, 1]]],
      ['{app="b"}', [[10, 1]]],
    ]);
  });

  it('groups with by/without before aggregating, merging streams', async () => {
    const src = new MemorySource([
      { labels: { app: 'a', pod: '1' }, entries: [at(1), at(11)] },
      { labels: { app: 'a', pod: '2' }, entries: [at(2), at(3), at(12)] },
      { labels: { app: 'b', pod: '1' }, entries: [at(4)] },
    ]);
    const all = selector([{ name: 'app', op: '=~', value: '.+' }]);
    const r = await rangeQuery(rangeAgg('count_over_time', all, 10, { grouping: by('app') }), src, 10, 20, 10);
    expect(matrixOf(r)).toEqual({ '{app="a"}': [[10, 3], [20, 2]], '{app="b"}': [[10, 1]] });
    const w = await rangeQuery(rangeAgg('count_over_time', all, 10, { grouping: without('app') }), src, 10, 20, 10);
    expect(matrixOf(w)).toEqual({ '{pod="1"}': [[10, 2], [20, 1]], '{pod="2"}': [[10, 2], [20, 1]] });
  });

  it('an instant query evaluates the single window ending at the query time', async () => {
    const r = await instantQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 30), new MemorySource(streams), 30);
    expect(vectorOf(r)).toEqual([['{app="a"}', 5]]);
    expect(r.type === 'vector' && r.samples[0]!.t).toBe(Number(sec(30) / 1_000_000n));
  });

  it('counts processed lines and bytes in the stats', async () => {
    const r = await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 10), new MemorySource(streams), 10, 50, 10);
    // The select starts after 0s, so six entries are read.
    expect(r.stats.totalLinesProcessed).toBe(6);
    expect(r.stats.totalBytesProcessed).toBe(['line at 5', 'line at 10', 'again', 'line at 25', 'line at 30', 'line at 40'].join('').length);
    expect(r.stats.totalStreamsSelected).toBe(1);
  });

  it('refuses more series than maxSeries, naming the limit', async () => {
    const src = new MemorySource([1, 2, 3].map((i) => ({ labels: { app: 'a', pod: String(i) }, entries: [at(i)] })));
    const q = rangeAgg('count_over_time', selector({ app: 'a' }), 10);
    await expect(rangeQuery(q, src, 10, 10, 10, { maxSeries: 2 })).rejects.toThrow(SeriesLimitError);
    await expect(rangeQuery(q, src, 10, 10, 10, { maxSeries: 2 })).rejects.toThrow(/maximum number of series \(2\)/);
    expect(matrixOf(await rangeQuery(q, src, 10, 10, 10, { maxSeries: 3 }))).toHaveProperty(['{app="a", pod="3"}']);
  });
});

describe('unwrap range aggregations', () => {
  // Unwrapping a stream label: each stream carries one value, and removing the unwrapped label from the
  // series labels merges the streams into one series {app="a"}.
  const valueStreams = (points: [number, string][]): MemStream[] => {
    const byValue = new Map<string, number[]>();
    for (const [t, v] of points) byValue.set(v, [...(byValue.get(v) ?? []), t]);
    return [...byValue].map(([v, ts]) => ({ labels: { app: 'a', v }, entries: ts.map((t) => at(t)) }));
  };
  // Values over time: 1s→3, 2s→1, 4s→4, 6s→1, 8s→5, 12s→9.
  const src = () => new MemorySource(valueStreams([[1, '3'], [2, '1'], [4, '4'], [6, '1'], [8, '5'], [12, '9']]));
  const q = (op: Parameters<typeof rangeAgg>[0], param?: number) => rangeAgg(op, selector({ app: 'a' }), 10, { unwrap: unwrap('v'), ...(param !== undefined ? { param } : {}) });
  // Window at t=10 holds 3,1,4,1,5; at t=20 holds 9.
  const cases: [Parameters<typeof rangeAgg>[0], number | undefined, number, number][] = [
    ['sum_over_time', undefined, 14, 9],
    ['avg_over_time', undefined, 2.8, 9],
    ['min_over_time', undefined, 1, 9],
    ['max_over_time', undefined, 5, 9],
    ['first_over_time', undefined, 3, 9],
    ['last_over_time', undefined, 5, 9],
    ['stdvar_over_time', undefined, 2.56, 0],
    ['stddev_over_time', undefined, 1.6, 0],
    ['quantile_over_time', 0.5, 3, 9],
    // rank 0.9·4 = 3.6 between sorted[3]=4 and sorted[4]=5.
    ['quantile_over_time', 0.9, 4.6, 9],
    ['rate', undefined, 1.4, 0.9],
  ];
  for (const [op, param, at10, at20] of cases) {
    it(`${op}${param !== undefined ? `(${param})` : ''}`, async () => {
      const m = matrixOf(await rangeQuery(q(op, param), src(), 10, 20, 10));
      expect(Object.keys(m)).toEqual(['{app="a"}']);
      const [[t1, v1], [t2, v2]] = m['{app="a"}']!;
      expect([t1, t2]).toEqual([10, 20]);
      expect(v1).toBeCloseTo(at10, 12);
      expect(v2).toBeCloseTo(at20, 12);
    });
  }

  it('quantile_over_time outside [0,1] gives ±Inf', async () => {
    const hi = matrixOf(await rangeQuery(q('quantile_over_time', 1.5), src(), 10, 10, 10));
    const lo = matrixOf(await rangeQuery(q('quantile_over_time', -1), src(), 10, 10, 10));
    expect(hi['{app="a"}']).toEqual([[10, Infinity]]);
    expect(lo['{app="a"}']).toEqual([[10, -Infinity]]);
  });

  it('rate_counter adds back the value before each reset', async () => {
    // Counter 3 → 1 (reset, +3) → 4 → 1 (reset, +4) → 5 at 1s…8s: increase = 5 − 3 + 3 + 4 = 9. Extrapolated
    // as Prometheus does: sampled 7s, avg 1.75s, threshold 1.925s; 1s to the window start (zero point
    // 7·3/9 ≈ 2.3s is further), 2s to its end ≥ threshold → 0.875s. 9 · (7 + 1 + 0.875) / 7 / 10.
    const m = matrixOf(await rangeQuery(q('rate_counter'), src(), 10, 20, 10));
    expect(m['{app="a"}']![0]![0]).toBe(10);
    expect(m['{app="a"}']![0]![1]).toBeCloseTo((9 * 8.875) / 7 / 10, 12);
    // A single sample has no rate.
    expect(m['{app="a"}']![1]).toEqual([20, 0]);
  });

  it('slides min/max windows correctly as samples leave', async () => {
    const m = matrixOf(await rangeQuery(rangeAgg('max_over_time', selector({ app: 'a' }), 5, { unwrap: unwrap('v') }), src(), 5, 13, 1));
    // Values 1s→3, 2s→1, 4s→4, 6s→1, 8s→5, 12s→9, windows of 5s.
    expect(m['{app="a"}']).toEqual([
      [5, 4], [6, 4], [7, 4], [8, 5], [9, 5], [10, 5], [11, 5], [12, 9], [13, 9],
    ]);
    const mi = matrixOf(await rangeQuery(rangeAgg('min_over_time', selector({ app: 'a' }), 5, { unwrap: unwrap('v') }), src(), 5, 13, 1));
    expect(mi['{app="a"}']).toEqual([
      [5, 1], [6, 1], [7, 1], [8, 1], [9, 1], [10, 1], [11, 5], [12, 5], [13, 9],
    ]);
  });

  it('removes the unwrapped label but keeps the others; by() keeps only the listed labels', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', pod: '1', v: '2' }, entries: [at(1)] },
      { labels: { app: 'a', pod: '2', v: '5' }, entries: [at(2)] },
    ]);
    const plain = matrixOf(await rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v') }), s, 10, 10, 10));
    expect(plain).toEqual({ '{app="a", pod="1"}': [[10, 2]], '{app="a", pod="2"}': [[10, 5]] });
    const grouped = matrixOf(await rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v'), grouping: by('app') }), s, 10, 10, 10));
    expect(grouped).toEqual({ '{app="a"}': [[10, 7]] });
    const keepV = matrixOf(await rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v'), grouping: by('v') }), s, 10, 10, 10));
    expect(keepV).toEqual({ '{v="2"}': [[10, 2]], '{v="5"}': [[10, 5]] });
    const w = matrixOf(await rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v'), grouping: without('pod') }), s, 10, 10, 10));
    expect(w).toEqual({ '{app="a"}': [[10, 7]] });
  });

  it('converts durations and bytes', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', d: '1m30s', b: '1.5KiB' }, entries: [at(1)] },
      { labels: { app: 'a', d: '250ms', b: '2 MB' }, entries: [at(2)] },
    ]);
    const d = matrixOf(await rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('d', 'duration'), grouping: by('app') }), s, 10, 10, 10));
    expect(d).toEqual({ '{app="a"}': [[10, 90.25]] });
    const b = matrixOf(await rangeQuery(rangeAgg('max_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('b', 'bytes'), grouping: by('app') }), s, 10, 10, 10));
    expect(b).toEqual({ '{app="a"}': [[10, 2_000_000]] });
  });

  it('skips entries without the unwrapped label', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', v: '2' }, entries: [at(1)] },
      { labels: { app: 'a' }, entries: [at(2)] },
    ]);
    const m = matrixOf(await rangeQuery(rangeAgg('count_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v'), grouping: by('app') }), s, 10, 10, 10));
    expect(m).toEqual({ '{app="a"}': [[10, 1]] });
  });

  it('an unparseable value fails the query with a pipeline error naming the series', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', v: '2' }, entries: [at(1)] },
      { labels: { app: 'a', v: 'fast' }, entries: [at(2)] },
    ]);
    const p = rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v') }), s, 10, 10, 10);
    await expect(p).rejects.toThrow(PipelineError);
    await expect(rangeQuery(rangeAgg('sum_over_time', selector({ app: 'a' }), 10, { unwrap: unwrap('v') }), s, 10, 10, 10)).rejects.toThrow(
      /SampleExtractionErr.*v="fast"/,
    );
  });
});
