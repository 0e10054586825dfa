import { describe, expect, it } from 'vitest';
import { Boundary } from '../../../src/cli/client/boundary.js';
import { entriesOf, type LogEntry } from '../../../src/cli/client/log-entry.js';

const e = (ts: number, line: string, key = '{app="a"}'): LogEntry => ({ labels: {}, key, ts: BigInt(ts), line });

describe('Boundary', () => {
  it('skips only the entries already printed on the boundary timestamp when a read resumes there', () => {
    const b = new Boundary('forward', 'printed');
    expect([e(1, 'a'), e(2, 'b'), e(2, 'c')].map((x) => b.admit(x))).toEqual([true, true, true]);
    expect(b.ts).toBe(2n);
    expect(b.seenAtBoundary).toBe(2);
    // The resumed page starts at ts 2 again: b and c are repeats, d shares the timestamp but is new.
    expect([e(2, 'b'), e(2, 'c'), e(2, 'd'), e(3, 'c')].map((x) => b.admit(x))).toEqual([false, false, true, true]);
    expect(b.seenAtBoundary).toBe(1);
  });

  it('tells streams apart: the same line in another stream is another entry', () => {
    const b = new Boundary('forward', 'printed');
    expect(b.admit(e(5, 'x', '{app="a"}'))).toBe(true);
    expect(b.admit(e(5, 'x', '{app="b"}'))).toBe(true);
    expect(b.admit(e(5, 'x', '{app="a"}'))).toBe(false);
  });

  it('moves backward for a backward read', () => {
    const b = new Boundary('backward', 'printed');
    expect([e(9, 'a'), e(7, 'b')].map((x) => b.admit(x))).toEqual([true, true]);
    expect(b.ts).toBe(7n);
    expect(b.admit(e(8, 'a2'))).toBe(false); // behind the boundary: a paged read printed it already
    expect(b.admit(e(7, 'b'))).toBe(false);
    expect(b.admit(e(6, 'c'))).toBe(true);
  });

  it('in a live tail, prints an out-of-order entry without moving the boundary back', () => {
    const b = new Boundary('forward', 'new');
    b.admit(e(10, 'a'));
    expect(b.admit(e(4, 'late'))).toBe(true);
    expect(b.ts).toBe(10n);
    expect(b.admit(e(10, 'a'))).toBe(false);
  });
});

describe('entriesOf', () => {
  it('merges streams into the query direction with a stable order on ties', () => {
    const streams = [
      { stream: { app: 'b' }, values: [['3', 'b3'], ['1', 'b1']] as [string, string][] },
      { stream: { app: 'a' }, values: [['3', 'a3'], ['2', 'a2']] as [string, string][] },
    ];
    expect(entriesOf(streams, 'backward').map((x) => x.line)).toEqual(['a3', 'b3', 'a2', 'b1']);
    expect(entriesOf(streams, 'forward').map((x) => x.line)).toEqual(['b1', 'a2', 'a3', 'b3']);
    expect(entriesOf(streams, 'forward')[0]!.key).toBe('{app="b"}');
  });

  it('refuses a timestamp that is not nanoseconds', () => {
    expect(() => entriesOf([{ stream: {}, values: [['1.5', 'x']] }], 'forward')).toThrow(/entry timestamp "1.5"; expected nanoseconds/);
  });
});
