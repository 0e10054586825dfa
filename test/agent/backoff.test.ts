import { describe, expect, it } from 'vitest';
import { Backoff } from '../../agent/backoff.js';

describe('backoff', () => {
  it('doubles from the minimum and caps at the maximum', () => {
    const top = new Backoff(500, 300_000, () => 1);
    const waits = Array.from({ length: 12 }, () => top.next());
    expect(waits.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(waits[11]).toBe(300_000);
    expect(Math.max(...waits)).toBe(300_000);
  });

  it('jitters each wait between half and all of the step', () => {
    const low = new Backoff(500, 300_000, () => 0);
    expect([low.next(), low.next(), low.next()]).toEqual([250, 500, 1000]);
    const real = new Backoff(1000, 1000);
    for (let i = 0; i < 50; i++) {
      const w = real.next();
      expect(w).toBeGreaterThanOrEqual(500);
      expect(w).toBeLessThanOrEqual(1000);
    }
  });

  it('starts over after reset and counts attempts', () => {
    const b = new Backoff(100, 10_000, () => 1);
    b.next();
    b.next();
    expect(b.attempts).toBe(2);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });
});
