/**
 * A version 1 chunk writer, kept for tests only: the product writes version 2 and must still read
 * version 1 chunks written by earlier builds. It lays blocks out exactly as version 1 did (one zstd
 * frame of prefix, varint timestamp deltas, varint lengths, lines, metadata), and the committed fixture
 * in v1-compat.test.ts pins it to bytes an actual version 1 build produced.
 */
import { crc32 } from 'node:zlib';
import type { EntryBatch } from '../../src/model/batch.js';
import { BLOCK_PREFIX_SIZE, FORMAT_V1 } from '../../src/chunk/chunk-format.js';
import { writeChunkHeader } from '../../src/chunk/chunk-header.js';
import type { EncodedBlock } from '../../src/chunk/block-encode.js';
import { sizeMetadata, writeMetadata } from '../../src/chunk/metadata-column.js';
import { varintSize, varintSizeBig, writeVarint, writeVarintBig } from '../../src/chunk/varint.js';
import { compress } from '../../src/chunk/zstd.js';

export function encodeBlockV1(batch: EntryBatch, level = 3): EncodedBlock {
  const { count, ts, lineOffsets, lines, metadata } = batch;
  const deltas: bigint[] = [];
  let tsBytes = 0;
  for (let i = 0; i < count; i++) {
    const d = i === 0 ? 0n : ts[i]! - ts[i - 1]!;
    if (d < 0n) throw new RangeError(`v1 encoder: entry ${i} is out of order`);
    deltas.push(d);
    tsBytes += varintSizeBig(d);
  }
  let lenBytes = 0;
  for (let i = 0; i < count; i++) lenBytes += varintSize(lineOffsets[i + 1]! - lineOffsets[i]!);
  const linesBytes = lineOffsets[count]! - lineOffsets[0]!;
  // Version 1 wrote the column whenever the batch carried a metadata array: a pair count for every entry.
  const meta = metadata ? sizeMetadata(metadata, count) : undefined;
  const metaBytes = meta ? (meta.bytes > 0 ? meta.bytes : count) : 0;
  const rawSize = BLOCK_PREFIX_SIZE + tsBytes + lenBytes + linesBytes + metaBytes;
  const raw = Buffer.alloc(rawSize);
  raw.writeUInt32LE(count, 0);
  raw.writeUInt32LE(tsBytes, 4);
  raw.writeUInt32LE(lenBytes, 8);
  raw.writeUInt32LE(linesBytes, 12);
  raw.writeUInt32LE(metaBytes, 16);
  let p = BLOCK_PREFIX_SIZE;
  for (const d of deltas) p = writeVarintBig(raw, p, d);
  for (let i = 0; i < count; i++) p = writeVarint(raw, p, lineOffsets[i + 1]! - lineOffsets[i]!);
  p += lines.copy(raw, p, lineOffsets[0]!, lineOffsets[count]!);
  if (meta) p = writeMetadata(raw, p, meta.pairs);
  if (p !== rawSize) throw new Error(`v1 encoder: wrote ${p} of ${rawSize} bytes`);
  const data = compress(raw, level);
  return { minTs: ts[0]!, maxTs: ts[count - 1]!, count, rawSize, data, crc: crc32(data), hasMetadata: metaBytes > 0 };
}

/** Lays version 1 blocks out as a version 1 chunk (the header layout is shared; only the version byte differs). */
export function assembleChunkV1(blocks: EncodedBlock[]): Buffer {
  const header = writeChunkHeader(blocks.map((b) => ({ ...b, compressedSize: b.data.length })));
  header[4] = FORMAT_V1;
  header.writeUInt32LE(crc32(header.subarray(0, header.length - 4)), header.length - 4);
  return Buffer.concat([header, ...blocks.map((b) => b.data)]);
}

export function encodeChunkV1(batches: EntryBatch[], level = 3): Buffer {
  return assembleChunkV1(batches.map((b) => encodeBlockV1(b, level)));
}
