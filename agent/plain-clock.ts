/**
 * Stable timestamps for plain lines, which carry none of their own.
 *
 * A line re-read after a restart must get the timestamp it was first sent with, or the server's duplicate drop
 * (same stream, timestamp and line) cannot absorb it. So a plain line's timestamp is derived from its byte
 * offset: `anchor.ts + (offset - anchor.offset)` nanoseconds, where an anchor is a (offset, read time) pair.
 * A new anchor is taken when the derived time falls more than `maxLagNs` behind the clock, so timestamps stay
 * within a second of the read time. Anchors are saved with the file's position *before* a batch using them is
 * sent (`coveredTo` marks the offsets already sent), so after a restart every re-read line below `coveredTo`
 * is stamped exactly as before.
 */
export type Anchor = [offset: number, ts: bigint];

export class PlainClock {
  /** Sorted by offset. */
  anchors: Anchor[] = [];
  /** Lines starting below this offset have been handed to a sent batch. */
  coveredTo = 0;

  constructor(private readonly maxLagNs = 1_000_000_000n) {}

  tsFor(start: number, now: bigint): bigint {
    const a = this.anchorAt(start);
    if (a && start < this.coveredTo) return a[1] + BigInt(start - a[0]);
    if (a) {
      const derived = a[1] + BigInt(start - a[0]);
      if (derived >= now - this.maxLagNs) return derived;
      return this.newAnchor(start, derived > now ? derived : now);
    }
    return this.newAnchor(start, now);
  }

  private anchorAt(start: number): Anchor | undefined {
    const as = this.anchors;
    for (let i = as.length - 1; i >= 0; i--) if (as[i]![0] <= start) return as[i];
    return undefined;
  }

  private newAnchor(start: number, ts: bigint): bigint {
    // Anchors at or past `start` were never used for a sent line (start ≥ coveredTo): replace them.
    while (this.anchors.length > 0 && this.anchors[this.anchors.length - 1]![0] >= start) this.anchors.pop();
    this.anchors.push([start, ts]);
    return ts;
  }

  /** Drops anchors no line at or after `acked` can need. */
  trim(acked: number): void {
    let keepFrom = 0;
    for (let i = 0; i < this.anchors.length; i++) if (this.anchors[i]![0] <= acked) keepFrom = i;
    if (keepFrom > 0) this.anchors = this.anchors.slice(keepFrom);
  }

  reset(): void {
    this.anchors = [];
    this.coveredTo = 0;
  }
}
