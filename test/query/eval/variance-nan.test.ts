import { describe, expect, it } from 'vitest';
import type { SampleExpr } from '../../../query/ast.js';
import { parseExpr } from '../../../query/parser.js';
import { MemorySource, sec } from './memory-source.js';
import { matrixOf, rangeQuery } from './helpers.js';

/**
 * stddev_over_time/stdvar_over_time follow Welford's algorithm as Loki runs it: a NaN (or an infinity,
 * whose deviation is Inf − Inf) anywhere in the window makes the result NaN; once it leaves the window
 * the finite values give their variance again.
 */

// Values by second: 1s→2, 2s→4, 3s→NaN, 4s→4, 5s→6, 12s→1, 13s→3.
const values: [number, string][] = [[1, '2'], [2, '4'], [3, 'NaN'], [4, '4'], [5, '6'], [12, '1'], [13, '3']];
const src = (vs = values) => new MemorySource([{ labels: { app: 'a' }, entries: vs.map(([t, v]) => ({ ts: sec(t), line: `v=${v}` })) }]);
const q = (op: string) => parseExpr(`${op}({app="a"} | logfmt | unwrap v [5s])`) as SampleExpr;

describe('variance over a window holding NaN', () => {
  it('stdvar_over_time is NaN while the NaN is in the window', async () => {
    const m = matrixOf(await rangeQuery(q('stdvar_over_time'), src(), 2, 13, 1))['{app="a"}']!;
    const at = (t: number) => m.find(([s]) => s === t)?.[1];
    // t=2: (−3,2] holds 2, 4 → mean 3, variance 1.
    expect(at(2)).toBeCloseTo(1, 12);
    // t=3…7: the window holds the NaN of 3s.
    for (const t of [3, 4, 5, 6, 7]) expect(at(t)).toBeNaN();
    // t=8: (3,8] has lost it and holds 4, 6 → 1. t=9: (4,9] holds 6 alone → 0. t=10, 11: empty, no point.
    expect(at(8)).toBeCloseTo(1, 12);
    expect(at(9)).toBe(0);
    expect(at(10)).toBeUndefined();
    expect(at(11)).toBeUndefined();
    // t=12: (7,12] holds 1 → 0; t=13: (8,13] holds 1, 3 → 1.
    expect(at(12)).toBe(0);
    expect(at(13)).toBeCloseTo(1, 12);
  });

  it('stddev_over_time likewise', async () => {
    const m = matrixOf(await rangeQuery(q('stddev_over_time'), src(), 3, 9, 6))['{app="a"}']!;
    expect(m[0]![1]).toBeNaN();
    expect(m[1]).toEqual([9, 0]);
  });

  it('an infinity makes the window NaN too', async () => {
    const m = matrixOf(await rangeQuery(q('stdvar_over_time'), src([[1, '2'], [2, '+Inf'], [3, '4']]), 3, 3, 1))['{app="a"}']!;
    expect(m[0]![1]).toBeNaN();
  });

  it('merging windows of several streams into one series keeps the NaN', async () => {
    const s = new MemorySource([
      { labels: { app: 'a', pod: '1' }, entries: [{ ts: sec(1), line: 'v=1' }, { ts: sec(2), line: 'v=3' }] },
      { labels: { app: 'a', pod: '2' }, entries: [{ ts: sec(1), line: 'v=NaN' }] },
      { labels: { app: 'a', pod: '3' }, entries: [{ ts: sec(2), line: 'v=5' }] },
    ]);
    const grouped = parseExpr('stdvar_over_time({app="a"} | logfmt | unwrap v [5s]) by (app)') as SampleExpr;
    const m = matrixOf(await rangeQuery(grouped, s, 3, 3, 1));
    expect(m['{app="a"}']![0]![1]).toBeNaN();
    // Without the NaN stream: 1, 3, 5 → mean 3, variance 8/3.
    const finite = new MemorySource([
      { labels: { app: 'a', pod: '1' }, entries: [{ ts: sec(1), line: 'v=1' }, { ts: sec(2), line: 'v=3' }] },
      { labels: { app: 'a', pod: '3' }, entries: [{ ts: sec(2), line: 'v=5' }] },
    ]);
    expect(matrixOf(await rangeQuery(grouped, finite, 3, 3, 1))['{app="a"}']![0]![1]).toBeCloseTo(8 / 3, 12);
  });
});
