/**
 * Decodes a version 2 block (layout in chunk-format.ts). The planes and the metadata column land in one
 * reused scratch buffer, parsed and dropped; the line bytes decompress straight into the buffer the
 * batch keeps. Timestamps are summed from their planes as 32-bit words, with no BigInt per entry. Every
 * stored size is checked before it is trusted; anything inconsistent goes to `corrupt`.
 */
import type { EntryBatch } from '../model/batch.js';
import { V2_LEN_WIDTHS, V2_MAX_TS_UNIT_EXPONENT, V2_PREFIX_SIZE, V2_SEGMENT_HEADER_SIZE, V2_TS_WIDTHS, type BlockInfo } from './chunk-format.js';
import { littleEndian } from './endian.js';
import { decodeMetadata } from './metadata-column.js';
import { decompress, decompressInto } from './zstd.js';
import { checkTimestampBounds } from './timestamp-bounds.js';

const TWO_24 = 16777216;
const TWO_32 = 4294967296;
const SCRATCH_KEEP_LIMIT = 4 * 1024 * 1024;

let scratch: Buffer = Buffer.alloc(0);

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * TWO_24;
}

/** `stored` has already been checked against the table's size and CRC. */
export function decodeBlockV2(stored: Uint8Array, info: BlockInfo, corrupt: (problem: string) => never, decodedLines?: Buffer): EntryBatch {
  const count = info.count;
  if (stored.length < V2_PREFIX_SIZE) corrupt(`block is ${stored.length} bytes, shorter than its ${V2_PREFIX_SIZE}-byte prefix`);
  const storedCount = u32(stored, 0);
  if (storedCount !== count) corrupt(`block holds ${storedCount} entries but the block table says ${count}`);
  const linesBytes = u32(stored, 4);
  const metaBytes = u32(stored, 8);
  const tsWidth = stored[12]!;
  if (!V2_TS_WIDTHS.includes(tsWidth)) corrupt(`timestamp width byte ${tsWidth} is invalid (allowed: ${V2_TS_WIDTHS.join(', ')})`);
  const lenWidth = stored[13]!;
  if (!V2_LEN_WIDTHS.includes(lenWidth)) corrupt(`line length width byte ${lenWidth} is invalid (allowed: ${V2_LEN_WIDTHS.join(', ')})`);
  const exp = stored[14]!;
  if (exp > V2_MAX_TS_UNIT_EXPONENT) corrupt(`timestamp unit exponent ${exp} is invalid (allowed: 0 to ${V2_MAX_TS_UNIT_EXPONENT})`);
  if (stored[15] !== 0) corrupt('reserved block byte is not zero');
  const planesSize = count * (tsWidth + lenWidth);
  const columnsSize = planesSize + metaBytes;
  if (V2_PREFIX_SIZE + columnsSize + linesBytes !== info.rawSize) {
    corrupt(`block sizes (${count} entries at widths ${tsWidth} and ${lenWidth}, metadata ${metaBytes}, lines ${linesBytes}) do not add up to the raw size ${info.rawSize}`);
  }
  if ((metaBytes > 0) !== info.hasMetadata) corrupt('metadata column presence disagrees with the block table');

  let cols = scratch;
  if (cols.length < columnsSize) {
    cols = Buffer.allocUnsafeSlow(Math.max(columnsSize, 64 * 1024));
    if (columnsSize <= SCRATCH_KEEP_LIMIT) scratch = cols;
  }
  // Walks the segments: each is stored raw when its stored size equals its size, else as a zstd frame.
  let p = V2_PREFIX_SIZE;
  const segment = (size: number, what: string): Uint8Array => {
    if (p + V2_SEGMENT_HEADER_SIZE > stored.length) corrupt(`${what} is missing: the block ends at byte ${stored.length}`);
    const s = u32(stored, p);
    p += V2_SEGMENT_HEADER_SIZE;
    if (p + s > stored.length) corrupt(`${what} of ${s} stored bytes overruns the block (${stored.length - p} bytes left)`);
    if (s > size) corrupt(`${what} is stored in ${s} bytes, more than its ${size}`);
    const part = stored.subarray(p, p + s);
    p += s;
    return part;
  };
  const column = (at: number, size: number, what: string): void => {
    const part = segment(size, what);
    if (part.length === size) {
      cols.set(part, at);
      return;
    }
    try {
      decompressInto(part, cols.subarray(at, at + size));
    } catch (err) {
      corrupt(`zstd decompression of ${what} failed: ${(err as Error).message}`);
    }
  };
  for (let k = 0; k < tsWidth; k++) column(k * count, count, `timestamp plane ${k}`);
  for (let k = 0; k < lenWidth; k++) column((tsWidth + k) * count, count, `line length plane ${k}`);
  if (metaBytes > 0) column(planesSize, metaBytes, 'the metadata column');

  const ts = decodeTimestamps(cols, tsWidth, exp, count, info, corrupt);
  const lineOffsets = new Uint32Array(count + 1);
  const sum = decodeLengths(cols, tsWidth * count, lenWidth, count, lineOffsets);
  // Lengths are never negative, so a sum that lands exactly on the line bytes bounds every offset.
  if (sum !== linesBytes) corrupt(`line lengths add up to ${sum} bytes, but the block holds ${linesBytes}`);
  const metadata = metaBytes > 0 ? decodeMetadata(cols, planesSize, columnsSize, count, corrupt) : undefined;

  const part = segment(linesBytes, 'the lines');
  if (p !== stored.length) corrupt(`${stored.length - p} unexpected bytes after the lines`);
  let lines: Buffer;
  if (decodedLines) {
    // The caller already decompressed this very segment (see blockLinesV2).
    if (decodedLines.length !== linesBytes) corrupt(`decoded lines are ${decodedLines.length} bytes, the block holds ${linesBytes}`);
    lines = decodedLines;
  } else if (part.length === linesBytes) {
    // A copy, so the batch does not pin the whole chunk buffer it came from.
    lines = Buffer.allocUnsafeSlow(linesBytes);
    lines.set(part);
  } else {
    try {
      lines = decompress(part, linesBytes);
    } catch (err) {
      return corrupt(`zstd decompression of the lines failed: ${(err as Error).message}`);
    }
  }

  const batch: EntryBatch = { count, ts, lineOffsets, lines };
  if (metadata) batch.metadata = metadata;
  return batch;
}

