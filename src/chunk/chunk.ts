/**
 * The chunk codec's public face. Writers: `encodeBlock` each batch as it is cut, `assembleChunk` at
 * flush (or `encodeChunk` for both at once). Readers: `readChunkHeader`, pick blocks with
 * `blocksOverlapping`, then `decodeBlock` only those.
 */
import type { EntryBatch } from '../model/batch.js';
import { decodeBlockBytes } from './block-decode.js';
import { encodeBlock, type EncodedBlock } from './block-encode.js';
import { ChunkCorruptError } from './chunk-error.js';
import type { ChunkHeader } from './chunk-format.js';
import { readChunkHeader, writeChunkHeader } from './chunk-header.js';

export { ChunkCorruptError } from './chunk-error.js';
export { HEADER_PREFIX_SIZE, type BlockInfo, type ChunkHeader } from './chunk-format.js';
export { chunkHeaderSize, readChunkHeader } from './chunk-header.js';
export { encodeBlock, type EncodedBlock } from './block-encode.js';
export { decodeBlockBytes, storedLineBytes } from './block-decode.js';

/** Lays already-compressed blocks out as one chunk object: header, then the blocks in the given order. */
export function assembleChunk(blocks: EncodedBlock[]): Buffer {
  if (blocks.length === 0) throw new RangeError('assembleChunk: a chunk needs at least one block');
  const header = writeChunkHeader(blocks.map((b) => ({ ...b, compressedSize: b.data.length })));
  return Buffer.concat([header, ...blocks.map((b) => b.data)]);
}

/** Encodes each batch as one block and assembles the chunk. */
export function encodeChunk(batches: EntryBatch[], level = 3): Buffer {
  return assembleChunk(batches.map((b) => encodeBlock(b, level)));
}

/** Decodes block `index` of a whole chunk `buf` whose header was read with readChunkHeader. */
export function decodeBlock(buf: Buffer, header: ChunkHeader, index: number, id: string): EntryBatch {
  const info = header.blocks[index];
  if (!info) throw new RangeError(`decodeBlock: block index ${index} is out of range (chunk ${id} has ${header.blocks.length} blocks)`);
  if (info.offset + info.compressedSize > buf.length) {
    throw new ChunkCorruptError(id, `truncated: block needs bytes up to ${info.offset + info.compressedSize}, object has ${buf.length}`, index);
  }
  return decodeBlockBytes(buf.subarray(info.offset, info.offset + info.compressedSize), info, id, index);
}

/** Decodes every block of a chunk, in table order. */
export function decodeChunk(buf: Buffer, id: string): EntryBatch[] {
  const header = readChunkHeader(buf, id);
  return header.blocks.map((_, i) => decodeBlock(buf, header, i, id));
}

/**
 * Indices of the blocks that may hold entries in `[from, through)` (nanoseconds, end exclusive, as a
 * query range is), judged by the block table alone.
 */
export function blocksOverlapping(header: ChunkHeader, from: bigint, through: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < header.blocks.length; i++) {
    const b = header.blocks[i]!;
    if (b.maxTs >= from && b.minTs < through) out.push(i);
  }
  return out;
}
