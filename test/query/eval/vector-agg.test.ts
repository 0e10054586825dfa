import { describe, expect, it } from 'vitest';
import type { SampleExpr, VectorAggregationExpr } from '../../../query/ast.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';
import { by, instantQuery, matrixOf, rangeAgg, rangeQuery, selector, seriesOrder, vectorOf, without } from './helpers.js';

/** Streams whose count_over_time at 10s is the given number (entries at 1s, 2s, …). */
function counted(spec: [Record<string, string>, number][]): MemorySource {
  const streams: MemStream[] = spec.map(([labels, n]) => ({ labels, entries: Array.from({ length: n }, (_, i) => ({ ts: sec(1 + i * (8 / Math.max(n, 1))), line: 'x' })) }));
  return new MemorySource(streams);
}

const counts: SampleExpr = rangeAgg('count_over_time', selector([{ name: 'app', op: '=~', value: '.+' }]), 10);
const agg = (op: VectorAggregationExpr['op'], more: Partial<VectorAggregationExpr> = {}): VectorAggregationExpr => ({ kind: 'vector_agg', op, expr: counts, ...more });

const src = () =>
  counted([
    [{ app: 'a', pod: '1', zone: 'x' }, 1],
    [{ app: 'a', pod: '2', zone: 'y' }, 3],
    [{ app: 'b', pod: '1', zone: 'x' }, 4],
    [{ app: 'b', pod: '2', zone: 'x' }, 6],
  ]);

