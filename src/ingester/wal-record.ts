import { metadataBytes, type IngestEntry } from '../model/entry.js';

/**
 * WAL payloads. A push record holds what the ingester accepted; a checkpoint record holds one stream's
 * unflushed data as a chunk (the blocks are already compressed in memory, so a checkpoint costs little).
 *
 *   push:       u8 1, u16 tenant length, tenant, u32 stream count,
 *               per stream: u32 labels length, canonical labels, u32 entry count,
 *               per entry: i64 ts, u32 line length, line, u32 metadata length, metadata JSON (0 = none)
 *   checkpoint: u8 2, u16 tenant length, tenant, u32 labels length, canonical labels, chunk bytes to the end
 */
export const RECORD_PUSH = 1;
export const RECORD_CHECKPOINT = 2;

export interface PushRecord {
  type: typeof RECORD_PUSH;
  tenant: string;
  streams: { canonical: string; entries: IngestEntry[] }[];
}

export interface CheckpointRecord {
  type: typeof RECORD_CHECKPOINT;
  tenant: string;
  canonical: string;
  chunk: Buffer;
}

export type WalRecord = PushRecord | CheckpointRecord;

export class WalRecordError extends Error {}

// Frozen metadata objects are shared by many entries (the distributor's `detected_level` sets): each is
// encoded once, not once per entry.
const sharedJson = new WeakMap<object, Buffer>();

function metadataJson(md: Record<string, string>): Buffer {
  if (!Object.isFrozen(md)) return Buffer.from(JSON.stringify(md), 'utf8');
  let b = sharedJson.get(md);
  if (!b) {
    b = Buffer.from(JSON.stringify(md), 'utf8');
    sharedJson.set(md, b);
  }
  return b;
}

export function encodePushRecord(tenant: string, streams: { canonical: string; entries: IngestEntry[] }[]): Buffer {
  const tenantBuf = Buffer.from(tenant, 'utf8');
  const labelBufs = streams.map((s) => Buffer.from(s.canonical, 'utf8'));
  const metaBufs: (Buffer | null)[][] = streams.map((s) => s.entries.map((e) => (e.metadata ? metadataJson(e.metadata) : null)));
  let size = 1 + 2 + tenantBuf.length + 4;
  streams.forEach((s, i) => {
    size += 4 + labelBufs[i]!.length + 4;
    s.entries.forEach((e, j) => {
      size += 8 + 4 + e.line.length + 4 + (metaBufs[i]![j]?.length ?? 0);
    });
  });
  const buf = Buffer.allocUnsafe(size);
  let p = buf.writeUInt8(RECORD_PUSH, 0);
  p = buf.writeUInt16LE(tenantBuf.length, p);
  p += tenantBuf.copy(buf, p);
  p = buf.writeUInt32LE(streams.length, p);
  streams.forEach((s, i) => {
    p = buf.writeUInt32LE(labelBufs[i]!.length, p);
    p += labelBufs[i]!.copy(buf, p);
    p = buf.writeUInt32LE(s.entries.length, p);
    s.entries.forEach((e, j) => {
      p = buf.writeBigInt64LE(e.ts, p);
      p = buf.writeUInt32LE(e.line.length, p);
      p += e.line.copy(buf, p);
      const m = metaBufs[i]![j];
      p = buf.writeUInt32LE(m?.length ?? 0, p);
      if (m) p += m.copy(buf, p);
    });
  });
  return buf;
}

export function encodeCheckpointRecord(tenant: string, canonical: string, chunk: Buffer): Buffer[] {
  const t = Buffer.from(tenant, 'utf8');
  const l = Buffer.from(canonical, 'utf8');
  const head = Buffer.allocUnsafe(1 + 2 + t.length + 4 + l.length);
  let p = head.writeUInt8(RECORD_CHECKPOINT, 0);
  p = head.writeUInt16LE(t.length, p);
  p += t.copy(head, p);
  p = head.writeUInt32LE(l.length, p);
  l.copy(head, p);
  return [head, chunk];
}

/** Decodes a payload whose checksum already matched; lines are views into `buf`. */
export function decodeRecord(buf: Buffer): WalRecord {
  if (buf.length >= 3 && buf[0] === RECORD_PUSH) {
    // One walk of a push record's layout: the span decoder's, with each span's entries taken apart.
    const spans = decodeRecordSpans(buf) as PushRecordSpans;
    return { type: RECORD_PUSH, tenant: spans.tenant, streams: spans.streams.map((s) => ({ canonical: s.canonical, entries: entriesOfSpan(buf, s) })) };
  }
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new WalRecordError(`record truncated at byte ${p} (needs ${n} more of ${buf.length})`);
  };
  need(3);
  const type = buf.readUInt8(p++);
  const tlen = buf.readUInt16LE(p);
  p += 2;
  need(tlen);
  const tenant = buf.toString('utf8', p, p + tlen);
  p += tlen;
  if (type !== RECORD_CHECKPOINT) throw new WalRecordError(`unknown record type ${type}`);
  need(4);
  const llen = buf.readUInt32LE(p);
  p += 4;
  need(llen);
  const canonical = buf.toString('utf8', p, p + llen);
  p += llen;
  return { type, tenant, canonical, chunk: buf.subarray(p) };
}

/**
 * One stream of a push record as a span of the record's bytes, for replay: its entries are validated
 * but not taken apart, so the common case (entries ascending, newer than the stream's newest, without
 * metadata) is copied straight into the head with no object per entry.
 */
