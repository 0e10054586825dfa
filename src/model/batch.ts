import { sameMetadata } from './entry.js';

/**
 * A run of one stream's entries in columnar form: what a decoded chunk block is, what the ingester's
 * head hands to queries, and what the LogQL engine consumes. Timestamps ascend within a batch.
 * A literal line filter runs `lines.indexOf(needle)` over the whole batch and maps hits back through
 * `lineOffsets`, so only matching lines ever become strings.
 */
export interface EntryBatch {
  count: number;
  /** Nanoseconds since the epoch, ascending. */
  ts: BigInt64Array;
  /** `count + 1` offsets: line i is `lines.subarray(lineOffsets[i], lineOffsets[i + 1])` (UTF-8). */
  lineOffsets: Uint32Array;
  lines: Buffer;
  /** Structured metadata per entry, present only when some entry carries any. */
  metadata?: (Record<string, string> | null)[];
}

/** Builds a batch from row-form entries (tests, the ingester's head). Entries must already be in time order. */
export function batchFromEntries(entries: { ts: bigint; line: string; metadata?: Record<string, string> }[]): EntryBatch {
  const count = entries.length;
  const ts = new BigInt64Array(count);
  const lineOffsets = new Uint32Array(count + 1);
  const parts: Buffer[] = [];
  let off = 0;
  let anyMeta = false;
  for (let i = 0; i < count; i++) {
    const e = entries[i]!;
    ts[i] = e.ts;
    const b = Buffer.from(e.line, 'utf8');
    parts.push(b);
    off += b.length;
    lineOffsets[i + 1] = off;
    if (e.metadata && Object.keys(e.metadata).length > 0) anyMeta = true;
  }
  const batch: EntryBatch = { count, ts, lineOffsets, lines: Buffer.concat(parts, off) };
  if (anyMeta) batch.metadata = entries.map((e) => (e.metadata && Object.keys(e.metadata).length > 0 ? e.metadata : null));
  return batch;
}

export function lineAt(batch: EntryBatch, i: number): string {
  return batch.lines.toString('utf8', batch.lineOffsets[i]!, batch.lineOffsets[i + 1]!);
}

/** Index of the first entry of a batch's timestamps with ts ≥ t (binary search; timestamps ascend). */
export function lowerBound(ts: BigInt64Array, count: number, t: bigint): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Entries i … j-1 of `b` as their own batch, sharing its memory (offsets rebased). */
export function sliceBatch(b: EntryBatch, i: number, j: number): EntryBatch {
  if (i === 0 && j === b.count) return b;
  const base = b.lineOffsets[i]!;
  const offsets = new Uint32Array(j - i + 1);
  for (let k = 0; k <= j - i; k++) offsets[k] = b.lineOffsets[i + k]! - base;
  const out: EntryBatch = { count: j - i, ts: b.ts.subarray(i, j), lineOffsets: offsets, lines: b.lines.subarray(base, b.lineOffsets[j]!) };
  if (b.metadata) out.metadata = b.metadata.slice(i, j);
  return out;
}

/**
 * Whether entry i of x and entry j of y have the same line bytes and structured metadata: with equal
 * timestamps, the same entry (what the merges of chunks and memory drop as a duplicate).
 */
export function sameContent(x: EntryBatch, i: number, y: EntryBatch, j: number): boolean {
  const xs = x.lineOffsets[i]!;
  const xe = x.lineOffsets[i + 1]!;
  const ys = y.lineOffsets[j]!;
  const ye = y.lineOffsets[j + 1]!;
  if (xe - xs !== ye - ys || x.lines.compare(y.lines, ys, ye, xs, xe) !== 0) return false;
  return (x.metadata === undefined && y.metadata === undefined) || sameMetadata(x.metadata?.[i], y.metadata?.[j]);
}
