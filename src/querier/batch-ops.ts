import { lowerBound, sameContent, sliceBatch, type EntryBatch } from '../model/batch.js';

/** The entries of `b` in [start, end), sharing memory with `b` where possible; null when none. */
export function trimBatch(b: EntryBatch, start: bigint, end: bigint): EntryBatch | null {
  if (b.count === 0) return null;
  if (b.ts[0]! >= start && b.ts[b.count - 1]! < end) return b;
  const i = lowerBound(b.ts, b.count, start);
  const j = lowerBound(b.ts, b.count, end);
  if (j <= i) return null;
  return sliceBatch(b, i, j);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A batch's timestamps as 32-bit halves, so the merge compares them without making a BigInt per entry. */
interface Cursor {
  b: EntryBatch;
  pos: number;
  hi: Int32Array;
  lo: Uint32Array;
}

function cursor(b: EntryBatch): Cursor {
  const words = b.count * 2;
  return { b, pos: 0, hi: new Int32Array(b.ts.buffer, b.ts.byteOffset, words), lo: new Uint32Array(b.ts.buffer, b.ts.byteOffset, words) };
}

/** Compares entry i of x with entry j of y by timestamp. */
function cmpTs(x: Cursor, i: number, y: Cursor, j: number): number {
  const H = LITTLE_ENDIAN ? 1 : 0;
  const L = 1 - H;
  const d = x.hi[2 * i + H]! - y.hi[2 * j + H]!;
  if (d !== 0) return d;
  return x.lo[2 * i + L]! - y.lo[2 * j + L]!;
}


/**
 * Merges ascending batches that overlap in time into one ascending batch, dropping entries identical in
 * timestamp, line and structured metadata (the same entry can sit in a flushed chunk and still in memory, or in two chunks
 * after a crash between flush and checkpoint). Timestamps are compared as 32-bit halves and line bytes
 * are copied in runs, so the merge allocates nothing per entry.
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
  const cursors = live.map(cursor);
  // Entries already emitted at the current timestamp (batch, index), for the duplicate check.
  const dupB: Cursor[] = [];
  const dupI: number[] = [];
  let dups = 0;
  let n = 0;
  let w = 0;
  // The pending run of consecutive entries taken from one batch: copied in one go.
  let runC: Cursor | null = null;
  let runFrom = 0;
  let runTo = 0;
  const flush = () => {
    if (runC === null || runTo === runFrom) return;
    const b = runC.b;
    const s = b.lineOffsets[runFrom]!;
    const e = b.lineOffsets[runTo]!;
    b.lines.copy(lines, w, s, e);
    ts.set(b.ts.subarray(runFrom, runTo), n);
    for (let k = runFrom; k < runTo; k++) offsets[++n] = w + b.lineOffsets[k + 1]! - s;
    w += e - s;
    if (meta) for (let k = runFrom; k < runTo; k++) meta.push(b.metadata?.[k] ?? null);
    runC = null;
  };
  let last: Cursor | null = null;
  let lastI = -1;
  for (;;) {
    let best: Cursor | null = null;
    for (let k = 0; k < cursors.length; k++) {
      const c = cursors[k]!;
      if (c.pos >= c.b.count) continue;
      if (best === null || cmpTs(c, c.pos, best, best.pos) < 0) best = c;
    }
    if (best === null) break;
    const i = best.pos++;
    if (last !== null && cmpTs(best, i, last, lastI) === 0) {
      let dup = false;
      for (let d = 0; d < dups && !dup; d++) dup = sameContent(best.b, i, dupB[d]!.b, dupI[d]!);
      if (dup) {
        // The run breaks here: the duplicate is not copied.
        flush();
        continue;
      }
    } else dups = 0;
    dupB[dups] = best;
    dupI[dups++] = i;
    last = best;
    lastI = i;
    if (runC === best && runTo === i) runTo = i + 1;
    else {
      flush();
      runC = best;
      runFrom = i;
      runTo = i + 1;
    }
  }
  flush();
  const out: EntryBatch = { count: n, ts: ts.subarray(0, n), lineOffsets: offsets.subarray(0, n + 1), lines: lines.subarray(0, w) };
  if (meta) out.metadata = meta;
  return out;
}