export interface PushStreamSpan {
  canonical: string;
  count: number;
  /** Offset of the first entry in the record. */
  start: number;
  firstTs: bigint;
  lastTs: bigint;
  /** Every timestamp above the one before it. */
  ascending: boolean;
  /**
   * The record's metadata reader when some entry carries structured metadata (null otherwise). Decoding
   * already parsed every value with it (a bad one fails the record there), so reading them again hits its cache.
   */
  metadata: MetadataReader | null;
}

export interface PushRecordSpans {
  type: typeof RECORD_PUSH;
  tenant: string;
  buf: Buffer;
  streams: PushStreamSpan[];
}

/**
 * As decodeRecord, but a push record's streams come back as spans of `buf` (see entriesOfSpan), checked
 * through to their last byte: a record that would fail to decode fails here, before anything is applied.
 */
export function decodeRecordSpans(buf: Buffer): PushRecordSpans | CheckpointRecord {
  if (buf.length < 3 || buf[0] !== RECORD_PUSH) return decodeRecord(buf) as CheckpointRecord;
  let p = 1;
  const need = (n: number) => {
    if (p + n > buf.length) throw new WalRecordError(`record truncated at byte ${p} (needs ${n} more of ${buf.length})`);
  };
  const tlen = buf.readUInt16LE(p);
  p += 2;
  need(tlen);
  const tenant = buf.toString('utf8', p, p + tlen);
  p += tlen;
  need(4);
  const nStreams = buf.readUInt32LE(p);
  p += 4;
  const streams: PushStreamSpan[] = [];
  const metadata = new MetadataReader(buf);
  for (let s = 0; s < nStreams; s++) {
    need(4);
    const llen = buf.readUInt32LE(p);
    p += 4;
    need(llen + 4);
    const canonical = buf.toString('utf8', p, p + llen);
    p += llen;
    const count = buf.readUInt32LE(p);
    p += 4;
    const start = p;
    let ascending = true;
    let hasMetadata = false;
    // Timestamps compared as (signed high word, unsigned low word): no BigInt per entry.
    let prevHi = 0;
    let prevLo = 0;
    let last = start;
    for (let i = 0; i < count; i++) {
      need(12);
      const lo = buf.readUInt32LE(p);
      const hi = buf.readInt32LE(p + 4);
      if (i > 0 && !(hi > prevHi || (hi === prevHi && lo > prevLo))) ascending = false;
      prevHi = hi;
      prevLo = lo;
      last = p;
      const len = buf.readUInt32LE(p + 8);
      p += 12;
      need(len + 4);
      p += len;
      const mlen = buf.readUInt32LE(p);
      p += 4;
      if (mlen > 0) {
        need(mlen);
        hasMetadata = true;
        metadata.at(p, mlen);
        p += mlen;
      }
    }
    const firstTs = count > 0 ? buf.readBigInt64LE(start) : 0n;
    const lastTs = count > 0 ? buf.readBigInt64LE(last) : 0n;
    streams.push({ canonical, count, start, firstTs, lastTs, ascending, metadata: hasMetadata ? metadata : null });
  }
  return { type: RECORD_PUSH, tenant, buf, streams };
}

/** A span's entries as objects (lines are views into the record), for the cases the fast path does not take. */
export function entriesOfSpan(buf: Buffer, span: PushStreamSpan): IngestEntry[] {
  const metadata = span.metadata;
  const entries: IngestEntry[] = [];
  let p = span.start;
  for (let i = 0; i < span.count; i++) {
    const ts = buf.readBigInt64LE(p);
    const len = buf.readUInt32LE(p + 8);
    p += 12;
    const line = buf.subarray(p, p + len);
    p += len;
    const mlen = buf.readUInt32LE(p);
    p += 4;
    const e: IngestEntry = { ts, line };
    if (mlen > 0) {
      e.metadata = metadata!.at(p, mlen).metadata;
      p += mlen;
    }
    entries.push(e);
  }
  return entries;
}

/**
 * Reads the metadata JSON of a record's entries, parsing only when an entry's bytes differ from the entry
 * before: runs of entries sharing their metadata (detected_level, an OTLP resource's attributes) share one
 * frozen object and its size, instead of a JSON.parse and an object each.
 */
export class MetadataReader {
  private start = 0;
  private len = 0;
  private last: { metadata: Record<string, string>; bytes: number } | null = null;
  /** Distinct metadata met in this record, by their bytes (bounded: a record of all-different ones stays small). */
  private readonly seen = new Map<string, { metadata: Record<string, string>; bytes: number }>();

  constructor(private readonly buf: Buffer) {}

  at(p: number, len: number): { metadata: Record<string, string>; bytes: number } {
    const buf = this.buf;
    if (this.last && len === this.len) {
      // A byte loop: for a few dozen bytes, cheaper than Buffer#compare's argument checks.
      const q = this.start;
      let i = 0;
      while (i < len && buf[q + i] === buf[p + i]) i++;
      if (i === len) return this.last;
    }
    // Not the entry before's: maybe one seen earlier in the record (levels alternate).
    const key = buf.toString('latin1', p, p + len);
    let found = this.seen.get(key);
    if (!found) {
      const metadata = Object.freeze(JSON.parse(buf.toString('utf8', p, p + len)) as Record<string, string>);
      found = { metadata, bytes: metadataBytes(metadata) };
      if (this.seen.size < 64) this.seen.set(key, found);
    }
    this.start = p;
    this.len = len;
    this.last = found;
    return found;
  }
}
