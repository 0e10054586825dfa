import { describe, expect, it } from 'vitest';
import type { SampleExpr } from '../../../query/ast.js';
import { parseExpr } from '../../../query/parser.js';
import { parseFails } from '../parse-error-of.js';
import { MemorySource, sec } from './memory-source.js';
import { instantQuery, matrixOf, rangeQuery, vectorOf } from './helpers.js';

/**
 * rate_counter is Prometheus' rate() over the unwrapped values. Every expectation below is worked out by
 * hand from Prometheus' documented extrapolation:
 *   increase  = last − first + (the value before every drop)
 *   sampled   = lastT − firstT, avg = sampled / (n − 1), threshold = 1.1 · avg
 *   toStart   = firstT − windowStart, replaced by avg/2 when ≥ threshold, then capped by the zero point
 *               sampled · first / increase (when increase > 0 and first ≥ 0)
 *   toEnd     = windowEnd − lastT, replaced by avg/2 when ≥ threshold
 *   rate      = increase · (sampled + toStart + toEnd) / sampled / rangeSeconds
 */

/** One stream `{app="c"}` whose line at each second carries the counter as `v=<value>`. */
function counter(points: [number, number][]): MemorySource {
  return new MemorySource([{ labels: { app: 'c' }, entries: points.map(([t, v]) => ({ ts: sec(t), line: `v=${v}` })) }]);
}

const q = (range = '1m', more = '') => parseExpr(`rate_counter({app="c"} | logfmt | unwrap v [${range}]${more})`) as SampleExpr;

async function at(src: MemorySource, t: number, expr = q()): Promise<number | undefined> {
  const v = vectorOf(await instantQuery(expr, src, t));
  expect(v.length).toBeLessThanOrEqual(1);
  return v[0]?.[1];
}

