/** A token bucket per tenant, in bytes: `rate` per second, holding at most `burst`. */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; last: number }>();

  constructor(private rate: number, private burst: number, private now: () => number = () => performance.now()) {}

  /** Bytes the tenant could take now, without taking them (Infinity when the limit is off). */
  available(tenant: string): number {
    if (this.rate <= 0) return Infinity;
    const b = this.buckets.get(tenant);
    if (!b) return this.burst;
    return Math.min(this.burst, b.tokens + ((this.now() - b.last) / 1000) * this.rate);
  }

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
