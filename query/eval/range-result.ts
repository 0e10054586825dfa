import type { Matcher, RangeAggregationExpr } from '../ast.js';
import { absentLabels } from './absent-labels.js';
import { PipelineError, QueryEvalError } from './errors.js';
import { counterRate, quantile } from './range-functions.js';
import type { SampleStore, StepStore } from './range-store.js';
import { SeriesSet } from './series-set.js';
import { hasErrorLabel } from './label-set.js';

export interface WindowGrid {
  count: number;
  /** Each step's window end, relative (see RelClock). */
  ends: Float64Array;
  /** The range in nanoseconds. */
  rangeN: number;
  unwrapped: boolean;
}

/**
 * Turns the per-step partials of a range aggregation into values, and slides the windows of the
 * operations that kept whole samples. A series carrying `__error__` with any point fails the query.
 */
export function rangeResult(expr: RangeAggregationExpr, stepStores: Iterable<StepStore>, sampleStores: Iterable<SampleStore>, grid: WindowGrid): SeriesSet {
  const { count, ends, rangeN } = grid;
  const rangeSeconds = rangeN / 1e9;
  const out = new SeriesSet(count);
  for (const store of stepStores) {
    if (!store.has.includes(1)) continue;
    if (hasErrorLabel(store.labels)) throw new PipelineError(store.labels);
    const s = out.series(store.labels);
    for (let i = 0; i < count; i++) {
      if (!store.has[i]) continue;
      s.present[i] = 1;
      s.values[i] = finalValue(expr.op, store, i, rangeSeconds, grid.unwrapped);
    }
  }
  for (const store of sampleStores) {
    store.sort();
    const s = out.series(store.labels);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < count; i++) {
      while (hi < store.length && store.rel[hi]! <= ends[i]!) hi++;
      while (lo < hi && store.rel[lo]! <= ends[i]! - rangeN) lo++;
      if (hi === lo) continue;
      if (hasErrorLabel(store.labels)) throw new PipelineError(store.labels);
      s.present[i] = 1;
      s.values[i] =
        expr.op === 'quantile_over_time'
          ? quantile(expr.param!, store.val.subarray(lo, hi))
          : counterRate(store.rel, store.val, lo, hi, ends[i]! - rangeN, ends[i]!, rangeSeconds);
    }
  }
  out.prune();
  return out;
}

function finalValue(op: RangeAggregationExpr['op'], s: StepStore, i: number, rangeSeconds: number, unwrapped: boolean): number {
  switch (op) {
    case 'count_over_time':
      return s.b[i]!;
    case 'rate':
      // With unwrap, Loki's rate is the per-second sum of the values.
      return (unwrapped ? s.a[i]! : s.b[i]!) / rangeSeconds;
    case 'bytes_over_time':
    case 'sum_over_time':
      return s.a[i]!;
    case 'bytes_rate':
      return s.a[i]! / rangeSeconds;
    case 'avg_over_time':
      return s.a[i]! / s.b[i]!;
    case 'min_over_time':
    case 'max_over_time':
    case 'first_over_time':
    case 'last_over_time':
      return s.a[i]!;
    case 'stdvar_over_time':
      return s.b[i]! / s.c![i]!;
    case 'stddev_over_time':
      return Math.sqrt(s.b[i]! / s.c![i]!);
    default:
      throw new QueryEvalError(`unsupported range operation ${op}`);
  }
}

/** absent_over_time: 1 at every step where no series had a sample, labelled from the selector's equality matchers. */
export function absentResult(matchers: Matcher[], stores: Iterable<StepStore>, count: number): SeriesSet {
  const any = new Uint8Array(count);
  for (const s of stores) for (let i = 0; i < count; i++) if (s.has[i]) any[i] = 1;
  const out = new SeriesSet(count);
  const s = out.series(absentLabels(matchers));
  for (let i = 0; i < count; i++) {
    if (any[i]) continue;
    s.present[i] = 1;
    s.values[i] = 1;
  }
  out.prune();
  return out;
}
