import { sameContent, type EntryBatch } from '../model/batch.js';

/** One time-ordered source of a stream's entries: a chunk (block by block) or a batch still in memory. */
export interface MergePiece {
  minTs: bigint;
  maxTs: bigint;
  /** Ascending batches, or descending batches (each still ascending inside) when `reverse`. */
  open(reverse: boolean): AsyncIterator<EntryBatch> | Iterator<EntryBatch>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const H = LITTLE_ENDIAN ? 1 : 0;
const L = 1 - H;
/** Entries gathered before a merged batch is handed on: bounds memory while keeping batches block-sized. */
const OUT_ENTRIES = 4096;

class Cursor {
  b!: EntryBatch;
  /** Next entry: ascending from 0, or descending from count-1 when reverse. */
  pos = 0;
  hi!: Int32Array;
  lo!: Uint32Array;
  done = false;

  constructor(
    readonly it: AsyncIterator<EntryBatch> | Iterator<EntryBatch>,
    /** Position of the piece in ascending minTs order: ties between pieces go to the lower rank first, as a full merge would. */
    readonly rank: number,
    private readonly reverse: boolean,
  ) {}

  /** Loads the next non-empty batch; false when the piece is exhausted. */
  async load(): Promise<boolean> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      const b = r.value;
      if (b.count === 0) continue;
      this.b = b;
      this.pos = this.reverse ? b.count - 1 : 0;
      this.hi = new Int32Array(b.ts.buffer, b.ts.byteOffset, b.count * 2);
      this.lo = new Uint32Array(b.ts.buffer, b.ts.byteOffset, b.count * 2);
      return true;
    }
  }

  get live(): boolean {
    return !this.done && (this.reverse ? this.pos >= 0 : this.pos < this.b.count);
  }
}

function cmp(x: Cursor, i: number, y: Cursor, j: number): number {
  const d = x.hi[2 * i + H]! - y.hi[2 * j + H]!;
  return d !== 0 ? d : x.lo[2 * i + L]! - y.lo[2 * j + L]!;
}

/** Compares entry i of x with an absolute timestamp. */
function cmpAbs(x: Cursor, i: number, t: bigint): number {
  const th = Number(BigInt.asIntN(32, t >> 32n));
  const d = x.hi[2 * i + H]! - th;
  return d !== 0 ? d : x.lo[2 * i + L]! - Number(BigInt.asUintN(32, t));
}

/**
 * Forward: the first index from `c.pos` whose entry is not strictly before both the other piece's next
 * entry and the unopened watermark. Reverse: the last index (going down) not strictly after them; -1
 * when all are. Binary search over the ascending batch.
 */
