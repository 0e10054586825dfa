/**
 * Turns one EntryBatch into one compressed block. The ingester calls this when it cuts a block, so
 * memory holds compressed blocks and the chunk is later assembled without recompressing.
 */
import { crc32 } from 'node:zlib';
import type { EntryBatch } from '../model/batch.js';
import { BLOCK_PREFIX_SIZE, MAX_BLOCK_RAW_SIZE } from './chunk-format.js';
import { littleEndian } from './endian.js';
import { varintSize, varintSizeBig, writeVarint, writeVarintBig } from './varint.js';
import { compress } from './zstd.js';

export interface EncodedBlock {
  minTs: bigint;
  maxTs: bigint;
  count: number;
  rawSize: number;
  /** The block's zstd frame. */
  data: Buffer;
  /** CRC32 of `data`. */
  crc: number;
  hasMetadata: boolean;
}

const TWO_32 = 4294967296;
/** Deltas below this are exact as numbers; larger ones (blocks spanning > ~104 days) use BigInt. */
const SAFE_DELTA = 2 ** 52;

// The raw (uncompressed) block is built in a reused buffer: compress() copies its output, so nothing
// outlives the call and per-block allocations stay at one compressed buffer.
let scratch: Buffer = Buffer.alloc(0);

function fail(problem: string): never {
  throw new RangeError(`encodeBlock: ${problem}`);
}

function metadataPairs(m: Record<string, string> | null | undefined): [string, string][] | null {
  if (!m) return null;
  const pairs = Object.entries(m);
  return pairs.length > 0 ? pairs : null;
}

/** Encodes `batch` (entries ascending by timestamp, at least one) as one zstd-compressed block. */
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

  // Pass 1: validate order and size every column exactly.
  const minTs = ts[0]!;
  const maxTs = ts[count - 1]!;
  let tsBytes = 0;
  const le = littleEndian();
  const words = le ? new Uint32Array(ts.buffer, ts.byteOffset, count * 2) : undefined;
  const hiWords = le ? new Int32Array(ts.buffer, ts.byteOffset, count * 2) : undefined;
  const deltas = new Float64Array(count);
  let bigDeltas: Map<number, bigint> | undefined;
  let prevLo = 0;
  let prevHi = 0;
  for (let i = 0; i < count; i++) {
    let d: number;
    if (words) {
      const lo = words[2 * i]!;
      const hi = hiWords![2 * i + 1]!;
      d = i === 0 ? 0 : (hi - prevHi) * TWO_32 + (lo - prevLo);
      prevLo = lo;
      prevHi = hi;
    } else {
      d = i === 0 ? 0 : Number(ts[i]! - ts[i - 1]!);
    }
    if (d < 0) fail(`batch.ts must ascend within a block, but entry ${i} (${ts[i]}) is before entry ${i - 1} (${ts[i - 1]})`);
    if (d >= SAFE_DELTA) {
      const big = ts[i]! - ts[i - 1]!;
      (bigDeltas ??= new Map()).set(i, big);
      tsBytes += varintSizeBig(big);
    } else {
      tsBytes += varintSize(d);
    }
    deltas[i] = d;
  }
  let lenBytes = 0;
  for (let i = 0; i < count; i++) {
    const len = lineOffsets[i + 1]! - lineOffsets[i]!;
    if (len < 0) fail(`batch.lineOffsets descend at entry ${i}`);
    lenBytes += varintSize(len);
  }
  let metaBytes = 0;
  let metaPairs: ([string, string][] | null)[] | undefined;
  if (metadata) {
    metaPairs = new Array(count);
    for (let i = 0; i < count; i++) {
      const pairs = metadataPairs(metadata[i]);
      metaPairs[i] = pairs;
      metaBytes += varintSize(pairs ? pairs.length : 0);
      if (pairs) {
        for (const [k, v] of pairs) {
          if (typeof v !== 'string') fail(`metadata value for "${k}" at entry ${i} must be a string, got ${typeof v}`);
          const kl = Buffer.byteLength(k, 'utf8');
          const vl = Buffer.byteLength(v, 'utf8');
          metaBytes += varintSize(kl) + kl + varintSize(vl) + vl;
        }
      }
    }
  }
  const rawSize = BLOCK_PREFIX_SIZE + tsBytes + lenBytes + linesBytes + metaBytes;
  if (rawSize > MAX_BLOCK_RAW_SIZE) fail(`block would be ${rawSize} bytes raw; the limit is ${MAX_BLOCK_RAW_SIZE}`);

  // Pass 2: write the raw block.
  let raw = scratch;
  if (raw.length < rawSize) {
    raw = Buffer.allocUnsafeSlow(Math.max(rawSize, 512 * 1024));
    // Blocks are ~256 KiB; only keep a scratch of that order, never one sized by a rare huge block.
    if (rawSize <= 4 * 1024 * 1024) scratch = raw;
  }
  raw.writeUInt32LE(count, 0);
  raw.writeUInt32LE(tsBytes, 4);
  raw.writeUInt32LE(lenBytes, 8);
  raw.writeUInt32LE(linesBytes, 12);
  raw.writeUInt32LE(metaBytes, 16);
  let p = BLOCK_PREFIX_SIZE;
  for (let i = 0; i < count; i++) {
    const big = bigDeltas?.get(i);
    p = big === undefined ? writeVarint(raw, p, deltas[i]!) : writeVarintBig(raw, p, big);
  }
  for (let i = 0; i < count; i++) p = writeVarint(raw, p, lineOffsets[i + 1]! - lineOffsets[i]!);
  p += lines.copy(raw, p, firstOff, lastOff);
  if (metaPairs) {
    for (let i = 0; i < count; i++) {
      const pairs = metaPairs[i];
      p = writeVarint(raw, p, pairs ? pairs.length : 0);
      if (!pairs) continue;
      for (const [k, v] of pairs) {
        const kl = Buffer.byteLength(k, 'utf8');
        p = writeVarint(raw, p, kl);
        p += raw.write(k, p, kl, 'utf8');
        const vl = Buffer.byteLength(v, 'utf8');
        p = writeVarint(raw, p, vl);
        p += raw.write(v, p, vl, 'utf8');
      }
    }
  }
  if (p !== rawSize) throw new Error(`encodeBlock: internal size mismatch (wrote ${p} of ${rawSize} bytes)`);

  const data = compress(raw.subarray(0, rawSize), level);
  return { minTs, maxTs, count, rawSize, data, crc: crc32(data), hasMetadata: metaBytes > 0 };
}
