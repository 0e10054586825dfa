/**
 * Turns one EntryBatch into one compressed block (the version 2 layout in chunk-format.ts). The ingester
 * calls this when it cuts a block, so memory holds compressed blocks and the chunk is later assembled
 * without recompressing.
 */
import { crc32 } from 'node:zlib';
import type { EntryBatch } from '../model/batch.js';
import { MAX_BLOCK_RAW_SIZE, V2_MAX_TS_UNIT_EXPONENT, V2_PREFIX_SIZE, V2_SEGMENT_HEADER_SIZE } from './chunk-format.js';
import { littleEndian } from './endian.js';
import { sizeMetadata, writeMetadata } from './metadata-column.js';
import { compress } from './zstd.js';

export interface EncodedBlock {
  minTs: bigint;
  maxTs: bigint;
  count: number;
  rawSize: number;
  /** The block's stored bytes, as they go into the chunk. */
  data: Buffer;
  /** CRC32 of `data`. */
  crc: number;
  hasMetadata: boolean;
}

const TWO_32 = 4294967296;
/** Deltas from here up have high words of 2^21 or more and are no longer exact as doubles. */
const SAFE_HI = 2 ** 21;
const POW10 = Array.from({ length: V2_MAX_TS_UNIT_EXPONENT + 1 }, (_, e) => 10 ** e);
/**
 * For inputs up to 256 KiB (a block's lines: the ingester cuts at 256 KB) zstd's level 3 picks 4-byte
 * minimum matches, which on log lines cost more in sequences than they save. 6 compressed the benchmark
 * logs' blocks 5.46× → 5.75× and decompressed faster. Higher levels keep zstd's own choice.
 */
const LINES_FAST_LEVEL = 3;
const LINES_MIN_MATCH = 6;
/** Blocks are ~256 KiB; scratch space of that order is kept between calls, never one sized by a rare huge block. */
const SCRATCH_KEEP_LIMIT = 4 * 1024 * 1024;

// The raw columns and the per-entry timestamp deltas (as 32-bit halves) are built in reused scratch:
// compress() copies its output, so nothing outlives the call.
let columnsScratch: Buffer = Buffer.alloc(0);
let deltaLo = new Uint32Array(0);
let deltaHi = new Uint32Array(0);

function fail(problem: string): never {
  throw new RangeError(`encodeBlock: ${problem}`);
}

function widthFor(max: number): number {
  return max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
}

