/**
 * Bounds how many queries read data at once. A query reads its streams a block at a time and holds at
 * most its limits' worth of results (entries, series × steps), so the memory queries can take is this
 * many times that bound, whatever the number of clients. Queries over the cap wait in a FIFO queue;
 * waiting holds nothing but the request, yet the queue is bounded per tenant too, so a client that
 * floods the server is told to back off (429) instead of queueing without end.
 */
export class TooManyOutstandingError extends Error {
  constructor(
    readonly tenant: string,
    readonly limit: number,
  ) {
    super(
      `too many outstanding requests: tenant ${JSON.stringify(tenant)} already has ${limit} queries waiting for one of the query slots ` +
        `(query_scheduler.max_outstanding_requests_per_tenant: ${limit}; querier.max_concurrent sets the slots); retry later`,
    );
  }
}

export class QueryGate {
  private running = 0;
  private readonly waiting: { tenant: string; go: () => void }[] = [];
  private readonly waitingByTenant = new Map<string, number>();

  constructor(
    /** Queries that run at once (querier.max_concurrent). */
    readonly maxConcurrent: number,
    /** Queries one tenant may have waiting (query_scheduler.max_outstanding_requests_per_tenant). */
    readonly maxQueuedPerTenant: number,
  ) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError(`querier.max_concurrent must be a whole number ≥ 1, got ${maxConcurrent}`);
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free; rejects with TooManyOutstandingError when the tenant's queue is full. */
  async run<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      const n = this.waitingByTenant.get(tenant) ?? 0;
      if (n >= this.maxQueuedPerTenant) throw new TooManyOutstandingError(tenant, this.maxQueuedPerTenant);
      this.waitingByTenant.set(tenant, n + 1);
      // The slot is handed over by release(): running stays counted across the hand-off.
      await new Promise<void>((go) => this.waiting.push({ tenant, go }));
    } else this.running++;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.running--;
      return;
    }
    const n = this.waitingByTenant.get(next.tenant)! - 1;
    if (n === 0) this.waitingByTenant.delete(next.tenant);
    else this.waitingByTenant.set(next.tenant, n);
    next.go();
  }
}
