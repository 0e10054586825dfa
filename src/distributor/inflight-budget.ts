/** Seconds a push refused for the in-flight budget is told to wait: pushes in flight end within about that. */
export const INFLIGHT_RETRY_AFTER_SECONDS = 1;

/** A push that would take the server past `distributor.max_inflight_push_bytes`: a 429 with `Retry-After`. */
export class InflightBudgetError extends Error {
  readonly retryAfterSeconds = INFLIGHT_RETRY_AFTER_SECONDS;
  constructor(readonly wanted: number, readonly othersHeld: number, readonly limit: number) {
    super(
      `too many push bytes in flight: this push needs ${wanted} bytes while other pushes hold ${othersHeld} bytes being read, decoded or written, over distributor.max_inflight_push_bytes (${limit} bytes); retry after ${INFLIGHT_RETRY_AFTER_SECONDS}s`,
    );
  }
}

/**
 * What one push holds of the budget. It grows as the push buffers its body, inflates it and decodes it,
 * and is given back once, whatever way the push ends.
 */
export class InflightReservation {
  bytes = 0;
  private released = false;

  constructor(private budget: InflightBudget) {}

  /** Takes `n` more bytes, or throws InflightBudgetError (taking nothing) when that passes the budget. */
  charge(n: number): void {
    if (this.released) throw new Error('charge after release');
    this.budget.take(this, n);
    this.bytes += n;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}

/**
 * `distributor.max_inflight_push_bytes`: the bytes of push bodies all pushes together may hold at once
 * while they are read, inflated, decoded and written to the WAL. It bounds what concurrent pushes cost
 * by bytes instead of by the machine's memory. A push that holds every byte in flight may always grow —
 * so one push bigger than the budget still goes through alone (its size is bounded by the body and
 * decompression caps) and the server can never refuse everything forever. `limit` 0 turns it off.
 */
export class InflightBudget {
  held = 0;

  constructor(readonly limit: number) {}

  reserve(): InflightReservation {
    return new InflightReservation(this);
  }

  /** @internal by InflightReservation */
  take(r: InflightReservation, n: number): void {
    const others = this.held - r.bytes;
    if (this.limit > 0 && others > 0 && this.held + n > this.limit) throw new InflightBudgetError(r.bytes + n, others, this.limit);
    this.held += n;
  }

  /** @internal by InflightReservation */
  give(n: number): void {
    this.held -= n;
  }
}
