/**
 * Decodes a version 1 block (one zstd frame of prefix, varint columns, line bytes and metadata), so
 * chunks written before version 2 stay readable. After zstd the work is one pass over the timestamp
 * varints (written as 32-bit words, no BigInt per entry), one pass over the length varints straight into
 * `lineOffsets`, and `lines` is a view of the decompressed buffer. Every stored length is checked before
 * it is trusted.
 */
import type { EntryBatch } from '../model/batch.js';
import { BLOCK_PREFIX_SIZE, type BlockInfo } from './chunk-format.js';
import { littleEndian } from './endian.js';
import { decodeMetadata } from './metadata-column.js';
import { readVarintBig } from './varint.js';
import { decompress } from './zstd.js';
import { checkTimestampBounds } from './timestamp-bounds.js';

const TWO_32 = 4294967296;
const INT64_MAX = 0x7fffffffffffffffn;

/** `compressed` has already been checked against the table's size and CRC. */
export function decodeBlockV1(compressed: Uint8Array, info: BlockInfo, corrupt: (problem: string) => never): EntryBatch {
  let raw: Buffer;
  try {
    raw = decompress(compressed, info.rawSize);
  } catch (err) {
    return corrupt(`zstd decompression failed: ${(err as Error).message}`);
  }

  const count = info.count;
  if (raw.length < BLOCK_PREFIX_SIZE) corrupt(`raw block is ${raw.length} bytes, shorter than its ${BLOCK_PREFIX_SIZE}-byte prefix`);
  const storedCount = raw.readUInt32LE(0);
  if (storedCount !== count) corrupt(`block holds ${storedCount} entries but the block table says ${count}`);
  const tsBytes = raw.readUInt32LE(4);
  const lenBytes = raw.readUInt32LE(8);
  const linesBytes = raw.readUInt32LE(12);
  const metaBytes = raw.readUInt32LE(16);
  const columns = BLOCK_PREFIX_SIZE + tsBytes + lenBytes + linesBytes + metaBytes;
  if (columns !== raw.length) {
    corrupt(`column sizes (timestamps ${tsBytes}, lengths ${lenBytes}, lines ${linesBytes}, metadata ${metaBytes}) do not add up to the raw size ${raw.length}`);
  }
  if ((metaBytes > 0) !== info.hasMetadata) corrupt('metadata column presence disagrees with the block table');

  const tsStart = BLOCK_PREFIX_SIZE;
  const ts = decodeTimestamps(raw, tsStart, tsStart + tsBytes, count, info, corrupt);

  // Line lengths become running offsets in place; the sum must land exactly on the line bytes size.
  const lineOffsets = new Uint32Array(count + 1);
  const lenEnd = tsStart + tsBytes + lenBytes;
  let p = tsStart + tsBytes;
  let off = 0;
  for (let i = 0; i < count; i++) {
    // Same unrolled varint read as the timestamps; lengths past 4 bytes (256 MiB) are corrupt anyway.
    let b = raw[p++]!;
    let len = b & 127;
    if (b & 128) {
      b = raw[p++]!;
      len |= (b & 127) << 7;
      if (b & 128) {
        b = raw[p++]!;
        len |= (b & 127) << 14;
        if (b & 128) {
          b = raw[p++]!;
          len |= (b & 127) << 21;
          if (b & 128) corrupt(`line length of entry ${i} is malformed`);
        }
      }
    }
    off += len;
    if (off > linesBytes) corrupt(`line lengths overrun the ${linesBytes} bytes of lines at entry ${i}`);
    lineOffsets[i + 1] = off;
  }
  if (p !== lenEnd) corrupt(p > lenEnd ? `line-length column overruns its ${lenBytes} bytes` : `line-length column has ${lenEnd - p} bytes left over`);
  if (off !== linesBytes) corrupt(`line lengths add up to ${off} bytes, but the block holds ${linesBytes}`);

  const batch: EntryBatch = { count, ts, lineOffsets, lines: raw.subarray(lenEnd, lenEnd + linesBytes) };
  if (metaBytes > 0) batch.metadata = decodeMetadata(raw, lenEnd + linesBytes, raw.length, count, corrupt);
  return batch;
}

function decodeTimestamps(
  raw: Buffer,
  start: number,
  end: number,
  count: number,
  info: BlockInfo,
  corrupt: (problem: string) => never,
): BigInt64Array {
  const ts = new BigInt64Array(count);
  const le = littleEndian();
  const words = new Uint32Array(ts.buffer);
  let lo = Number(BigInt.asUintN(32, info.minTs));
  let hi = Number(BigInt.asIntN(32, info.minTs >> 32n));
  // Varint reads are unrolled for the common 1–4 byte deltas (pure int32 math) and do not bounds-check
  // each byte: a varint that runs past the column only reads further inside `raw` (or undefined, which
  // ends it), and the final position check turns any overrun into a ChunkCorruptError.
  let p = start;
  for (let i = 0; i < count; i++) {
    let b = raw[p++]!;
    let d = b & 127;
    if (b & 128) {
      b = raw[p++]!;
      d |= (b & 127) << 7;
      if (b & 128) {
        b = raw[p++]!;
        d |= (b & 127) << 14;
        if (b & 128) {
          b = raw[p++]!;
          d |= (b & 127) << 21;
          if (b & 128) {
            // 5+ bytes: deltas of 2^28 ns (~0.27 s) or more. Finish in floating point up to 49 bits,
            // beyond that redo the whole varint exactly with BigInt.
            let mul = 2 ** 28;
            const varStart = p - 4;
            do {
              if (p >= end) corrupt(`timestamp of entry ${i} is an unterminated varint`);
              if (mul >= 2 ** 49) break;
              b = raw[p++]!;
              d += (b & 127) * mul;
              mul *= 128;
            } while (b & 128);
            if (b & 128) {
              const r = readVarintBig(raw, varStart, end);
              if (!r) return corrupt(`timestamp of entry ${i} is a malformed varint`);
              const cur = ((BigInt(hi) << 32n) | BigInt(lo)) + r.value;
              if (cur > INT64_MAX) corrupt(`timestamp of entry ${i} overflows 64 bits`);
              lo = Number(BigInt.asUintN(32, cur));
              hi = Number(BigInt.asIntN(32, cur >> 32n));
              p = r.next;
              d = 0;
            }
          }
        }
      }
    }
    if (d >= TWO_32) {
      const dh = Math.floor(d / TWO_32);
      lo += d - dh * TWO_32;
      hi += dh;
    } else {
      lo += d;
    }
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    }
    if (hi > 0x7fffffff) corrupt(`timestamp of entry ${i} overflows 64 bits`);
    if (le) {
      words[2 * i] = lo;
      words[2 * i + 1] = hi;
    } else {
      ts[i] = (BigInt(hi) << 32n) | BigInt(lo);
    }
  }
  if (p !== end) corrupt(p > end ? `timestamp column overruns its ${end - start} bytes` : `timestamp column has ${end - p} bytes left over`);
  checkTimestampBounds(ts, info, corrupt);
  return ts;
}