describe('rate_counter extrapolation', () => {
  it('extrapolates all the way to both edges when the gaps are under 1.1 sample intervals', async () => {
    // Window (0, 60]: samples every 10s from 5s to 55s, 10 → 60. increase 50, sampled 50s, avg 10s,
    // threshold 11s; toStart 5 and toEnd 5 both under it; zero point 50·10/50 = 10s is further than 5s.
    // 50 · (50 + 5 + 5) / 50 / 60 = 1.
    const src = counter([[5, 10], [15, 20], [25, 30], [35, 40], [45, 50], [55, 60]]);
    expect(await at(src, 60)).toBeCloseTo(1, 12);
  });

  it('extrapolates by half an interval from an edge that is too far', async () => {
    // Window (0, 60]: 30s→100, 40s→110, 50s→120. increase 20, sampled 20, avg 10, threshold 11.
    // toStart 30 ≥ 11 → 5; zero point 20·100/20 = 100 is further. toEnd 10 < 11 stays 10.
    // 20 · (20 + 5 + 10) / 20 / 60 = 35/60.
    const src = counter([[30, 100], [40, 110], [50, 120]]);
    expect(await at(src, 60)).toBeCloseTo(35 / 60, 12);
  });

  it('treats gaps of 1.1 intervals and more as too far', async () => {
    // Window (0, 60]: 11s→1000, 21s→1010, 31s→1020, 41s→1030, 49s→1040. sampled 38, avg 9.5, threshold 10.45.
    // toStart 11 ≥ 10.45 → 4.75; toEnd 60 − 49 = 11 ≥ 10.45 → 4.75. increase 40.
    // 40 · (38 + 4.75 + 4.75) / 38 / 60 = 40 · 47.5 / 38 / 60 = 5/6.
    const src = counter([[11, 1000], [21, 1010], [31, 1020], [41, 1030], [49, 1040]]);
    expect(await at(src, 60)).toBeCloseTo(5 / 6, 12);
  });

  it('never extrapolates the start below zero', async () => {
    // Window (0, 60]: 30s→1, 40s→11, 50s→21. increase 20; toStart 30 → 5, then the zero point
    // 20·1/20 = 1s is closer: toStart 1. toEnd 10. 20 · (20 + 1 + 10) / 20 / 60 = 31/60.
    expect(await at(counter([[30, 1], [40, 11], [50, 21]]), 60)).toBeCloseTo(31 / 60, 12);
    // Starting at 0 the counter began with the first sample: no extrapolation backwards at all.
    // 20 · (20 + 0 + 10) / 20 / 60 = 0.5.
    expect(await at(counter([[30, 0], [40, 10], [50, 20]]), 60)).toBeCloseTo(0.5, 12);
    // Window (0, 30]: 8s→2, 18s→12, 28s→22. toStart 8 < 11 would reach the edge, but the zero point is
    // 20·2/20 = 2s back. toEnd 2. 20 · (20 + 2 + 2) / 20 / 30 = 0.8.
    expect(await at(counter([[8, 2], [18, 12], [28, 22]]), 30, q('30s'))).toBeCloseTo(0.8, 12);
  });

  it('does not cap at zero when the first value is negative', async () => {
    // 30s→−10, 40s→0, 50s→10: increase 20, toStart 30 → 5 (no zero point for a negative start), toEnd 10.
    // 20 · 35 / 20 / 60 = 35/60.
    expect(await at(counter([[30, -10], [40, 0], [50, 10]]), 60)).toBeCloseTo(35 / 60, 12);
  });

  it('adds back the value before every drop', async () => {
    // Window (0, 60]: 10s→5, 20s→10, 30s→2 (reset: +10), 40s→7, 50s→12. increase 12 − 5 + 10 = 17.
    // sampled 40, avg 10, threshold 11; toStart 10 (zero point 40·5/17 ≈ 11.8 is further); toEnd 10.
    // 17 · (40 + 10 + 10) / 40 / 60 = 25.5/60.
    expect(await at(counter([[10, 5], [20, 10], [30, 2], [40, 7], [50, 12]]), 60)).toBeCloseTo(25.5 / 60, 12);
    // Any decrease is a reset, however small: 10 → 9.5 adds 10. 10s→10, 20s→9.5, 30s→10.5:
    // increase 0.5 + 10 = 10.5, sampled 20, avg 10; toStart 10 (zero point 20·10/10.5 ≈ 19 further),
    // toEnd 30 → 5. 10.5 · (20 + 10 + 5) / 20 / 60 = 0.30625.
    expect(await at(counter([[10, 10], [20, 9.5], [30, 10.5]]), 60)).toBeCloseTo(0.30625, 12);
  });

  it('gives 0 for a window holding one sample', async () => {
    expect(await at(counter([[30, 42]]), 60)).toBe(0);
  });

  it('gives NaN when every sample of the window shares one timestamp, as Loki computes it', async () => {
    expect(await at(counter([[30, 1], [30, 5]]), 60)).toBeNaN();
  });

  it('measures the edges from each step of a range query, shifted by offset', async () => {
    const src = counter([[5, 10], [15, 20], [25, 30], [35, 40], [45, 50], [55, 60], [65, 70]]);
    const m = matrixOf(await rangeQuery(q(), src, 60, 70, 10));
    // t=60 as in the first test: 1. t=70, window (10, 70]: 15s→20 … 65s→70, increase 50, sampled 50,
    // avg 10; toStart 5, toEnd 5: 50 · 60 / 50 / 60 = 1.
    expect(m['{app="c"}']!.map(([t]) => t)).toEqual([60, 70]);
    expect(m['{app="c"}']![0]![1]).toBeCloseTo(1, 12);
    expect(m['{app="c"}']![1]![1]).toBeCloseTo(1, 12);
    // offset 1m at t=120 reads the window (0, 60] again.
    expect(await at(src, 120, q('1m', ' offset 1m'))).toBeCloseTo(1, 12);
    // At t=64 the window (4, 64] still holds 5s…55s: toStart 1, toEnd 9 (< 11), 50 · (50 + 1 + 9) / 50 / 60 = 1.
    // At t=69, window (9, 69]: 15s…65s, toStart 6, toEnd 4: again 60/50 · 50 / 60 = 1.
    expect(await at(src, 64)).toBeCloseTo(1, 12);
    expect(await at(src, 69)).toBeCloseTo(1, 12);
    // At t=80, window (20, 80]: 25s→30 … 65s→70, increase 40, sampled 40, avg 10, toStart 5, toEnd 15 → 5.
    // 40 · (40 + 5 + 5) / 40 / 60 = 50/60.
    expect(await at(src, 80)).toBeCloseTo(50 / 60, 12);
  });
});

describe('rate_counter validation', () => {
  const fails = parseFails;

  it('requires unwrap, with Loki wording', () => {
    const e = fails('rate_counter({app="c"}[1m])');
    expect(e.message).toContain('invalid aggregation rate_counter without unwrap');
    expect([e.line, e.col]).toEqual([1, 1]);
  });

  it('refuses by and without, with Loki wording', () => {
    for (const g of ['by (app)', 'without (app)']) {
      const e = fails(`rate_counter({app="c"} | logfmt | unwrap v [1m]) ${g}`);
      expect(e.message).toContain('grouping not allowed for rate_counter aggregation');
      expect(e.col).toBe(50);
    }
  });

  it('takes no parameter', () => {
    expect(fails('rate_counter(5, {app="c"} | unwrap v [1m])').message).toContain('parameter 5 not supported for operation rate_counter');
  });
});
