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
  /**
   * false turns off the rewrites that must not change results — grouping pushed into range aggregations,
   * parsers extracting only the labels a query reads — so tests can compare both evaluations.
   */
  optimize?: boolean;
  /**
   * Log queries split across threads: where each share publishes the worst entry it keeps once it holds
   * `limit` of them, and reads the tightest of the others'. Nothing worse than another share's worst kept
   * entry can make the overall result, so no share reads far past what it needs.
   */
  sharedBound?: SharedBound;
}

/** Relative times (see RelClock) shared between the threads of one log query; NaN when none yet. */
export interface SharedBound {
  read(): number;
  publish(rel: number): void;
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
