/**
 * How long one query may run: until `limits.query_timeout`, until its caller gives up (the HTTP client
 * left, the tail socket closed, the server is stopping), whichever comes first. The deadline is checked
 * against the clock as well as through the signal, because a timer cannot fire while the query keeps the
 * thread busy.
 */

/** Loki's answer to a query past its deadline (HTTP 504). */
export const TIMEOUT_MESSAGE = 'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed';

/** The query ran past `limits.query_timeout`: answered 504 as Loki does. */
export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`${TIMEOUT_MESSAGE} (limits.query_timeout: ${formatSeconds(timeoutMs)})`);
  }
}

/**
 * The query was abandoned before it finished: `status` is what the HTTP layer answers, if anyone is still
 * listening (499, Loki's "client closed request", when the client left; 503 when the server is stopping).
 */
export class QueryCancelledError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The client closed its connection before the answer: Loki's 499 text. */
export function clientGone(): QueryCancelledError {
  return new QueryCancelledError(499, 'the request was cancelled by the client');
}

export function serverStopping(): QueryCancelledError {
  return new QueryCancelledError(503, 'the server is shutting down; retry the query');
}

/** Longest stretch a query runs on the server's main thread before letting other requests in. */
export const MAIN_THREAD_SLICE_MS = 10;

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/**
 * What a loop over streams on the main thread needs from the query it serves: `due()` per item (throws
 * once the query must stop), `pace()` when it is true, and `signal` for the I/O it starts.
 */
export interface Pacer {
  readonly signal: AbortSignal;
  due(): boolean;
  pace(): Promise<void>;
}

export class QueryLifetime implements Pacer {
  /** Aborted, with the QueryTimeoutError or the caller's QueryCancelledError as reason, when the query must stop. */
  readonly signal: AbortSignal;
  /** Date.now() past which the query has timed out. */
  readonly deadline: number;
  private readonly ctl = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly outer: AbortSignal | undefined;
  private readonly onOuterAbort = () => this.abort(this.outer?.reason);
  private lastYield = Date.now();

  constructor(
    private readonly timeoutMs: number,
    outer?: AbortSignal,
  ) {
    this.signal = this.ctl.signal;
    this.deadline = Date.now() + timeoutMs;
    this.timer = setTimeout(() => this.ctl.abort(this.timeoutError()), timeoutMs);
    this.outer = outer;
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  private abort(reason: unknown): void {
    this.ctl.abort(reason instanceof QueryCancelledError || reason instanceof QueryTimeoutError ? reason : clientGone());
  }

  timeoutError(): QueryTimeoutError {
    return new QueryTimeoutError(this.timeoutMs);
  }

  /** Throws the reason the query must stop, if there is one. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason;
    if (Date.now() >= this.deadline) {
      this.ctl.abort(this.timeoutError());
      throw this.signal.reason;
    }
  }

  /**
   * check(), and whether the query has held the main thread for a slice: a tight loop calls this per item
   * and awaits pace() only when it is true, so cheap items cost a clock read, not a promise each.
   */
  due(): boolean {
    this.check();
    return Date.now() - this.lastYield >= MAIN_THREAD_SLICE_MS;
  }

  /** check(), and every MAIN_THREAD_SLICE_MS a turn of the event loop for everything else. */
  async pace(): Promise<void> {
    this.check();
    if (Date.now() - this.lastYield < MAIN_THREAD_SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = Date.now();
    this.check();
  }

  /** `p`, or the reason the query must stop as soon as there is one (a slow ingester does not hold it up). */
  race<T>(p: Promise<T>): Promise<T> {
    this.check();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason);
      this.signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /**
   * The error the caller should see for `err`: once the query had to stop, whatever it failed with on the
   * way out (an aborted worker, a read cut short) is reported as the reason it stopped.
   */
  outcome(err: unknown): unknown {
    if (err instanceof QueryTimeoutError || err instanceof QueryCancelledError) return err;
    if (this.signal.aborted) return this.signal.reason;
    if (Date.now() >= this.deadline) return this.timeoutError();
    return err;
  }

  /** Releases the timer and the caller's signal; call when the query is over. */
  end(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}