function decodeTimestamps(
  cols: Uint8Array,
  width: number,
  exp: number,
  count: number,
  info: BlockInfo,
  corrupt: (problem: string) => never,
): BigInt64Array {
  const ts = new BigInt64Array(count);
  const le = littleEndian();
  const words = new Uint32Array(ts.buffer);
  const unit = 10 ** exp;
  let lo = Number(BigInt.asUintN(32, info.minTs));
  let hi = Number(BigInt.asIntN(32, info.minTs >> 32n));
  const p1 = count;
  const p2 = p1 + count;
  const p3 = p2 + count;
  const p4 = p3 + count;
  const p5 = p4 + count;
  const p6 = p5 + count;
  const p7 = p6 + count;
  // Width and unit are fixed for the block, so these branches are perfectly predicted.
  for (let i = 0; i < count; i++) {
    let dl = cols[i]!;
    let dh = 0;
    if (width > 1) {
      dl |= cols[p1 + i]! << 8;
      if (width > 2) {
        dl = (dl | (cols[p2 + i]! << 16)) + cols[p3 + i]! * TWO_24;
        if (width > 4) dh = (cols[p4 + i]! | (cols[p5 + i]! << 8) | (cols[p6 + i]! << 16)) + cols[p7 + i]! * TWO_24;
      }
    }
    if (unit !== 1) {
      // The writer only scales deltas that are exact as doubles; a product past that is corrupt.
      const d = (dh * TWO_32 + dl) * unit;
      if (d > Number.MAX_SAFE_INTEGER) corrupt(`timestamp delta of entry ${i} overflows`);
      dh = Math.floor(d / TWO_32);
      dl = d - dh * TWO_32;
    }
    lo += dl;
    hi += dh;
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
  checkTimestampBounds(ts, info, corrupt);
  return ts;
}

/** Fills `offsets[1..count]` with running sums of the lengths; returns the exact total (which may pass 32 bits). */
function decodeLengths(cols: Uint8Array, at: number, width: number, count: number, offsets: Uint32Array): number {
  const p1 = at + count;
  const p2 = p1 + count;
  const p3 = p2 + count;
  let off = 0;
  if (width === 1) {
    for (let i = 0; i < count; i++) offsets[i + 1] = off += cols[at + i]!;
  } else if (width === 2) {
    for (let i = 0; i < count; i++) offsets[i + 1] = off += cols[at + i]! | (cols[p1 + i]! << 8);
  } else {
    for (let i = 0; i < count; i++) offsets[i + 1] = off += (cols[at + i]! | (cols[p1 + i]! << 8) | (cols[p2 + i]! << 16)) + cols[p3 + i]! * TWO_24;
  }
  return off;
}

/**
 * Only the line bytes of a version 2 block, decompressed into `into(size)`, without touching the column
 * planes: a block that a line filter rules out never pays for its timestamps and lengths. The column
 * segments are skipped by their stored sizes. Returns the filled buffer.
 */
export function blockLinesV2(stored: Uint8Array, info: BlockInfo, corrupt: (problem: string) => never, into: (size: number) => Buffer): Buffer {
  const count = info.count;
  if (stored.length < V2_PREFIX_SIZE) corrupt(`block is ${stored.length} bytes, shorter than its ${V2_PREFIX_SIZE}-byte prefix`);
  const linesBytes = u32(stored, 4);
  const metaBytes = u32(stored, 8);
  const tsWidth = stored[12]!;
  const lenWidth = stored[13]!;
  if (!V2_TS_WIDTHS.includes(tsWidth) || !V2_LEN_WIDTHS.includes(lenWidth)) corrupt(`column widths ${tsWidth} and ${lenWidth} are invalid`);
  if (V2_PREFIX_SIZE + count * (tsWidth + lenWidth) + metaBytes + linesBytes !== info.rawSize) corrupt(`block sizes do not add up to the raw size ${info.rawSize}`);
  let p = V2_PREFIX_SIZE;
  const segments = tsWidth + lenWidth + (metaBytes > 0 ? 1 : 0);
  for (let k = 0; k <= segments; k++) {
    if (p + V2_SEGMENT_HEADER_SIZE > stored.length) corrupt(`segment ${k} is missing: the block ends at byte ${stored.length}`);
    const s = u32(stored, p);
    p += V2_SEGMENT_HEADER_SIZE;
    if (p + s > stored.length) corrupt(`segment ${k} of ${s} stored bytes overruns the block (${stored.length - p} bytes left)`);
    if (k < segments) {
      p += s;
      continue;
    }
    if (p + s !== stored.length) corrupt(`${stored.length - p - s} unexpected bytes after the lines`);
    if (s > linesBytes) corrupt(`the lines are stored in ${s} bytes, more than their ${linesBytes}`);
    const part = stored.subarray(p, p + s);
    const out = into(linesBytes);
    if (s === linesBytes) out.set(part);
    else {
      try {
        decompressInto(part, out);
      } catch (err) {
        corrupt(`zstd decompression of the lines failed: ${(err as Error).message}`);
      }
    }
    return out;
  }
  return corrupt('unreachable');
}
