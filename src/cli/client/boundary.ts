/**
 * Remembers where printing stopped so a resumed read neither repeats nor skips a line. Resuming asks the
 * server again from the boundary timestamp itself (inclusive), because more entries may share it than were
 * printed; the ones already printed at that exact timestamp are remembered by stream and line and skipped.
 * Memory is bounded by the number of entries sharing one nanosecond, not by the amount read.
 */
import type { Direction, LogEntry } from './log-entry.js';

export class Boundary {
  /** The furthest timestamp printed in the reading direction; null before the first entry. */
  ts: bigint | null = null;
  private seen = new Set<string>();

  /**
   * `behind` says what an entry behind the boundary is: already printed for a paged read (every entry between
   * the range's far edge and the boundary has been printed, so a server that repeats one must not print it
   * twice) or new for a live tail (a resumed tail starts at the boundary, so only an out-of-order live entry
   * can land behind it).
   */
  constructor(
    readonly direction: Direction,
    readonly behind: 'printed' | 'new',
  ) {}

  /** True when the entry has not been printed yet, recording it. An entry behind never moves the boundary back. */
  admit(e: LogEntry): boolean {
    const id = e.key + '\u0000' + e.line;
    if (this.ts === null || this.ahead(e.ts, this.ts)) {
      this.ts = e.ts;
      this.seen.clear();
      this.seen.add(id);
      return true;
    }
    if (e.ts === this.ts) {
      if (this.seen.has(id)) return false;
      this.seen.add(id);
      return true;
    }
    return this.behind === 'new';
  }

  /** How many printed entries sit exactly on the boundary (a resumed page fetches them again). */
  get seenAtBoundary(): number {
    return this.seen.size;
  }

  private ahead(a: bigint, b: bigint): boolean {
    return this.direction === 'forward' ? a > b : a < b;
  }
}
