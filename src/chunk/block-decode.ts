/**
 * Decodes one stored block back into an EntryBatch: checks the bytes against the table (size, CRC),
 * then hands them to the decoder of the block's format version. This is the query hot path.
 */
import { crc32 } from 'node:zlib';
import type { EntryBatch } from '../model/batch.js';
import { decodeBlockV1 } from './block-decode-v1.js';
import { decodeBlockV2 } from './block-decode-v2.js';
import { ChunkCorruptError } from './chunk-error.js';
import { FORMAT_V1, FORMAT_VERSION, type BlockInfo } from './chunk-format.js';

/**
 * Decodes a block from its stored bytes and its row of the block table. `id` and `index` only name
 * the block in errors. Use this directly when the block was fetched by a range read.
 */
export function decodeBlockBytes(compressed: Uint8Array, info: BlockInfo, id: string, index: number): EntryBatch {
  const corrupt = (problem: string): never => {
    throw new ChunkCorruptError(id, problem, index);
  };
  if (compressed.length !== info.compressedSize) {
    corrupt(`expected ${info.compressedSize} compressed bytes, got ${compressed.length} (truncated?)`);
  }
  const crc = crc32(compressed);
  if (crc !== info.crc) corrupt(`checksum mismatch: stored ${hex(info.crc)}, computed ${hex(crc)}`);
  const version = info.version ?? FORMAT_VERSION;
  if (version === FORMAT_VERSION) return decodeBlockV2(compressed, info, corrupt);
  if (version === FORMAT_V1) return decodeBlockV1(compressed, info, corrupt);
  return corrupt(`unknown block format version ${version}`);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
