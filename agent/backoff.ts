/**
 * Capped exponential backoff with jitter: attempt n waits a random time in [d/2, d] with d = min·2ⁿ capped at
 * max, so agents that failed together do not retry in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.attempt;
  }

  /** The wait before the next attempt. */
  next(): number {
    const d = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 40));
    this.attempt++;
    return Math.round(d / 2 + this.random() * (d / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
