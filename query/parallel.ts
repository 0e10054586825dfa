/**
 * Splitting one query across threads. The engine stays pure: a source that can run parts of a query
 * elsewhere offers a `ParallelRunner`, which evaluates the per-stream part (pipeline, range windows, the
 * `limit` best entries) over disjoint sets of streams and hands back partial results that the engine
 * merges. Only parts that merge exactly are split: sums, minima and maxima of range aggregations, and
 * log queries (the best `limit` of all streams are among the best `limit` of each set).
 */
import type { LogSelectorExpr, RangeAggregationExpr } from './ast.js';
import type { QueryParams } from './eval/context.js';
import type { Candidate } from './eval/entry-heap.js';
import type { RangeKind } from './eval/range-kind.js';
import type { StepGrid } from './eval/steps.js';
import type { QueryStats } from './result.js';
import type { SelectParams } from './source.js';
import type { Labels } from '../src/model/labels.js';

export interface RangePartialRequest {
  expr: RangeAggregationExpr;
  grid: StepGrid;
  select: SelectParams;
  optimize: boolean;
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

export interface RangePartial {
  stores: SerializedStepStore[];
  stats: QueryStats;
}

export interface LogPartialRequest {
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