describe('vector aggregations', () => {
  it('sum, avg, min, max, count, stddev, stdvar with and without grouping', async () => {
    expect(vectorOf(await instantQuery(agg('sum'), src(), 10))).toEqual([['{}', 14]]);
    expect(vectorOf(await instantQuery(agg('sum', { grouping: by('app') }), src(), 10))).toEqual([['{app="a"}', 4], ['{app="b"}', 10]]);
    expect(vectorOf(await instantQuery(agg('avg', { grouping: by('app') }), src(), 10))).toEqual([['{app="a"}', 2], ['{app="b"}', 5]]);
    expect(vectorOf(await instantQuery(agg('min', { grouping: by('zone') }), src(), 10))).toEqual([['{zone="x"}', 1], ['{zone="y"}', 3]]);
    expect(vectorOf(await instantQuery(agg('max', { grouping: by('zone') }), src(), 10))).toEqual([['{zone="x"}', 6], ['{zone="y"}', 3]]);
    expect(vectorOf(await instantQuery(agg('count', { grouping: by('zone') }), src(), 10))).toEqual([['{zone="x"}', 3], ['{zone="y"}', 1]]);
    // Values 1, 3, 4, 6: mean 3.5, squared deviations 6.25 + 0.25 + 0.25 + 6.25 = 13 → variance 3.25.
    expect(vectorOf(await instantQuery(agg('stdvar'), src(), 10))).toEqual([['{}', 3.25]]);
    expect(vectorOf(await instantQuery(agg('stddev'), src(), 10))).toEqual([['{}', Math.sqrt(3.25)]]);
  });

  it('without drops the listed labels and keeps the rest', async () => {
    expect(vectorOf(await instantQuery(agg('sum', { grouping: without('pod') }), src(), 10))).toEqual([
      ['{app="a", zone="x"}', 1],
      ['{app="a", zone="y"}', 3],
      ['{app="b", zone="x"}', 10],
    ]);
  });

  it('aggregates per step over a range', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', pod: '1' }, entries: [{ ts: sec(1), line: 'x' }, { ts: sec(11), line: 'x' }] },
      { labels: { app: 'a', pod: '2' }, entries: [{ ts: sec(2), line: 'x' }] },
    ]);
    expect(matrixOf(await rangeQuery(agg('sum', { grouping: by('app') }), s, 10, 30, 10))).toEqual({ '{app="a"}': [[10, 2], [20, 1]] });
  });

  it('topk and bottomk pick per group and keep the series labels', async () => {
    expect(vectorOf(await instantQuery(agg('topk', { param: 2 }), src(), 10))).toEqual([
      ['{app="b", pod="1", zone="x"}', 4],
      ['{app="b", pod="2", zone="x"}', 6],
    ]);
    expect(vectorOf(await instantQuery(agg('bottomk', { param: 1, grouping: by('app') }), src(), 10))).toEqual([
      ['{app="a", pod="1", zone="x"}', 1],
      ['{app="b", pod="1", zone="x"}', 4],
    ]);
    expect(vectorOf(await instantQuery(agg('topk', { param: 10 }), src(), 10))).toHaveLength(4);
  });

  it('topk ties resolve as the Prometheus heap does', async () => {
    // Visited in label order: p1=5, p2=5, p3=5, p4=7. The heap keeps p1, p2; p3 does not beat the top;
    // p4 replaces the top, which is p1 (equal values never sift).
    const s = counted([
      [{ app: 'a', pod: 'p1' }, 5],
      [{ app: 'a', pod: 'p2' }, 5],
      [{ app: 'a', pod: 'p3' }, 5],
      [{ app: 'a', pod: 'p4' }, 7],
    ]);
    expect(vectorOf(await instantQuery(agg('topk', { param: 2 }), s, 10)).map(([l]) => l)).toEqual(['{app="a", pod="p2"}', '{app="a", pod="p4"}']);
    const b = counted([
      [{ app: 'a', pod: 'p1' }, 5],
      [{ app: 'a', pod: 'p2' }, 5],
      [{ app: 'a', pod: 'p3' }, 5],
      [{ app: 'a', pod: 'p4' }, 2],
    ]);
    expect(vectorOf(await instantQuery(agg('bottomk', { param: 2 }), b, 10)).map(([l]) => l)).toEqual(['{app="a", pod="p2"}', '{app="a", pod="p4"}']);
  });

  it('topk in a range query returns every series that is in the top at some step', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', pod: '1' }, entries: [{ ts: sec(1), line: 'x' }, { ts: sec(2), line: 'x' }] },
      { labels: { app: 'a', pod: '2' }, entries: [{ ts: sec(3), line: 'x' }, { ts: sec(11), line: 'x' }] },
    ]);
    expect(matrixOf(await rangeQuery(agg('topk', { param: 1 }), s, 10, 20, 10))).toEqual({
      '{app="a", pod="1"}': [[10, 2]],
      '{app="a", pod="2"}': [[20, 1]],
    });
  });

  it('sort and sort_desc order an instant vector by value; otherwise vectors are in label order', async () => {
    expect(seriesOrder(await instantQuery(agg('sort'), src(), 10))).toEqual([
      '{app="a", pod="1", zone="x"}',
      '{app="a", pod="2", zone="y"}',
      '{app="b", pod="1", zone="x"}',
      '{app="b", pod="2", zone="x"}',
    ]);
    expect(vectorOf(await instantQuery(agg('sort_desc'), src(), 10)).map(([, v]) => v)).toEqual([6, 4, 3, 1]);
    const rev = counted([
      [{ app: 'a' }, 3],
      [{ app: 'b' }, 1],
      [{ app: 'c' }, 2],
    ]);
    expect(vectorOf(await instantQuery(agg('sort'), rev, 10))).toEqual([['{app="b"}', 1], ['{app="c"}', 2], ['{app="a"}', 3]]);
    expect(vectorOf(await instantQuery(counts, rev, 10))).toEqual([['{app="a"}', 3], ['{app="b"}', 1], ['{app="c"}', 2]]);
  });

  it('a range query over sort still orders the matrix by labels', async () => {
    const rev = counted([
      [{ app: 'b' }, 1],
      [{ app: 'a' }, 3],
    ]);
    expect(seriesOrder(await rangeQuery(agg('sort_desc'), rev, 10, 10, 10))).toEqual(['{app="a"}', '{app="b"}']);
  });
});
