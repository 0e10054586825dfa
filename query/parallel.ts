/**
 * Splitting one query across threads. The engine stays pure: a source that can run parts of a query
 * elsewhere offers a `ParallelRunner`, which evaluates the per-stream part (pipeline, range windows, the
 * `limit` best entries) over disjoint sets of streams and hands back partial results that the engine
 * merges. Only parts that merge exactly are split: sums, minima and maxima of range aggregations, and
 * log queries (the best `limit` of all streams are among the best `limit` of each set).
 *
 * A query whose pipeline can be slow on a single line (see slow-stages.ts) is `isolate`d: it runs on a
 * worker even when small, as one share when its parts would not merge exactly, so the thread serving
 * every other request never runs its regexes and the worker can be terminated when the query must stop.
 */
import type { LogSelectorExpr, RangeAggregationExpr } from './ast.js';
import type { QueryParams } from './eval/context.js';
import type { Candidate } from './eval/entry-heap.js';
import type { RangeKind } from './eval/range-kind.js';
import type { StepGrid } from './eval/steps.js';
import type { QueryStats } from './result.js';
import type { SelectParams } from './source.js';
import type { Labels } from '../src/model/labels.js';

/** What bounds a part of a query wherever it runs (see EvalLimits). */
export interface PartialBounds {
  /** Date.now() past which the part stops. */
  deadline?: number;
  templateMaxBytes?: number;
  /** Run on a worker whatever the query's size. */
  isolate: boolean;
}

export interface RangePartialRequest extends PartialBounds {
  expr: RangeAggregationExpr;
  grid: StepGrid;
  select: SelectParams;
  optimize: boolean;
  /** The partials merge across streams (sum, min, max): the streams may be split into several shares. */
  split: boolean;
  /** max_query_series: each share stops as soon as it alone holds more series than the query may have. */
  maxSeries?: number;
}

/** A StepStore in transferable form. */
export interface SerializedStepStore {
  labels: Labels;
  kind: Exclude<RangeKind, 'samples'>;
  has: Uint8Array;
  a: Float64Array;
  b: Float64Array;
  c?: Float64Array;
}

/** A SampleStore in transferable form, its samples in time order. */
export interface SerializedSampleStore {
  labels: Labels;
  rel: Float64Array;
  val: Float64Array;
}

export interface RangePartial {
  stores: SerializedStepStore[];
  /** Operations without a partial form (quantile_over_time, rate_counter), only ever from a single share. */
  samples?: SerializedSampleStore[];
  stats: QueryStats;
}

export interface LogPartialRequest extends PartialBounds {
  expr: LogSelectorExpr;
  params: QueryParams;
  optimize: boolean;
}

export interface LogPartial {
  /** The best `limit` entries of the part's streams; `seq` orders entries by stream position, then arrival. */
  candidates: Candidate[];
  stats: QueryStats;
}

export interface ParallelRunner {
  /** Partial results of the range aggregation over disjoint sets of the selected streams, or null to evaluate here. */
  rangeAggregation(req: RangePartialRequest, signal?: AbortSignal): Promise<RangePartial[] | null>;
  /** The best entries of a log query over disjoint sets of the selected streams, or null to evaluate here. */
  logQuery(req: LogPartialRequest, signal?: AbortSignal): Promise<LogPartial[] | null>;
}
