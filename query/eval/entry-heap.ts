import type { Labels } from '../../src/model/labels.js';

/** A log entry competing for a place in the result. */
export interface Candidate {
  /** Relative nanoseconds (see RelClock): exact order without BigInt comparisons. */
  rel: number;
  ts: bigint;
  line: string;
  labels: Labels;
  /** The result stream's label string: the tie-breaker after time, and the grouping key. */
  key: string;
  /** Arrival order: the last tie-breaker, so order is total and stable. */
  seq: number;
}

/** Ascending (time, labels, arrival): the forward order of entries across all streams. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.rel !== b.rel) return a.rel < b.rel ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Keeps the best `limit` candidates seen so far, in O(log limit) per offer, holding no more than
 * `limit` entries: for forward queries the earliest, for backward the latest. The heap's top is the
 * worst kept entry, the one a better newcomer evicts.
 */
export class EntryHeap {
  private readonly items: Candidate[] = [];
  /** worse(a, b): a loses against b. */
  private readonly worse: (a: Candidate, b: Candidate) => boolean;

  constructor(readonly limit: number, readonly backward: boolean) {
    this.worse = backward ? (a, b) => compareCandidates(a, b) < 0 : (a, b) => compareCandidates(a, b) > 0;
  }

  get size(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  /** The worst kept entry (valid when not empty). */
  get top(): Candidate {
    return this.items[0]!;
  }

  /** Whether a candidate with this time could still get in (a cheap check before building it). */
  admits(rel: number): boolean {
    if (!this.full) return true;
    const t = this.items[0]!.rel;
    return this.backward ? rel >= t : rel <= t;
  }

  offer(c: Candidate): void {
    const items = this.items;
    if (items.length < this.limit) {
      items.push(c);
      this.up(items.length - 1);
    } else if (this.worse(items[0]!, c)) {
      items[0] = c;
      this.down(0);
    }
  }

  /** The kept entries, best first (the query's direction order). */
  drain(): Candidate[] {
    const out = this.items.splice(0);
    out.sort(this.backward ? (a, b) => compareCandidates(b, a) : compareCandidates);
    return out;
  }

  private up(j: number): void {
    const items = this.items;
    while (j > 0) {
      const i = (j - 1) >> 1;
      if (!this.worse(items[j]!, items[i]!)) break;
      [items[i], items[j]] = [items[j]!, items[i]!];
      j = i;
    }
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let w = l;
      if (l + 1 < n && this.worse(items[l + 1]!, items[l]!)) w = l + 1;
      if (!this.worse(items[w]!, items[i]!)) break;
      [items[i], items[w]] = [items[w]!, items[i]!];
      i = w;
    }
  }
}
