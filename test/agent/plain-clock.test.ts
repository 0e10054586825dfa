import { describe, expect, it } from 'vitest';
import { PlainClock } from '../../agent/plain-clock.js';

const S = 1_000_000_000n;

describe('plain line timestamps', () => {
  it('derives timestamps from the byte offset, strictly increasing', () => {
    const c = new PlainClock();
    const t0 = 1000n * S;
    expect(c.tsFor(0, t0)).toBe(t0);
    expect(c.tsFor(10, t0)).toBe(t0 + 10n);
    expect(c.tsFor(25, t0)).toBe(t0 + 25n);
  });

  it('re-anchors when the derived time lags the clock by more than a second', () => {
    const c = new PlainClock();
    const t0 = 1000n * S;
    c.tsFor(0, t0);
    expect(c.tsFor(10, t0 + S / 2n)).toBe(t0 + 10n);
    expect(c.tsFor(20, t0 + 5n * S)).toBe(t0 + 5n * S);
    expect(c.anchors).toHaveLength(2);
  });

  it('gives re-read lines below coveredTo exactly the timestamps they were sent with', () => {
    const first = new PlainClock();
    const t0 = 1000n * S;
    const sent = [first.tsFor(0, t0), first.tsFor(10, t0 + 3n * S), first.tsFor(20, t0 + 3n * S)];
    first.coveredTo = 30;
    // After a restart: the saved anchors and coverage, read much later.
    const again = new PlainClock();
    again.anchors = first.anchors.map((a) => [...a] as [number, bigint]);
    again.coveredTo = first.coveredTo;
    const later = t0 + 3600n * S;
    expect([again.tsFor(0, later), again.tsFor(10, later), again.tsFor(20, later)]).toEqual(sent);
    // Beyond what was sent, time moves on.
    expect(again.tsFor(30, later)).toBe(later);
  });

  it('forgets anchors no unacknowledged line needs', () => {
    const c = new PlainClock();
    c.tsFor(0, 1n * S);
    c.tsFor(10, 5n * S);
    c.tsFor(20, 9n * S);
    c.trim(15);
    expect(c.anchors.map((a) => a[0])).toEqual([10, 20]);
  });
});