/** Encodes `batch` (entries ascending by timestamp, at least one) as one compressed block. */
export function encodeBlock(batch: EntryBatch, level = 3): EncodedBlock {
  const { count, ts, lineOffsets, lines, metadata } = batch;
  if (!Number.isInteger(count) || count < 1) fail(`batch.count must be a positive integer, got ${count}`);
  if (ts.length < count) fail(`batch.ts has ${ts.length} timestamps for ${count} entries`);
  if (lineOffsets.length < count + 1) fail(`batch.lineOffsets has ${lineOffsets.length} offsets, ${count + 1} needed`);
  if (metadata && metadata.length < count) fail(`batch.metadata has ${metadata.length} entries for ${count} entries`);
  const firstOff = lineOffsets[0]!;
  const lastOff = lineOffsets[count]!;
  if (lastOff > lines.length) fail(`batch.lineOffsets[${count}] = ${lastOff} is past the end of batch.lines (${lines.length} bytes)`);
  const linesBytes = lastOff - firstOff;
  if (linesBytes < 0) fail('batch.lineOffsets are not ascending');

  // Pass 1: validate, take the deltas apart into 32-bit halves (no BigInt per entry), find the widths
  // and the largest power-of-ten unit that divides every delta.
  if (deltaLo.length < count) {
    const n = Math.max(count, 4096);
    deltaLo = new Uint32Array(n);
    deltaHi = new Uint32Array(n);
  }
  const dLo = deltaLo;
  const dHi = deltaHi;
  dLo[0] = 0;
  dHi[0] = 0;
  let exp = V2_MAX_TS_UNIT_EXPONENT;
  if (littleEndian()) {
    const words = new Uint32Array(ts.buffer, ts.byteOffset, count * 2);
    const hiWords = new Int32Array(ts.buffer, ts.byteOffset, count * 2);
    let prevLo = words[0]!;
    let prevHi = hiWords[1]!;
    for (let i = 1; i < count; i++) {
      const lo = words[2 * i]!;
      const hi = hiWords[2 * i + 1]!;
      // The sign of this double is exact even where its magnitude is rounded.
      if ((hi - prevHi) * TWO_32 + (lo - prevLo) < 0) unordered(ts, i);
      const l = (lo - prevLo) >>> 0;
      const h = hi - prevHi - (lo < prevLo ? 1 : 0);
      dLo[i] = l;
      dHi[i] = h;
      if (exp > 0) exp = unitExponent(exp, h, l);
      prevLo = lo;
      prevHi = hi;
    }
  } else {
    for (let i = 1; i < count; i++) {
      const d = ts[i]! - ts[i - 1]!;
      if (d < 0n) unordered(ts, i);
      const l = Number(d & 0xffffffffn);
      const h = Number(d >> 32n);
      dLo[i] = l;
      dHi[i] = h;
      if (exp > 0) exp = unitExponent(exp, h, l);
    }
  }
  // All-equal timestamps divide by anything; call their unit 1 ns.
  let maxLo = 0;
  let maxHi = 0;
  if (exp > 0) {
    const unit = POW10[exp]!;
    let any = false;
    for (let i = 1; i < count; i++) {
      const d = (dHi[i]! * TWO_32 + dLo[i]!) / unit;
      if (d === 0) continue;
      any = true;
      const h = Math.floor(d / TWO_32);
      dHi[i] = h;
      dLo[i] = d - h * TWO_32;
    }
    if (!any) exp = 0;
  }
  for (let i = 1; i < count; i++) {
    if (dLo[i]! > maxLo) maxLo = dLo[i]!;
    if (dHi[i]! > maxHi) maxHi = dHi[i]!;
  }
  const tsWidth = maxHi > 0 ? 8 : widthFor(maxLo);
  let maxLen = 0;
  for (let i = 0; i < count; i++) {
    const len = lineOffsets[i + 1]! - lineOffsets[i]!;
    if (len < 0) fail(`batch.lineOffsets descend at entry ${i}`);
    if (len > maxLen) maxLen = len;
  }
  const lenWidth = widthFor(maxLen);
  const meta = metadata ? sizeMetadata(metadata, count) : undefined;
  const metaBytes = meta ? meta.bytes : 0;
  const planesSize = count * (tsWidth + lenWidth);
  const columnsSize = planesSize + metaBytes;
  const rawSize = V2_PREFIX_SIZE + columnsSize + linesBytes;
  if (rawSize > MAX_BLOCK_RAW_SIZE) fail(`block would be ${rawSize} bytes raw; the limit is ${MAX_BLOCK_RAW_SIZE}`);

  // Pass 2: write the planes and the metadata column.
  let cols = columnsScratch;
  if (cols.length < columnsSize) {
    cols = Buffer.allocUnsafeSlow(Math.max(columnsSize, 64 * 1024));
    if (columnsSize <= SCRATCH_KEEP_LIMIT) columnsScratch = cols;
  }
  let p = 0;
  // Byte k of each value goes to plane k; storing into a Uint8Array keeps the low 8 bits.
  for (let k = 0; k < tsWidth; k++, p += count) {
    const src = k < 4 ? dLo : dHi;
    const shift = (k & 3) * 8;
    for (let i = 0; i < count; i++) cols[p + i] = src[i]! >>> shift;
  }
  for (let k = 0; k < lenWidth; k++, p += count) {
    const shift = k * 8;
    for (let i = 0; i < count; i++) cols[p + i] = (lineOffsets[i + 1]! - lineOffsets[i]!) >>> shift;
  }
  if (meta && metaBytes > 0) p = writeMetadata(cols, p, meta.pairs);
  if (p !== columnsSize) throw new Error(`encodeBlock: internal size mismatch (wrote ${p} of ${columnsSize} column bytes)`);

  // Each plane is compressed on its own: random low timestamp bytes then stay raw instead of spoiling
  // the statistics of the compressible planes.
  const segments: Uint8Array[] = [];
  for (let at = 0; at < planesSize; at += count) segments.push(squeeze(cols.subarray(at, at + count), level));
  if (metaBytes > 0) segments.push(squeeze(cols.subarray(planesSize, columnsSize), level));
  segments.push(squeeze(lines.subarray(firstOff, lastOff), level, level <= LINES_FAST_LEVEL ? LINES_MIN_MATCH : undefined));
  let storedSize = V2_PREFIX_SIZE;
  for (const s of segments) storedSize += V2_SEGMENT_HEADER_SIZE + s.length;

  const data = Buffer.allocUnsafeSlow(storedSize);
  data.writeUInt32LE(count, 0);
  data.writeUInt32LE(linesBytes, 4);
  data.writeUInt32LE(metaBytes, 8);
  data[12] = tsWidth;
  data[13] = lenWidth;
  data[14] = exp;
  data[15] = 0;
  let q = V2_PREFIX_SIZE;
  for (const s of segments) {
    data.writeUInt32LE(s.length, q);
    data.set(s, q + V2_SEGMENT_HEADER_SIZE);
    q += V2_SEGMENT_HEADER_SIZE + s.length;
  }
  return { minTs: ts[0]!, maxTs: ts[count - 1]!, count, rawSize, data, crc: crc32(data), hasMetadata: metaBytes > 0 };
}

/** A zstd frame of `raw` when that is strictly smaller, else `raw` itself: the reader tells them apart by size. */
function squeeze(raw: Uint8Array, level: number, minMatch?: number): Uint8Array {
  if (raw.length === 0) return raw;
  const c = compress(raw, level, minMatch);
  return c.length < raw.length ? c : raw;
}

/** Lowers `exp` until 10^exp divides the delta (h·2^32 + l); deltas not exact as doubles get 0. */
function unitExponent(exp: number, h: number, l: number): number {
  if (h >= SAFE_HI) return 0;
  const d = h * TWO_32 + l;
  while (exp > 0 && d % POW10[exp]! !== 0) exp--;
  return exp;
}

function unordered(ts: BigInt64Array, i: number): never {
  return fail(`batch.ts must ascend within a block, but entry ${i} (${ts[i]}) is before entry ${i - 1} (${ts[i - 1]})`);
}
