import type { EntryBatch } from '../model/batch.js';

/** Index of the first entry with ts ≥ t (binary search; timestamps ascend). */
function lowerBound(ts: BigInt64Array, count: number, t: bigint): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The entries of `b` in [start, end), sharing memory with `b` where possible; null when none. */
export function trimBatch(b: EntryBatch, start: bigint, end: bigint): EntryBatch | null {
  if (b.count === 0) return null;
  if (b.ts[0]! >= start && b.ts[b.count - 1]! < end) return b;
  const i = lowerBound(b.ts, b.count, start);
  const j = lowerBound(b.ts, b.count, end);
  if (j <= i) return null;
  const base = b.lineOffsets[i]!;
  const offsets = new Uint32Array(j - i + 1);
  for (let k = 0; k <= j - i; k++) offsets[k] = b.lineOffsets[i + k]! - base;
  const out: EntryBatch = { count: j - i, ts: b.ts.subarray(i, j), lineOffsets: offsets, lines: b.lines.subarray(base, b.lineOffsets[j]!) };
  if (b.metadata) out.metadata = b.metadata.slice(i, j);
  return out;
}

/**
 * Merges ascending batches that overlap in time into one ascending batch, dropping entries identical in
 * timestamp and line (the same entry can sit in a flushed chunk and still in memory, or in two chunks
 * after a crash between flush and checkpoint).
 */
export function mergeBatches(batches: EntryBatch[]): EntryBatch {
  const live = batches.filter((b) => b.count > 0);
  if (live.length === 1) return live[0]!;
  let total = 0;
  let bytes = 0;
  let anyMeta = false;
  for (const b of live) {
    total += b.count;
    bytes += b.lineOffsets[b.count]! - b.lineOffsets[0]!;
    if (b.metadata) anyMeta = true;
  }
  const ts = new BigInt64Array(total);
  const offsets = new Uint32Array(total + 1);
  const lines = Buffer.allocUnsafe(bytes);
  const meta = anyMeta ? new Array<Record<string, string> | null>() : null;
  const pos = new Array<number>(live.length).fill(0);
  let n = 0;
  let w = 0;
  // Entries already emitted at the current timestamp, for the duplicate check.
  let curTs: bigint | null = null;
  let atCur: Buffer[] = [];
  for (;;) {
    let best = -1;
    let bestTs = 0n;
    for (let k = 0; k < live.length; k++) {
      if (pos[k]! >= live[k]!.count) continue;
      const t = live[k]!.ts[pos[k]!]!;
      if (best < 0 || t < bestTs) {
        best = k;
        bestTs = t;
      }
    }
    if (best < 0) break;
    const b = live[best]!;
    const i = pos[best]!++;
    const line = b.lines.subarray(b.lineOffsets[i]!, b.lineOffsets[i + 1]!);
    if (curTs !== bestTs) {
      curTs = bestTs;
      atCur = [];
    } else if (atCur.some((l) => l.equals(line))) continue;
    atCur.push(line);
    ts[n] = bestTs;
    w += line.copy(lines, w);
    offsets[n + 1] = w;
    if (meta) meta.push(b.metadata?.[i] ?? null);
    n++;
  }
  const out: EntryBatch = { count: n, ts: ts.subarray(0, n), lineOffsets: offsets.subarray(0, n + 1), lines: lines.subarray(0, w) };
  if (meta) out.metadata = meta;
  return out;
}
