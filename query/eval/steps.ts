import { QueryParamError } from './errors.js';

/** Loki refuses more points per series than this; so do we, before allocating per-step arrays. */
export const MAX_POINTS_PER_SERIES = 11_000;

/** The evaluation instants of a metric query: start, start+step, … ≤ end (one instant for instant queries). */
export interface StepGrid {
  start: bigint;
  step: bigint;
  count: number;
}

export function stepGrid(start: bigint, end: bigint, step: bigint, instant: boolean): StepGrid {
  if (instant) return { start: end, step: 0n, count: 1 };
  if (step <= 0n) throw new QueryParamError('zero or negative query resolution step widths are not accepted. Try a positive integer: step must be a positive duration for range queries');
  if (end < start) throw new QueryParamError('end timestamp must not be before start time: end must not be before start');
  const n = (end - start) / step + 1n;
  if (n > BigInt(MAX_POINTS_PER_SERIES)) {
    throw new QueryParamError(`exceeded maximum resolution of ${MAX_POINTS_PER_SERIES.toLocaleString('en-US')} points per timeseries. Try decreasing the query resolution (?step=XX): a larger step gives fewer points`);
  }
  return { start, step, count: Number(n) };
}

export function stepTime(grid: StepGrid, i: number): bigint {
  return grid.start + BigInt(i) * grid.step;
}

/** Step instants are reported in milliseconds, truncated, as Loki's samples carry them. */
export function toMillis(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

/**
 * What Loki's query frontend does to metric range queries before evaluation: start and end rounded down
 * to a multiple of the step (at millisecond precision), so consecutive refreshes share step instants.
 * The engine itself does not align; the HTTP layer calls this.
 */
export function alignToStep(start: bigint, end: bigint, step: bigint): { start: bigint; end: bigint } {
  const stepMs = step / 1_000_000n;
  if (stepMs <= 0n) return { start, end };
  const floor = (t: bigint) => {
    const ms = t / 1_000_000n;
    let q = ms / stepMs;
    if (ms < 0n && ms % stepMs !== 0n) q -= 1n;
    return q * stepMs * 1_000_000n;
  };
  return { start: floor(start), end: floor(end) };
}
