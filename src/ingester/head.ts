import type { EntryBatch } from '../model/batch.js';
import { littleEndian } from '../chunk/endian.js';
import { metadataBytes, type IngestEntry } from '../model/entry.js';
import type { MetadataReader } from './wal-record.js';

const LITTLE_ENDIAN = littleEndian();

/**
 * The open block of a stream: entries appended column-wise (timestamps, line offsets, line bytes) so
 * cutting a block is one sort check and one compress, and a query can read it as an EntryBatch.
 */
export class Head {
  count = 0;
  rawBytes = 0;
  minTs = 0n;
  maxTs = 0n;
  /** False once an entry arrives older than the one before it; the cut then sorts. */
  ordered = true;
  private ts = new BigInt64Array(256);
  private offsets = new Uint32Array(257);
  private bytes = Buffer.allocUnsafe(16 * 1024);
  private metadata: (Record<string, string> | null)[] | null = null;
  private metadataBytes = 0;

  /**
   * Memory the head's entries take: their lines, timestamps and offsets, and structured metadata. Not
   * the buffers' spare capacity, which is bounded per stream and cannot be flushed away.
   */
  get memoryBytes(): number {
    return this.rawBytes + this.count * 12 + this.metadataBytes;
  }

  append(e: IngestEntry): void {
    const i = this.count;
    if (i + 1 >= this.ts.length) this.growEntries();
    const start = this.offsets[i]!;
    const end = start + e.line.length;
    if (end > this.bytes.length) this.growBytes(end);
    // TypedArray#set: Buffer#copy's argument checks cost more than the copy itself for a typical line.
    this.bytes.set(e.line, start);
    this.ts[i] = e.ts;
    this.offsets[i + 1] = end;
    if (e.metadata) {
      this.metadata ??= new Array<Record<string, string> | null>(i).fill(null);
      this.metadata[i] = e.metadata;
      this.metadataBytes += metadataBytes(e.metadata);
    } else if (this.metadata) this.metadata[i] = null;
    if (i === 0) {
      this.minTs = e.ts;
      this.maxTs = e.ts;
    } else {
      if (e.ts < this.maxTs) this.ordered = false;
      if (e.ts < this.minTs) this.minTs = e.ts;
      if (e.ts > this.maxTs) this.maxTs = e.ts;
    }
    this.count = i + 1;
    this.rawBytes = end;
  }

  /**
   * Replay's fast path: appends up to `n` entries laid out as in a WAL push record (i64 ts, u32 length,
   * line, u32 metadata length, metadata JSON) from `buf` at `p`, which the caller knows are ascending and
   * newer than everything in the head; without a `metadata` reader the caller knows they carry none. Stops once the head holds `limit` bytes (the block
   * size: the caller cuts then) and returns the offset after the last entry taken.
   */
  appendWalEntries(buf: Buffer, p: number, n: number, limit: number, lastTs: bigint, metadata: MetadataReader | null = null): number {
    const first = this.count;
    let i = first;
    let pos = this.rawBytes;
    const le = LITTLE_ENDIAN;
    let words = le ? new Uint32Array(this.ts.buffer, this.ts.byteOffset, this.ts.length * 2) : null;
    let taken = 0;
    while (taken < n && pos < limit) {
      if (i + 1 >= this.ts.length) {
        this.growEntries();
        if (le) words = new Uint32Array(this.ts.buffer, this.ts.byteOffset, this.ts.length * 2);
      }
      const len = buf.readUInt32LE(p + 8);
      const end = pos + len;
      if (end > this.bytes.length) {
        this.rawBytes = pos;
        // Straight to a block's worth (and a little): doubling from 16 KiB would copy and fault in each step.
        this.growBytes(Math.max(end, limit + 16 * 1024), true);
      }
      // A plain Uint8Array view is cheaper to make than a Buffer subarray, and set() than Buffer#copy.
      this.bytes.set(new Uint8Array(buf.buffer, buf.byteOffset + p + 12, len), pos);
      if (words) {
        words[2 * i] = buf.readUInt32LE(p);
        words[2 * i + 1] = buf.readUInt32LE(p + 4);
      } else this.ts[i] = buf.readBigInt64LE(p);
      this.offsets[i + 1] = end;
      pos = end;
      const mlen = metadata ? buf.readUInt32LE(p + 12 + len) : 0;
      if (mlen > 0) {
        const m = metadata!.at(p + 16 + len, mlen);
        this.metadata ??= new Array<Record<string, string> | null>(i).fill(null);
        this.metadata[i] = m.metadata;
        this.metadataBytes += m.bytes;
      } else if (this.metadata) this.metadata[i] = null;
      i++;
      taken++;
      p += 12 + len + 4 + mlen;
    }
    if (taken === 0) return p;
    if (first === 0) this.minTs = this.ts[0]!;
    this.maxTs = taken === n ? lastTs : this.ts[i - 1]!;
    this.count = i;
    this.rawBytes = pos;
    return p;
  }

