import { describe, expect, it } from 'vitest';
import type { RangeOp } from '../../../query/ast.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';
import { by, matrixOf, rangeAgg, rangeQuery, selector, unwrap } from './helpers.js';

/**
 * The sliding-window engine against a deliberately naive evaluator written here: for every step, collect
 * the window's samples from scratch and aggregate them. Random data with many samples on exact step
 * boundaries, several streams merging into one series, steps shorter and longer than the range, offsets.
 */

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Sample {
  t: number;
  v: number;
  order: number;
}

function naive(op: RangeOp, samples: Sample[], range: number, end: number, param?: number): number | undefined {
  if (samples.length === 0) return undefined;
  const vs = samples.map((s) => s.v);
  const sum = vs.reduce((a, b) => a + b, 0);
  const n = vs.length;
  const mean = sum / n;
  const variance = vs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  switch (op) {
    case 'sum_over_time':
      return sum;
    case 'avg_over_time':
      return mean;
    case 'min_over_time':
      return Math.min(...vs);
    case 'max_over_time':
      return Math.max(...vs);
    case 'first_over_time':
      return vs[0];
    case 'last_over_time':
      return vs[n - 1];
    case 'stdvar_over_time':
      return variance;
    case 'stddev_over_time':
      return Math.sqrt(variance);
    case 'rate':
      return sum / range;
    case 'count_over_time':
      return n;
    case 'quantile_over_time': {
      const sorted = [...vs].sort((a, b) => a - b);
      const rank = param! * (n - 1);
      const lo = Math.floor(rank);
      const hi = Math.min(n - 1, lo + 1);
      return sorted[lo]! * (1 - (rank - lo)) + sorted[hi]! * (rank - lo);
    }
    case 'rate_counter': {
      if (n < 2) return 0;
      let inc = vs[n - 1]! - vs[0]!;
      for (let i = 1; i < n; i++) if (vs[i]! < vs[i - 1]!) inc += vs[i - 1]!;
      // Prometheus' extrapolation towards the window (end − range, end].
      const ts = samples.map((s) => s.t);
      const span = ts[n - 1]! - ts[0]!;
      const avg = span / (n - 1);
      let head = ts[0]! - (end - range);
      let tail = end - ts[n - 1]!;
      if (head >= avg * 1.1) head = avg / 2;
      if (inc > 0 && vs[0]! >= 0) head = Math.min(head, (span * vs[0]!) / inc);
      if (tail >= avg * 1.1) tail = avg / 2;
      return (inc * (span + head + tail)) / span / range;
    }
    default:
      throw new Error(op);
  }
}

const OPS: [RangeOp, number?][] = [
  ['count_over_time'],
  ['sum_over_time'],
  ['avg_over_time'],
  ['min_over_time'],
  ['max_over_time'],
  ['first_over_time'],
  ['last_over_time'],
  ['stdvar_over_time'],
  ['stddev_over_time'],
  ['quantile_over_time', 0.75],
  ['rate_counter'],
  ['rate'],
];

const SHAPES = [
  { range: 10, step: 2, offset: 0 },
  { range: 7, step: 3, offset: 0 },
  { range: 3, step: 10, offset: 0 },
  { range: 10, step: 10, offset: 5 },
  { range: 30, step: 1, offset: 0 },
];

describe('range aggregations match a naive evaluator', () => {
  for (const seed of [1, 2, 3]) {
    const rand = rng(seed);
    // 12 streams in 2 apps; each stream's unwrapped value is its label v.
    const streams: MemStream[] = [];
    const all: { app: string; t: number; v: number; order: number }[] = [];
    let order = 0;
    for (let i = 0; i < 12; i++) {
      const app = i % 2 === 0 ? 'a' : 'b';
      const v = Math.round(rand() * 200 - 50) / 4;
      const times = Array.from({ length: 1 + Math.floor(rand() * 25) }, () => (rand() < 0.4 ? Math.floor(rand() * 100) : Math.round(rand() * 100_000) / 1000)).sort(
        (x, y) => x - y,
      );
      streams.push({ labels: { app, pod: String(i), v: String(v) }, entries: times.map((t) => ({ ts: sec(t), line: 'x' })) });
      for (const t of times) all.push({ app, t, v, order: order++ });
    }
    for (const shape of SHAPES) {
      for (const [op, param] of OPS) {
        it(`seed ${seed}, range ${shape.range}s step ${shape.step}s offset ${shape.offset}s: ${op}`, async () => {
          const expr = rangeAgg(op, selector([{ name: 'app', op: '=~', value: 'a|b' }]), shape.range, {
            offsetSeconds: shape.offset,
            grouping: by('app'),
            ...(op === 'count_over_time' ? {} : { unwrap: unwrap('v') }),
            ...(param !== undefined ? { param } : {}),
          });
          const start = 20;
          const end = 110;
          const got = matrixOf(await rangeQuery(expr, new MemorySource(streams, 4), start, end, shape.step));
          const want: Record<string, [number, number][]> = {};
          for (const app of ['a', 'b']) {
            const pts: [number, number][] = [];
            for (let t = start; t <= end; t += shape.step) {
              const hi = t - shape.offset;
              const lo = hi - shape.range;
              // Samples of one series sorted by time; ties keep stream order, as the engine promises.
              const win = all.filter((s) => s.app === app && s.t > lo && s.t <= hi).sort((x, y) => x.t - y.t || x.order - y.order);
              const v = naive(op, win, shape.range, hi, param);
              if (v !== undefined) pts.push([t, v]);
            }
            if (pts.length) want[`{app="${app}"}`] = pts;
          }
          expect(Object.keys(got)).toEqual(Object.keys(want));
          for (const k of Object.keys(want)) {
            const g = got[k]!;
            const w = want[k]!;
            expect(g.map((p) => p[0])).toEqual(w.map((p) => p[0]));
            g.forEach(([, gv], i) => {
              const wv = w[i]![1];
              // Samples sharing one timestamp leave rate_counter no interval to divide by: NaN on both sides.
              if (Number.isNaN(wv)) expect(gv).toBeNaN();
              else expect(Math.abs(gv - wv)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(wv)));
            });
          }
        });
      }
    }
  }
});
