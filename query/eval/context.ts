import type { LogSource } from '../source.js';
import { emptyStats, type QueryStats } from '../result.js';
import type { StepGrid } from './steps.js';

export interface QueryParams {
  /** Nanoseconds; for an instant query start = end = the query time. */
  start: bigint;
  end: bigint;
  /** Nanoseconds between evaluation steps of a metric range query (ignored for instant queries). */
  step: bigint;
  /** Log queries: return at most one entry per interval (Loki's `interval` parameter). */
  interval?: bigint;
  direction: 'forward' | 'backward';
  /** Log queries: the maximum number of entries returned. */
  limit: number;
  instant: boolean;
}

export interface EvalLimits {
  /** Metric queries: the most series a result may have. */
  maxSeries?: number;
  /** Log queries: the largest `limit` accepted. */
  maxEntries?: number;
  signal?: AbortSignal;
}

/** What every evaluation step needs: parameters, the data source, limits, and the counters it adds to. */
export class EvalContext {
  readonly stats: QueryStats = emptyStats();

  constructor(
    readonly params: QueryParams,
    readonly source: LogSource,
    readonly limits: EvalLimits,
    readonly grid: StepGrid,
  ) {}

  /** Called once per batch: a cancelled query stops within one batch of work. */
  checkAbort(): void {
    const s = this.limits.signal;
    if (s?.aborted) throw s.reason ?? new Error('query aborted');
  }
}