  tsAt(i: number): bigint {
    return this.ts[i]!;
  }

  lineAt(i: number): Buffer {
    return this.bytes.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }

  metadataAt(i: number): Record<string, string> | null {
    return this.metadata ? (this.metadata[i] ?? null) : null;
  }

  /**
   * The head in time order without copying when it is already ordered: valid only until the next
   * append or reset. For encoding a block, which copies what it needs.
   */
  view(): EntryBatch {
    if (!this.ordered) return this.snapshot();
    const n = this.count;
    const batch: EntryBatch = { count: n, ts: this.ts.subarray(0, n), lineOffsets: this.offsets.subarray(0, n + 1), lines: this.bytes.subarray(0, this.rawBytes) };
    if (this.metadata) batch.metadata = this.metadata.slice(0, n);
    return batch;
  }

  /**
   * The head's entries in time order as a batch that owns its memory (safe to keep after the head
   * changes). Equal timestamps keep arrival order.
   */
  snapshot(): EntryBatch {
    const n = this.count;
    if (this.ordered) {
      const batch: EntryBatch = {
        count: n,
        ts: this.ts.slice(0, n),
        lineOffsets: this.offsets.slice(0, n + 1),
        lines: Buffer.from(this.bytes.subarray(0, this.rawBytes)),
      };
      if (this.metadata) batch.metadata = this.metadata.slice(0, n);
      return batch;
    }
    const order = Array.from({ length: n }, (_, i) => i);
    const ts = this.ts;
    order.sort((a, b) => (ts[a]! < ts[b]! ? -1 : ts[a]! > ts[b]! ? 1 : a - b));
    const outTs = new BigInt64Array(n);
    const outOff = new Uint32Array(n + 1);
    const outBytes = Buffer.allocUnsafe(this.rawBytes);
    const meta = this.metadata ? new Array<Record<string, string> | null>(n) : null;
    let pos = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      outTs[k] = ts[i]!;
      pos += this.bytes.copy(outBytes, pos, this.offsets[i]!, this.offsets[i + 1]!);
      outOff[k + 1] = pos;
      if (meta) meta[k] = this.metadata![i] ?? null;
    }
    const batch: EntryBatch = { count: n, ts: outTs, lineOffsets: outOff, lines: outBytes };
    if (meta) batch.metadata = meta;
    return batch;
  }

  reset(): void {
    this.count = 0;
    this.rawBytes = 0;
    this.ordered = true;
    this.metadata = null;
    this.metadataBytes = 0;
    this.offsets[0] = 0;
    // Drop oversized buffers from an unusually large block rather than pinning them forever.
    if (this.bytes.length > 1024 * 1024) this.bytes = Buffer.allocUnsafe(16 * 1024);
    if (this.ts.length > 16384) {
      this.ts = new BigInt64Array(256);
      this.offsets = new Uint32Array(257);
    }
  }

  private growEntries(): void {
    const ts = new BigInt64Array(this.ts.length * 2);
    ts.set(this.ts);
    this.ts = ts;
    const off = new Uint32Array(this.offsets.length * 2);
    off.set(this.offsets);
    this.offsets = off;
  }

  /** `exact`: take `need` as the size, not the next doubling (which for a block-sized head is nearly twice it). */
  private growBytes(need: number, exact = false): void {
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    if (exact) size = need;
    const b = Buffer.allocUnsafe(size);
    b.set(this.bytes.subarray(0, this.rawBytes));
    this.bytes = b;
  }
}