function runEnd(c: Cursor, other: Cursor | null, wm: bigint | null, reverse: boolean): number {
  const b = c.b;
  let bh = 0;
  let bl = 0;
  let has = false;
  const tighten = (h: number, l: number) => {
    if (!has || (reverse ? h > bh || (h === bh && l > bl) : h < bh || (h === bh && l < bl))) {
      bh = h;
      bl = l;
      has = true;
    }
  };
  if (other !== null) tighten(other.hi[2 * other.pos + H]!, other.lo[2 * other.pos + L]!);
  if (wm !== null) tighten(Number(BigInt.asIntN(32, wm >> 32n)), Number(BigInt.asUintN(32, wm)));
  if (!has) return reverse ? -1 : b.count;
  // before(j): entry j is strictly before the bound in reading order.
  const before = (j: number): boolean => {
    const h = c.hi[2 * j + H]!;
    const l = c.lo[2 * j + L]!;
    return reverse ? h > bh || (h === bh && l > bl) : h < bh || (h === bh && l < bl);
  };
  if (!reverse) {
    let lo = c.pos;
    let hi = b.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(mid)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  let lo = 0;
  let hi = c.pos + 1;
  // First index (ascending) that is strictly after the bound: everything from it up to pos qualifies.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}


/** Merged entries waiting to become a batch, as runs of consecutive indexes of one source batch. */
class Out {
  private runB: EntryBatch[] = [];
  private runLo: number[] = [];
  private runHi: number[] = [];
  count = 0;

  constructor(private readonly reverse: boolean) {}

  add(b: EntryBatch, i: number): void {
    const k = this.runB.length - 1;
    if (k >= 0 && this.runB[k] === b) {
      if (!this.reverse && this.runHi[k] === i) {
        this.runHi[k] = i + 1;
        this.count++;
        return;
      }
      if (this.reverse && this.runLo[k] === i + 1) {
        this.runLo[k] = i;
        this.count++;
        return;
      }
    }
    this.runB.push(b);
    this.runLo.push(i);
    this.runHi.push(i + 1);
    this.count++;
  }

  /** Entries [lo, hi) of `b`, emitted in reading order (descending when reverse). */
  addRange(b: EntryBatch, lo: number, hi: number): void {
    const k = this.runB.length - 1;
    if (k >= 0 && this.runB[k] === b && (this.reverse ? this.runLo[k] === hi : this.runHi[k] === lo)) {
      if (this.reverse) this.runLo[k] = lo;
      else this.runHi[k] = hi;
    } else {
      this.runB.push(b);
      this.runLo.push(lo);
      this.runHi.push(hi);
    }
    this.count += hi - lo;
  }

  /** The gathered entries as one ascending batch (runs were gathered newest first when reverse). */
  take(): EntryBatch {
    const n = this.count;
    const order = this.runB.map((_, k) => k);
    if (this.reverse) order.reverse();
    let bytes = 0;
    let anyMeta = false;
    for (const k of order) {
      const b = this.runB[k]!;
      bytes += b.lineOffsets[this.runHi[k]!]! - b.lineOffsets[this.runLo[k]!]!;
      if (b.metadata) anyMeta = true;
    }
    const ts = new BigInt64Array(n);
    const offsets = new Uint32Array(n + 1);
    const lines = Buffer.allocUnsafe(bytes);
    const meta = anyMeta ? new Array<Record<string, string> | null>() : null;
    let c = 0;
    let w = 0;
    for (const k of order) {
      const b = this.runB[k]!;
      const lo = this.runLo[k]!;
      const hi = this.runHi[k]!;
      const s = b.lineOffsets[lo]!;
      b.lines.copy(lines, w, s, b.lineOffsets[hi]!);
      ts.set(b.ts.subarray(lo, hi), c);
      for (let i = lo; i < hi; i++) offsets[++c] = w + b.lineOffsets[i + 1]! - s;
      w += b.lineOffsets[hi]! - s;
      if (meta) for (let i = lo; i < hi; i++) meta.push(b.metadata?.[i] ?? null);
    }
    this.runB = [];
    this.runLo = [];
    this.runHi = [];
    this.count = 0;
    const out: EntryBatch = { count: n, ts, lineOffsets: offsets, lines };
    if (meta) out.metadata = meta;
    return out;
  }
}

/**
 * Merges the pieces of one stream into non-overlapping ascending batches — oldest first, or newest
 * first when `reverse` — dropping entries identical in timestamp, line and structured metadata (the same entry flushed and
 * still in memory, or in two chunks after a crash between flush and checkpoint). It streams: a piece
 * is opened only once the merge reaches its time range, so memory holds the current block of each
 * overlapping piece, never a whole run of chunks, and a consumer that stops early leaves later
 * pieces unread. Batches that overlap nothing pass through without a copy.
 * `pieces` must be sorted by minTs.
 */
export async function* mergePieces(pieces: MergePiece[], reverse: boolean): AsyncIterable<EntryBatch> {
  // Opening order: by where each piece starts in the direction of reading.
  const order = pieces.map((p, rank) => ({ p, rank }));
  if (reverse) order.sort((a, b) => (a.p.maxTs > b.p.maxTs ? -1 : a.p.maxTs < b.p.maxTs ? 1 : b.rank - a.rank));
  const open: Cursor[] = [];
  const out = new Out(reverse);
  let next = 0;
  // The latest emitted timestamp (as 32-bit halves) and the entries emitted at it, for the duplicate check.
  let lastHi = 0;
  let lastLo = 0;
  let any = false;
  let dupB: EntryBatch[] = [];
  let dupI: number[] = [];
  const dir = reverse ? -1 : 1;
  try {
    for (;;) {
      // The best entry among the open pieces: the oldest (newest when reverse); ties to the lower rank
      // (higher when reverse, since the output is reversed back into ascending order).
      let best: Cursor | null = null;
      let second: Cursor | null = null;
      let live = 0;
      for (const c of open) {
        if (!c.live) continue;
        live++;
        if (best === null) best = c;
        else {
          const d = cmp(c, c.pos, best, best.pos) * dir;
          if (d < 0 || (d === 0 && (c.rank - best.rank) * dir < 0)) {
            second = best;
            best = c;
          } else if (second === null || cmp(c, c.pos, second, second.pos) * dir < 0) second = c;
        }
      }
      const wm = next < order.length ? order[next]! : null;
      const wmTs = wm === null ? 0n : reverse ? wm.p.maxTs : wm.p.minTs;
      // A piece starting at or before the best entry may hold earlier entries: open it first.
      if (wm !== null && (best === null || cmpAbs(best, best.pos, wmTs) * dir >= 0)) {
        next++;
        const c = new Cursor(wm.p.open(reverse), wm.rank, reverse);
        if (await c.load()) open.push(c);
        continue;
      }
      if (best === null) break;
      if (open.length > 4) for (let k = open.length - 1; k >= 0; k--) if (open[k]!.done) open.splice(k, 1);

      const b = best.b;
      const i = best.pos;
      const tsHi = best.hi[2 * i + H]!;
      const tsLo = best.lo[2 * i + L]!;
      const sameTs = any && tsHi === lastHi && tsLo === lastLo;
      // Fast path: the only live piece, at the start of a batch that ends before any unopened piece
      // begins, nothing pending, no tie with what was emitted: the batch passes through untouched.
      if (live === 1 && !sameTs && out.count === 0 && i === (reverse ? b.count - 1 : 0)) {
        const endI = reverse ? 0 : b.count - 1;
        if (wm === null || cmpAbs(best, endI, wmTs) * dir < 0) {
          any = true;
          lastHi = best.hi[2 * endI + H]!;
          lastLo = best.lo[2 * endI + L]!;
          // Only this piece's next batch could share the edge timestamp, and blocks never overlap.
          dupB = [];
          dupI = [];
          await best.load();
          yield b;
          continue;
        }
      }
      // A run of this batch strictly before every other piece's next entry and the next piece's start
      // moves in one step: no entry in it can tie with (or repeat) an entry of another piece.
      if (!sameTs) {
        const k = runEnd(best, second, wm === null ? null : wmTs, reverse);
        if (reverse ? i - k >= 2 : k - i >= 2) {
          const last = reverse ? k + 1 : k - 1;
          if (reverse) out.addRange(b, k + 1, i + 1);
          else out.addRange(b, i, k);
          any = true;
          lastHi = best.hi[2 * last + H]!;
          lastLo = best.lo[2 * last + L]!;
          dupB = [];
          dupI = [];
          best.pos = k;
          if (!best.live) await best.load();
          if (out.count >= OUT_ENTRIES) yield out.take();
          continue;
        }
      }
      if (sameTs) {
        let dup = false;
        for (let d = 0; d < dupB.length && !dup; d++) dup = sameContent(b, i, dupB[d]!, dupI[d]!);
        if (!dup) {
          dupB.push(b);
          dupI.push(i);
          out.add(b, i);
        }
      } else {
        any = true;
        lastHi = tsHi;
        lastLo = tsLo;
        dupB = [b];
        dupI = [i];
        out.add(b, i);
      }
      best.pos += dir;
      if (!best.live) await best.load();
      if (out.count >= OUT_ENTRIES) yield out.take();
    }
    if (out.count > 0) yield out.take();
  } finally {
    // A consumer that stops early: release the pieces' readers.
    for (const c of open) if (!c.done) await c.it.return?.();
  }
}
