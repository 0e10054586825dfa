/** A token bucket per tenant, in bytes: `rate` per second, holding at most `burst`. */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; last: number }>();

  constructor(private rate: number, private burst: number, private now: () => number = () => performance.now()) {}

  /** Takes `bytes` from the tenant's bucket when it holds enough; otherwise takes nothing and returns false. */
  allow(tenant: string, bytes: number): boolean {
    if (this.rate <= 0) return true;
    const t = this.now();
    let b = this.buckets.get(tenant);
    if (!b) {
      b = { tokens: this.burst, last: t };
      this.buckets.set(tenant, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.last) / 1000) * this.rate);
    b.last = t;
    if (bytes > b.tokens) return false;
    b.tokens -= bytes;
    return true;
  }
}
