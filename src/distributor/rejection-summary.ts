import type { RejectReason, Rejection } from './validate.js';

const SHOWN = 10;

/**
 * The rejections of one push, kept in bounded memory however many entries it carries: the first few
 * messages for the answer, and entries and bytes per reason for the metrics.
 */
export class RejectionSummary {
  private shown: string[] = [];
  private errors = 0;
  ignored = 0;
  readonly byReason = new Map<RejectReason, { entries: number; bytes: number }>();

  add(rejections: Iterable<Rejection>): void {
    for (const r of rejections) {
      if (this.shown.length < SHOWN) this.shown.push(r.message);
      this.errors++;
      this.ignored += r.entries;
      const t = this.byReason.get(r.reason);
      if (t) {
        t.entries += r.entries;
        t.bytes += r.bytes;
      } else this.byReason.set(r.reason, { entries: r.entries, bytes: r.bytes });
    }
  }

  get empty(): boolean {
    return this.errors === 0;
  }

  has(reason: RejectReason): boolean {
    return this.byReason.has(reason);
  }

  /** The plain-text body of a 400/429: the first few messages, then the total, as Loki reports partial failures. */
  message(totalEntries: number): string {
    const lines = [...this.shown];
    if (this.errors > SHOWN) lines.push(`… and ${this.errors - SHOWN} more errors`);
    lines.push(`total ignored: ${this.ignored} out of ${totalEntries}`);
    return lines.join('\n');
  }
}
