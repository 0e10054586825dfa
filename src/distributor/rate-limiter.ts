/**
 * A token bucket per tenant, in bytes: `rate` per second, holding at most `burst`. A call may give the
 * tenant's own rate and burst (per-tenant overrides); a changed limit applies from that call on.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; last: number }>();

  constructor(private rate: number, private burst: number, private now: () => number = () => performance.now()) {}

  /** Takes `bytes` from the tenant's bucket when it holds enough; otherwise takes nothing and returns false. */
  allow(tenant: string, bytes: number, rate = this.rate, burst = this.burst): boolean {
    if (rate <= 0) return true;
    const t = this.now();
    let b = this.buckets.get(tenant);
    if (!b) {
      b = { tokens: burst, last: t };
      this.buckets.set(tenant, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((t - b.last) / 1000) * rate);
    b.last = t;
    if (bytes > b.tokens) return false;
    b.tokens -= bytes;
    return true;
  }
}
