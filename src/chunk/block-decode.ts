/**
 * Decodes one stored block back into an EntryBatch: checks the bytes against the table (size, CRC),
 * then hands them to the decoder of the block's format version. This is the query hot path.
 */
import { crc32 } from 'node:zlib';
import type { EntryBatch } from '../model/batch.js';
import { decodeBlockV1 } from './block-decode-v1.js';
import { blockLinesV2, decodeBlockV2 } from './block-decode-v2.js';
import { ChunkCorruptError } from './chunk-error.js';
import { FORMAT_V1, FORMAT_VERSION, V2_PREFIX_SIZE, type BlockInfo } from './chunk-format.js';

/**
 * Decodes a block from its stored bytes and its row of the block table. `id` and `index` only name
 * the block in errors. Use this directly when the block was fetched by a range read.
 */
export function decodeBlockBytes(compressed: Uint8Array, info: BlockInfo, id: string, index: number, lines?: Buffer): EntryBatch {
  const corrupt = (problem: string): never => {
    throw new ChunkCorruptError(id, problem, index);
  };
  const version = info.version ?? FORMAT_VERSION;
  // Lines from peekBlockLines come from bytes whose size and CRC were just checked.
  if (lines && version === FORMAT_VERSION) return decodeBlockV2(compressed, info, corrupt, lines);
  checkStored(compressed, info, corrupt);
  if (version === FORMAT_VERSION) return decodeBlockV2(compressed, info, corrupt);
  if (version === FORMAT_V1) return decodeBlockV1(compressed, info, corrupt);
  return corrupt(`unknown block format version ${version}`);
}

function checkStored(compressed: Uint8Array, info: BlockInfo, corrupt: (problem: string) => never): void {
  if (compressed.length !== info.compressedSize) {
    corrupt(`expected ${info.compressedSize} compressed bytes, got ${compressed.length} (truncated?)`);
  }
  const crc = crc32(compressed);
  if (crc !== info.crc) corrupt(`checksum mismatch: stored ${hex(info.crc)}, computed ${hex(crc)}`);
}

let scratch: Buffer = Buffer.alloc(0);
const SCRATCH_KEEP_LIMIT = 4 * 1024 * 1024;

function scratchOf(size: number): Buffer {
  if (scratch.length >= size) return scratch.subarray(0, size);
  const b = Buffer.allocUnsafeSlow(Math.max(size, 256 * 1024));
  if (size <= SCRATCH_KEEP_LIMIT) scratch = b;
  return b.subarray(0, size);
}

/**
 * A look at a block's line bytes alone, for deciding whether to decode it at all (a literal line filter
 * that the block cannot match). Checks size and CRC; the bytes land in a scratch buffer that the next call
 * overwrites, so a block that is dropped allocates nothing. Null for version 1 blocks, whose lines are not
 * stored apart: decode those whole. To keep the block, pass `Buffer.from(peeked)` to decodeBlockBytes.
 */
export function peekBlockLines(compressed: Uint8Array, info: BlockInfo, id: string, index: number): Buffer | null {
  const version = info.version ?? FORMAT_VERSION;
  if (version !== FORMAT_VERSION) return null;
  const corrupt = (problem: string): never => {
    throw new ChunkCorruptError(id, problem, index);
  };
  checkStored(compressed, info, corrupt);
  return blockLinesV2(compressed, info, corrupt, scratchOf);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * Bytes of the lines a stored block holds, read from its fixed prefix without decompressing: what a
 * stream's size statistics need from blocks still in memory. Null for version 1 blocks (never kept in
 * memory), whose prefix is compressed.
 */
export function storedLineBytes(compressed: Uint8Array, info: Pick<BlockInfo, 'version'>): number | null {
  if ((info.version ?? FORMAT_VERSION) !== FORMAT_VERSION || compressed.length < V2_PREFIX_SIZE) return null;
  return new DataView(compressed.buffer, compressed.byteOffset, compressed.byteLength).getUint32(4, true);
}
