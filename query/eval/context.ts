import type { PipelineOptions } from '../pipeline.js';
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
   * Wall-clock deadline (ms since the epoch, as Date.now()). Checked with the clock, not a timer: a timer
   * cannot fire while a query keeps the thread busy, so the signal alone would let it overrun.
   */
  deadline?: number;
  /** The error thrown once `deadline` passes (the querier's timeout error). */
  deadlineError?: () => Error;
  /**
   * Longest stretch (ms) a query runs before handing the thread back to the event loop. Set on the
   * server's main thread so one query cannot starve others, `/ready` or the timers that end it.
   */
  yieldEveryMs?: number;
  /** Largest string (in characters) one template execution may build; line_format/label_format fail the entry past it. */
  templateMaxBytes?: number;
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

  private lastYield = Date.now();

  /** What a pipeline built for this query is bounded by: this query's abort checks and template budget. */
  pipelineOptions(): PipelineOptions {
    return { interrupt: () => this.checkAbort(), templateMaxBytes: this.limits.templateMaxBytes };
  }

  /** Called once per batch (and every few lines by the pipeline): a cancelled or late query stops within one batch of work. */
  checkAbort(): void {
    const s = this.limits.signal;
    if (s?.aborted) throw s.reason ?? new Error('query aborted');
    const d = this.limits.deadline;
    if (d !== undefined && Date.now() >= d) throw this.limits.deadlineError?.() ?? new Error('query deadline exceeded');
  }

  /**
   * checkAbort, then, when the query has held the thread for `yieldEveryMs`, lets the event loop run
   * (other requests, the client's disconnect, the timeout timer) before going on.
   */
  async pace(): Promise<void> {
    this.checkAbort();
    const every = this.limits.yieldEveryMs;
    if (every === undefined) return;
    const now = Date.now();
    if (now - this.lastYield < every) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = Date.now();
    this.checkAbort();
  }
}
