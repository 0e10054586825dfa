import type { RangeOp } from '../ast.js';

/**
 * How a range operation aggregates a window, which decides the state kept per window and how partial
 * results of several streams feeding the same series combine:
 * - sum: count and sum (count/rate/bytes/sum/avg/absent), combine by adding;
 * - min, max, first, last: one value (plus its time for first/last);
 * - var: count, mean and squared deviations (stddev/stdvar), combined with Chan's formula;
 * - samples: no partial form (quantile, rate_counter): the series keeps its samples and slides at the end.
 */
export type RangeKind = 'sum' | 'min' | 'max' | 'first' | 'last' | 'var' | 'samples';

export function rangeKind(op: RangeOp): RangeKind {
  switch (op) {
    case 'count_over_time':
    case 'rate':
    case 'bytes_over_time':
    case 'bytes_rate':
    case 'absent_over_time':
    case 'sum_over_time':
    case 'avg_over_time':
      return 'sum';
    case 'min_over_time':
      return 'min';
    case 'max_over_time':
      return 'max';
    case 'first_over_time':
      return 'first';
    case 'last_over_time':
      return 'last';
    case 'stddev_over_time':
    case 'stdvar_over_time':
      return 'var';
    case 'quantile_over_time':
    case 'rate_counter':
      return 'samples';
  }
}

/** NaN loses to any number in min/max, as in Prometheus' min_over_time/max_over_time. */
export function lessForMin(a: number, b: number): boolean {
  return a < b || (Number.isNaN(b) && !Number.isNaN(a));
}

export function greaterForMax(a: number, b: number): boolean {
  return a > b || (Number.isNaN(b) && !Number.isNaN(a));
}
